/**
 * How close `--copies K` (src/score/copies.ts) comes to exact PLL-word-l2r, and what it saves: the
 * same texts scored exactly and with K word groups for each K, each from a fresh PLT cache so the
 * times are real, then per K:
 * - forward rows (masked copies) and wall time, and both as a fraction of exact;
 * - Spearman ρ of PLT and of mask probability against exact, per text (median over texts with at
 *   least 3 scored tokens) and pooled over every token;
 * - top-15% overlap: per text, of the ceil(15% of scored tokens) tokens exact gives the highest
 *   mask probability, the share the approximation also puts in its top set (mean over texts).
 *
 *   deno run -A bench/copies_agreement.ts [--model mini|roberta-base-shapes|DIR] [--tokenizer P]
 *     [--data FILE] [--n N] [--ks 2,4,8,16] [--max-length 128] [--budget 8192] [--tag T]
 *
 * Defaults: models/l3mask-mini (`--model` as bench/models.ts reads it), the ACL-ARC training split
 * (../shared/datasets/citation_intent, read where it lives), every row. At roberta-base's shapes
 * (random weights; the mini's WordPiece splits ACL-ARC about as roberta-base's BPE would):
 *
 *   deno run -A bench/copies_agreement.ts --model roberta-base-shapes \
 *     --tokenizer models/l3mask-mini --n 24 --tag=-base-shapes
 *
 * Writes bench/results/copies_agreement{T}.md and .json.
 * Mask probabilities use the defaults (pbar 0.15, 1 - PLT, overflow redistributed).
 */
import { join } from "node:path";
import { readDataset } from "../src/data/read.ts";
import { createContext } from "../src/gpu/context.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { computePlt, textMaskProbs, type TextScore } from "../src/score/pipeline.ts";
import { benchModel } from "./models.ts";
import { adapterLine, DATASETS, intFlag, loadLine, median, ROOT, strFlag } from "./util.ts";

const DATA = strFlag("data", `${DATASETS}/citation_intent/train.jsonl`);
const N = intFlag("n", 0);
const KS = strFlag("ks", "2,4,8,16").split(",").map(Number);
const MAX_LENGTH = intFlag("max-length", 128);
const BUDGET = intFlag("budget", 8192);
const TAG = strFlag("tag", "");
const RATES = { pbar: 0.15, complement: "one-minus", overflow: "redistribute" } as const;

/** Ranks (1-based), ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ (Pearson correlation of the ranks); NaN when either side is constant. */
function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b);
  const n = a.length, ma = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - ma);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - ma) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Indices of the `k` largest values (ties broken by position). */
function top(xs: readonly number[], k: number): Set<number> {
  return new Set(xs.map((_, i) => i).sort((a, b) => xs[b] - xs[a] || a - b).slice(0, k));
}

interface Scored {
  plt: number[];
  mask: number[];
}

function scoredValues(s: TextScore): Scored {
  const m = textMaskProbs(s, RATES);
  const plt: number[] = [], mask: number[] = [];
  s.logp.forEach((lp, i) => {
    if (s.special[i] || lp === null) return;
    plt.push(lp);
    mask.push(m[i]);
  });
  return { plt, mask };
}

interface Row {
  copies: string;
  rows: number;
  rowsRatio: number;
  seconds: number;
  timeRatio: number;
  approximated: number;
  pltRhoMedian: number;
  pltRhoPooled: number;
  maskRhoMedian: number;
  maskRhoPooled: number;
  top15: number;
}

const data = await readDataset(DATA, { labelColumn: null });
// Unique texts: duplicates would count twice in the pooled figures.
const texts = [...new Set(data.rows.map((r) => r.text))].slice(0, N || undefined);
await using bm = await benchModel({
  fallback: "mini",
  tiny: "bert",
  heads: { mlm: true, classifier: false },
  needTokenizer: true,
  seed: 1,
});
const MODEL = `${bm.label}, ${bm.shapes()}, tokenizer ${bm.tokenizerSource!.replace(ROOT, "")}`;
const tok = bm.tokenizer!;
const model = await loadCheckpoint(bm.dir, bm.heads, { tokenizer: tok });
const ctx = await createContext();
const adapter = adapterLine(ctx);
const work = await Deno.makeTempDir({ prefix: "l3mask-copies-" });
console.error(
  `${texts.length} unique texts of ${DATA}, model ${MODEL}, max length ${MAX_LENGTH}; ${adapter}; ${loadLine()}`,
);

async function run(copies: number | "exact") {
  const r = await computePlt(ctx, model, tok, texts, {
    maxLength: MAX_LENGTH,
    budgetTokens: BUDGET,
    cacheDir: join(work, String(copies)),
    copies,
    progress: true,
  });
  console.error(`copies ${copies}: ${r.copies} rows in ${r.seconds.toFixed(1)} s`);
  return r;
}

// A warm-up so that no K pays the pipeline compiles: the first text, scored exactly, uncounted.
await computePlt(ctx, model, tok, texts.slice(0, 1), {
  maxLength: MAX_LENGTH,
  budgetTokens: BUDGET,
  cacheDir: join(work, "warm-up"),
});
const exact = await run("exact");
const exactValues = exact.scores.map(scoredValues);
const rows: Row[] = [];
for (const K of [...KS, "exact" as const]) {
  const r = K === "exact" ? exact : await run(K);
  const values = r.scores.map(scoredValues);
  const pltRhos: number[] = [], maskRhos: number[] = [], overlaps: number[] = [];
  values.forEach((v, i) => {
    const e = exactValues[i];
    const n = e.plt.length;
    if (n === 0) return;
    const k = Math.ceil(0.15 * n);
    const want = top(e.mask, k), got = top(v.mask, k);
    overlaps.push([...want].filter((j) => got.has(j)).length / k);
    if (n < 3) return;
    // A constant side (every token certain, or all tied) has no ranking to agree with.
    const p = spearman(e.plt, v.plt), m = spearman(e.mask, v.mask);
    if (Number.isFinite(p)) pltRhos.push(p);
    if (Number.isFinite(m)) maskRhos.push(m);
  });
  rows.push({
    copies: String(K),
    rows: r.copies,
    rowsRatio: r.copies / exact.copies,
    seconds: r.seconds,
    timeRatio: r.seconds / exact.seconds,
    approximated: r.scores.filter((s) => s.scheme !== "exact").length,
    pltRhoMedian: median(pltRhos),
    pltRhoPooled: spearman(exactValues.flatMap((v) => v.plt), values.flatMap((v) => v.plt)),
    maskRhoMedian: median(maskRhos),
    maskRhoPooled: spearman(exactValues.flatMap((v) => v.mask), values.flatMap((v) => v.mask)),
    top15: overlaps.reduce((a, b) => a + b, 0) / overlaps.length,
  });
}
ctx.destroy();
await Deno.remove(work, { recursive: true });

const tokens = exactValues.reduce((n, v) => n + v.plt.length, 0);
const f3 = (x: number) => x.toFixed(3);
const lines = [
  `Model ${MODEL.replaceAll(ROOT, "")}; ${texts.length} unique texts of \`${
    DATA.replace(`${DATASETS}/`, "")
  }\` (${tokens} scored tokens), max length ${MAX_LENGTH}, batch budget ${BUDGET} tokens; ${adapter}; ${
    new Date().toISOString().slice(0, 10)
  }.`,
  "",
  "| copies | forward rows | rows vs exact | wall time (s) | time vs exact | texts approximated | PLT ρ per text (median) | PLT ρ pooled | mask-prob ρ per text (median) | mask-prob ρ pooled | top-15% overlap |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) =>
    `| ${r.copies} | ${r.rows} | ${f3(r.rowsRatio)} | ${r.seconds.toFixed(1)} | ${
      f3(r.timeRatio)
    } | ${r.approximated} | ${f3(r.pltRhoMedian)} | ${f3(r.pltRhoPooled)} | ${
      f3(r.maskRhoMedian)
    } | ${f3(r.maskRhoPooled)} | ${f3(r.top15)} |`
  ),
];
console.log(lines.join("\n"));
const out = `${ROOT}bench/results/copies_agreement${TAG}`;
await Deno.writeTextFile(`${out}.md`, lines.join("\n") + "\n");
await Deno.writeTextFile(
  `${out}.json`,
  JSON.stringify(
    {
      model: MODEL.replaceAll(ROOT, ""),
      data: DATA.replace(`${DATASETS}/`, ""),
      texts: texts.length,
      tokens,
      maxLength: MAX_LENGTH,
      budget: BUDGET,
      date: new Date().toISOString(),
      rows,
    },
    null,
    2,
  ) + "\n",
);
