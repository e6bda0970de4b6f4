/**
 * Texts → tokens → PLT (cached, resumable) → mask probabilities. Shared by `score` (which writes
 * them out) and `train` (which masks with them).
 */
import type { GpuContext } from "../gpu/context.ts";
import type { L3Tokenizer } from "../io/tokenizer.ts";
import { type Complement, maskProbabilities, type Overflow } from "../mask/mplt.ts";
import type { LoadedModel } from "../model/weights.ts";
import { Progress } from "../util/progress.ts";
import { modelFingerprint, PltCache, sha256Hex } from "./cache.ts";
import { PltScorer, type TokenizedText } from "./scorer.ts";

export interface PltOptions {
  maxLength: number;
  budgetTokens: number;
  cacheDir: string;
  /** Show progress on stderr. */
  progress?: boolean;
}

export interface TextScore {
  tokens: string[];
  ids: number[];
  word: (number | null)[];
  special: boolean[];
  /** Natural-log PLT per token (null for specials). */
  logp: (number | null)[];
  truncated: boolean;
}

export interface MaskOptions {
  pbar: number;
  complement: Complement;
  overflow: Overflow;
}

/** Tokenize; `truncated` when the text had more tokens than maxLength. */
export function tokenize(tok: L3Tokenizer, text: string, maxLength: number) {
  const enc = tok.encode(text, { maxLength });
  let truncated = false;
  if (enc.ids.length >= maxLength) {
    truncated = tok.encode(text, { maxLength: 1 << 20 }).ids.length > maxLength;
  }
  return { ...enc, truncated };
}

/** PLT of every text, from the cache where present; the rest scored on the GPU and cached. */
export async function computePlt(
  ctx: GpuContext,
  model: LoadedModel,
  tok: L3Tokenizer,
  texts: string[],
  opts: PltOptions,
): Promise<{ scores: TextScore[]; cached: number; scoredTokens: number; seconds: number }> {
  const t0 = performance.now();
  const enc = texts.map((t) => tokenize(tok, t, opts.maxLength));
  const keys = await Promise.all(texts.map((t) => sha256Hex(t)));
  const cache = await PltCache.open(
    opts.cacheDir,
    await modelFingerprint(model.dir, opts.maxLength),
  );
  try {
    // Unique texts not yet cached.
    const todo: number[] = [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (!cache.get(k) && !seen.has(k)) {
        seen.add(k);
        todo.push(i);
      }
    });
    const cached = texts.length - todo.length;
    // Texts with nothing to score (empty, or only special tokens) are done already.
    const empty = todo.filter((i) => enc[i].special.every((s) => s));
    await cache.put(empty.map((i) => ({ key: keys[i], logp: enc[i].ids.map(() => null) })));
    todo.splice(0, todo.length, ...todo.filter((i) => !cache.get(keys[i])));
    let scoredTokens = 0;
    if (todo.length) {
      const scorer = new PltScorer(ctx, model.config, model.params, {
        mask: tok.specialIds.mask,
        pad: tok.specialIds.pad,
      });
      const inputs: TokenizedText[] = todo.map((i) => enc[i]);
      const totalCopies = inputs.reduce((s, t) => s + t.special.filter((x) => !x).length, 0);
      const progress = opts.progress ? new Progress("score", totalCopies, "tokens") : null;
      let textsDone = 0;
      await scorer.score(inputs, {
        budgetTokens: opts.budgetTokens,
        onBatch: async ({ copies, texts: finished, logp }) => {
          textsDone += finished.length;
          await cache.put(finished.map((j) => ({ key: keys[todo[j]], logp: toNullable(logp[j]) })));
          progress?.update(copies, `${textsDone}/${todo.length} texts`);
        },
      });
      progress?.finish(totalCopies, `${todo.length} texts`);
      scorer.release();
      scoredTokens = totalCopies;
    }
    const scores = enc.map((e, i) => ({
      tokens: e.tokens,
      ids: e.ids,
      word: e.words,
      special: e.special,
      logp: cache.get(keys[i])!,
      truncated: e.truncated,
    }));
    return { scores, cached, scoredTokens, seconds: (performance.now() - t0) / 1000 };
  } finally {
    cache.close();
  }
}

function toNullable(a: Float64Array): (number | null)[] {
  return Array.from(a, (x) => (Number.isNaN(x) ? null : x));
}

/** SPEC §3 over one scored text: m per token, 0 for specials. */
export function textMaskProbs(s: TextScore, opts: MaskOptions): number[] {
  const plt = s.logp.map((lp, i) => (s.special[i] || lp === null ? null : Math.exp(lp)));
  return maskProbabilities(plt, opts);
}
