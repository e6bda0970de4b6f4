/**
 * bench/domain_plt.ts — does the shipped model find domain tokens unlikely? Scores ACL-ARC
 * sentences (../shared/datasets/citation_intent/dev.jsonl) with models/l3mask-mini and compares
 * the mean PLT of common English function words with that of the other tokens; prints the tokens
 * with the lowest and highest mean PLT.
 *
 *   deno run -A bench/domain_plt.ts [FILE] [--max-length 64]
 */
import { parseArgs } from "node:util";
import { readDataset } from "../src/data/read.ts";
import { createContext } from "../src/gpu/context.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { computePlt } from "../src/score/pipeline.ts";
import { defaultPltCacheDir } from "../src/score/cache.ts";

const { values, positionals } = parseArgs({
  options: { "max-length": { type: "string", default: "64" } },
  allowPositionals: true,
});
const file = positionals[0] ??
  new URL("../../shared/datasets/citation_intent/dev.jsonl", import.meta.url).pathname;
const MODEL = new URL("../models/l3mask-mini/", import.meta.url).pathname;
const FUNCTION_WORDS = new Set(
  "the of and to a in is that for it as was with be by on not he i this are or his from at which but have an they you were her she there one all we their has been would will if when so no its can them more may these than other into some could our then any only such also"
    .split(" "),
);
const data = await readDataset(file, { labelColumn: null });
const tok = await loadTokenizer(MODEL);
const model = await loadCheckpoint(MODEL, { mlm: true, classifier: false });
const ctx = await createContext();
const plt = await computePlt(ctx, model, tok, data.rows.map((r) => r.text), {
  maxLength: Number(values["max-length"]),
  budgetTokens: 8192,
  cacheDir: defaultPltCacheDir(),
  progress: true,
});
ctx.destroy();
const byToken = new Map<string, { sum: number; n: number }>();
let fSum = 0, fN = 0, oSum = 0, oN = 0;
for (const s of plt.scores) {
  s.logp.forEach((lp, i) => {
    if (lp === null) return;
    const p = Math.exp(lp);
    const t = s.tokens[i];
    const e = byToken.get(t) ?? { sum: 0, n: 0 };
    e.sum += p;
    e.n++;
    byToken.set(t, e);
    // A whole-word function word: not a ## piece, and the next token does not continue it.
    const whole = !t.startsWith("##") && !(s.tokens[i + 1] ?? "").startsWith("##");
    if (whole && FUNCTION_WORDS.has(t)) {
      fSum += p;
      fN++;
    } else {
      oSum += p;
      oN++;
    }
  });
}
const ranked = [...byToken].filter(([, e]) => e.n >= 3).map(([t, e]) => ({
  t,
  mean: e.sum / e.n,
  n: e.n,
}))
  .sort((a, b) => a.mean - b.mean);
const fmt = (xs: typeof ranked) => xs.map((x) => `${x.t} ${x.mean.toFixed(3)} (${x.n})`).join(", ");
console.log(`file: ${file} (${data.rows.length} texts), model: models/l3mask-mini`);
console.log(`mean PLT of function words: ${(fSum / fN).toFixed(4)} over ${fN} tokens`);
console.log(`mean PLT of all other tokens: ${(oSum / oN).toFixed(4)} over ${oN} tokens`);
console.log(`lowest mean PLT (seen >= 3 times): ${fmt(ranked.slice(0, 15))}`);
console.log(`highest mean PLT (seen >= 3 times): ${fmt(ranked.slice(-15).reverse())}`);
