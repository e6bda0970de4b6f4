/**
 * Where the time of one step goes, by kernel: records every dispatch of one training step (tiny
 * BERT, as bench/train_bench.ts) or one scoring batch (tiny RoBERTa, as bench/score_bench.ts),
 * then replays each recorded dispatch `--reps` times in a submit of its own and reports the time
 * per shader (summed over its dispatches), largest first. Replays read and write the step's own
 * buffers, so they cost what the step's dispatches cost; the fixed cost of one submit + wait
 * (measured with an empty replay) is subtracted.
 *
 *   deno run -A bench/profile.ts [--what stl|mtl|score] [--B 32] [--T 64] [--reps 5]
 *     [--model tiny|mini|roberta-base-shapes|DIR] [--weighting fixed|meta] [--steps-before 2]
 * (--model and --weighting for the training step; see bench/models.ts.)
 */
import { createContext, type RecordedDispatch } from "../src/gpu/context.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { PltScorer } from "../src/score/scorer.ts";
import type { Example } from "../src/data/examples.ts";
import { Trainer } from "../src/train/trainer.ts";
import { benchModel } from "./models.ts";
import {
  adapterLine,
  benchTrainerSettings,
  DATASETS,
  intFlag,
  printTable,
  ROOT,
  strFlag,
} from "./util.ts";

const what = strFlag("what", "stl");
const B = intFlag("B", 32);
const T = intFlag("T", 64);
const reps = intFlag("reps", 5);
const ctx = await createContext();
console.log(adapterLine(ctx));

const recorded: RecordedDispatch[] = [];
// While recording, released buffers are not reused, so replays read what the step's kernels read
// (index lists, for example), not whatever a later kernel wrote there.
const release = ctx.pool.release.bind(ctx.pool);
let holding = false;
ctx.pool.release = (b: GPUBuffer) => holding ? undefined : release(b);
let wall = 0;

if (what === "score") {
  const MODEL = `${ROOT}tests/fixtures/tiny-roberta`;
  const tok = await loadTokenizer(MODEL);
  const model = await loadCheckpoint(MODEL, { mlm: true, classifier: false });
  const rows = (await Deno.readTextFile(`${ROOT}../shared/datasets/citation_intent/train.jsonl`))
    .split("\n").filter((l) => l.trim()).slice(0, 40).map((l) => String(JSON.parse(l).text));
  const texts = rows.map((s) => {
    const e = tok.encode(s, { maxLength: Math.min(T, model.config.maxPositions - 2) });
    return { ids: e.ids, words: e.words, special: e.special };
  });
  const scorer = new PltScorer(ctx, model.config, model.params, {
    mask: tok.specialIds.mask,
    pad: tok.specialIds.pad,
  });
  await scorer.score(texts.slice(0, 2), { budgetTokens: B * T }); // compile pipelines
  const t0 = performance.now();
  let batches = 0;
  ctx.recorder = (d) => batches === 0 && recorded.push(d);
  holding = true;
  await scorer.score(texts.slice(2, 6), { budgetTokens: B * T, onBatch: () => void batches++ });
  wall = performance.now() - t0;
  ctx.recorder = null;
  console.log(`score: first batch of ${batches} (budget ${B * T} tokens)`);
} else {
  await using bm = await benchModel({
    fallback: "tiny",
    tiny: "bert",
    heads: { mlm: true, classifier: true },
    numLabels: 6,
    needTokenizer: true,
  });
  const tok = bm.tokenizer!;
  const rows = (await Deno.readTextFile(`${DATASETS}/citation_intent/train.jsonl`))
    .split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const ex: Example[] = rows.slice(0, 2 * B).map((r, i) => {
    const e = tok.encode(String(r.text), { maxLength: T });
    return { row: i, ids: e.ids, special: e.special, label: i % 6 };
  });
  const dev: Example[] = rows.slice(2 * B, 2 * B + 32).map((r, i) => {
    const e = tok.encode(String(r.text), { maxLength: T });
    return { row: i, ids: e.ids, special: e.special, label: i % 6 };
  });
  const mode = what === "mtl" ? "mtl" : "stl";
  const weighting = mode === "mtl" && strFlag("weighting", "fixed") === "meta" ? "meta" : "fixed";
  const tr = new Trainer(
    ctx,
    bm.config,
    await bm.params(),
    benchTrainerSettings(mode, B, 100, weighting),
    tok,
    weighting === "meta" ? dev : [],
  );
  console.log(`${bm.label}; ${mode}-${weighting}, B ${B} x T ${T}`);
  const mlm = what === "mtl" ? [ex.slice(B)] : null;
  for (let i = 0; i < intFlag("steps-before", 2); i++) await tr.step([ex.slice(0, B)], mlm);
  ctx.recorder = (d) => recorded.push(d);
  holding = true;
  const t0 = performance.now();
  await tr.step([ex.slice(0, B)], mlm);
  wall = performance.now() - t0;
  ctx.recorder = null;
}

async function replay(ds: RecordedDispatch[], times: number): Promise<number> {
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  const uniforms: GPUBuffer[] = [];
  for (const d of ds) {
    const u = ctx.device.createBuffer({
      size: d.uniforms.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    ctx.device.queue.writeBuffer(u, 0, d.uniforms);
    uniforms.push(u);
    const bg = ctx.device.createBindGroup({
      layout: d.pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: u } }, ...d.storage],
    });
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, bg);
    for (let i = 0; i < times; i++) pass.dispatchWorkgroups(...d.workgroups);
  }
  pass.end();
  await ctx.device.queue.onSubmittedWorkDone();
  const t0 = performance.now();
  ctx.device.queue.submit([enc.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  const dt = performance.now() - t0;
  for (const u of uniforms) u.destroy();
  return dt;
}

const empty = Math.min(await replay([], 1), await replay([], 1), await replay([], 1));
const byShader = new Map<string, { n: number; ms: number; groups: number }>();
for (const d of recorded) {
  const ms = Math.max(0, (await replay([d], reps)) - empty) / reps;
  const e = byShader.get(d.shader) ?? { n: 0, ms: 0, groups: 0 };
  e.n++;
  e.ms += ms;
  e.groups += d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
  byShader.set(d.shader, e);
  if (Deno.args.includes("--each")) {
    console.log(`  ${d.shader} ${d.workgroups.join("x")}: ${ms.toFixed(2)} ms`);
  }
}
const allOnce = Math.max(0, (await replay(recorded, 1)) - empty);
const total = [...byShader.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `${what}: ${recorded.length} dispatches; step wall ${
    wall.toFixed(1)
  } ms; all dispatches in one ` +
    `submit ${allOnce.toFixed(1)} ms; sum of per-kernel replays ${total.toFixed(1)} ms; ` +
    `empty submit ${empty.toFixed(2)} ms`,
);
const table = [["shader", "dispatches", "workgroups", "ms", "share"]];
for (const [name, e] of [...byShader.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  table.push([
    name,
    String(e.n),
    String(e.groups),
    e.ms.toFixed(2),
    `${(100 * e.ms / total).toFixed(1)}%`,
  ]);
}
printTable(table);
ctx.destroy();
