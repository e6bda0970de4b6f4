/**
 * Is a vanilla model worth learning from (issue 17)? Scores the first `--n` texts of ACL-ARC's dev
 * split (../shared/datasets/citation_intent/dev.jsonl, read where it lives) exactly, with default
 * mask settings (pbar 0.15, 1 - PLT, overflow redistributed), and prints the measures
 * against its targets:
 * - pseudo-perplexity: exp(-mean logp) over every scored token (target <= 150);
 * - mean and median PLT;
 * - the share of tokens with PLT > 0.5 (target >= 20%);
 * - the coefficient of variation (sd / mean) of the mask probabilities over every scored token
 *   (target >= 0.3), and its median per text.
 *
 *   deno run -A bench/vanilla_targets.ts [--model DIR] [--n 100] [--max-length 128] [--tag T]
 *
 * Writes bench/results/vanilla_targets{T}.md and .json (a fresh PLT cache each run).
 */
import { join } from "node:path";
import { readDataset } from "../src/data/read.ts";
import { createContext } from "../src/gpu/context.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { computePlt, textMaskProbs } from "../src/score/pipeline.ts";
import { adapterLine, DATASETS, intFlag, median, ROOT, strFlag } from "./util.ts";

const MODEL = strFlag("model", `${ROOT}models/l3mask-mini`);
const N = intFlag("n", 100);
const MAX_LENGTH = intFlag("max-length", 128);
const TAG = strFlag("tag", "");
const DATA = `${DATASETS}/citation_intent/dev.jsonl`;
const RATES = { pbar: 0.15, complement: "one-minus", overflow: "redistribute" } as const;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cv = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) / m;
};

const texts = (await readDataset(DATA, { labelColumn: null })).rows.slice(0, N).map((r) => r.text);
const tok = await loadTokenizer(MODEL);
const model = await loadCheckpoint(MODEL, { mlm: true, classifier: false });
const ctx = await createContext();
const adapter = adapterLine(ctx);
const cacheDir = await Deno.makeTempDir({ prefix: "l3mask-vanilla-" });
const plt = await computePlt(ctx, model, tok, texts, {
  maxLength: MAX_LENGTH,
  budgetTokens: 8192,
  cacheDir,
  progress: true,
});
ctx.destroy();
await Deno.remove(cacheDir, { recursive: true });

const logps: number[] = [], masks: number[] = [], perText: number[] = [];
for (const s of plt.scores) {
  const m = textMaskProbs(s, RATES);
  const mt: number[] = [];
  s.logp.forEach((lp, i) => {
    if (s.special[i] || lp === null) return;
    logps.push(lp);
    mt.push(m[i]);
  });
  masks.push(...mt);
  if (mt.length >= 2) perText.push(cv(mt));
}
const plts = logps.map(Math.exp);
const r = {
  pseudoPerplexity: Math.exp(-mean(logps)),
  meanPlt: mean(plts),
  medianPlt: median(plts),
  shareAbove05: plts.filter((p) => p > 0.5).length / plts.length,
  maskCv: cv(masks),
  maskCvPerTextMedian: median(perText),
};
const pass = (ok: boolean) => (ok ? "met" : "not met");
const model_ = MODEL.replace(ROOT, "");
const lines = [
  `Model \`${model_}\`; the first ${texts.length} texts of ACL-ARC dev (${logps.length} scored tokens), max length ${MAX_LENGTH}, exact PLL-word-l2r; mask probabilities with pbar 0.15, 1 - PLT, overflow redistributed; ${adapter}; ${
    new Date().toISOString().slice(0, 10)
  }.`,
  "",
  "| measure | value | target |",
  "| --- | --- | --- |",
  `| pseudo-perplexity | ${r.pseudoPerplexity.toFixed(1)} | ≤ 150: ${
    pass(r.pseudoPerplexity <= 150)
  } |`,
  `| mean PLT | ${r.meanPlt.toFixed(4)} | |`,
  `| median PLT | ${r.medianPlt.toFixed(4)} | |`,
  `| tokens with PLT > 0.5 | ${(100 * r.shareAbove05).toFixed(1)}% | ≥ 20%: ${
    pass(r.shareAbove05 >= 0.2)
  } |`,
  `| coefficient of variation of the mask probabilities (all tokens) | ${
    r.maskCv.toFixed(3)
  } | ≥ 0.3: ${pass(r.maskCv >= 0.3)} |`,
  `| the same per text (median) | ${r.maskCvPerTextMedian.toFixed(3)} | |`,
];
console.log(lines.join("\n"));
const out = join(ROOT, "bench", "results", `vanilla_targets${TAG}`);
await Deno.writeTextFile(`${out}.md`, lines.join("\n") + "\n");
await Deno.writeTextFile(
  `${out}.json`,
  JSON.stringify({ model: model_, texts: texts.length, tokens: logps.length, ...r }, null, 2) +
    "\n",
);
