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
import { type CopyScheme, textScheme } from "./copies.ts";
import { PltScorer, type TokenizedText } from "./scorer.ts";

export interface PltOptions {
  maxLength: number;
  budgetTokens: number;
  cacheDir: string;
  /** Word groups per text (`--copies`, src/score/copies.ts), or "exact" (the default). */
  copies?: number | "exact";
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
  /** How `logp` was computed: exact, or with word groups (src/score/copies.ts). */
  scheme: CopyScheme;
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
): Promise<
  { scores: TextScore[]; cached: number; scoredTokens: number; copies: number; seconds: number }
> {
  const t0 = performance.now();
  const enc = texts.map((t) => tokenize(tok, t, opts.maxLength));
  const schemes = enc.map((e) => textScheme(e.words, e.special, opts.copies ?? "exact"));
  const keys = await Promise.all(texts.map((t) => sha256Hex(t)));
  const cache = await PltCache.open(
    opts.cacheDir,
    await modelFingerprint(model.dir, opts.maxLength, tok.jsonBytes),
  );
  const lookup = (i: number) => cache.get(keys[i], schemes[i]);
  try {
    // Unique texts not yet cached.
    const todo: number[] = [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (!lookup(i) && !seen.has(k)) {
        seen.add(k);
        todo.push(i);
      }
    });
    const cached = texts.length - todo.length;
    // Texts with nothing to score (empty, or only special tokens) are done already.
    const empty = todo.filter((i) => enc[i].special.every((s) => s));
    await cache.put(
      empty.map((i) => ({ key: keys[i], scheme: schemes[i], logp: enc[i].ids.map(() => null) })),
    );
    todo.splice(0, todo.length, ...todo.filter((i) => !lookup(i)));
    let scoredTokens = 0, copies = 0;
    if (todo.length) {
      const scorer = new PltScorer(ctx, model.config, model.params, {
        mask: tok.specialIds.mask,
        pad: tok.specialIds.pad,
      });
      const inputs: TokenizedText[] = todo.map((i) => enc[i]);
      scoredTokens = inputs.reduce((s, t) => s + t.special.filter((x) => !x).length, 0);
      let progress = null as Progress | null; // made in onPlan
      let textsDone = 0;
      await scorer.score(inputs, {
        budgetTokens: opts.budgetTokens,
        copies: opts.copies,
        onPlan: (n) => {
          copies = n;
          if (opts.progress) progress = new Progress("score", n, "copies");
        },
        onBatch: async ({ copies: done, texts: finished, logp }) => {
          textsDone += finished.length;
          await cache.put(finished.map((j) => ({
            key: keys[todo[j]],
            scheme: schemes[todo[j]],
            logp: toNullable(logp[j]),
          })));
          progress?.update(done, `${textsDone}/${todo.length} texts`);
        },
      });
      progress?.finish(copies, `${todo.length} texts`);
      scorer.release();
    }
    const scores = enc.map((e, i) => ({
      tokens: e.tokens,
      ids: e.ids,
      word: e.words,
      special: e.special,
      logp: lookup(i)!,
      truncated: e.truncated,
      scheme: schemes[i],
    }));
    return { scores, cached, scoredTokens, copies, seconds: (performance.now() - t0) / 1000 };
  } finally {
    cache.close();
  }
}

function toNullable(a: Float64Array): (number | null)[] {
  return Array.from(a, (x) => (Number.isNaN(x) ? null : x));
}

/** SPEC §3 over one scored text: m per token, 0 for specials. */
export function textMaskProbs(s: Pick<TextScore, "special" | "logp">, opts: MaskOptions): number[] {
  const plt = s.logp.map((lp, i) => (s.special[i] || lp === null ? null : Math.exp(lp)));
  return maskProbabilities(plt, opts);
}
