/**
 * Training throughput and memory: optimizer steps of the `--model` (bench/models.ts; default the
 * tiny fixture tests/fixtures/tiny-bert; `roberta-base-shapes` for the size users train) with a
 * classifier for the 6 citation-intent labels, through Trainer.step, on a primary batch of B
 * examples x T tokens, next to the PyTorch peer (bench/peers/train_peer.py, CPU,
 * torch.set_num_threads(2)) doing the identical step from the same weights on the same ids:
 *
 *   mtl  classification loss -> g_prim; MLM loss on a freshly RTM-masked MLM batch of the same
 *        size (15% of the scored positions, 80/10/10) -> g_mlm; task weights fixed (1/2 each) or,
 *        with `--weighting meta`, META-TARTAN's (SPEC §5): a fresh classification head trained up
 *        to 10 AdamW steps on cached encoder features of 32 dev examples, g_dev = its loss's
 *        gradient w.r.t. the encoder on a dev sample, each task's logit += 1e-2 cos(g_dev, g_k),
 *        weights softmax(logits); each group clipped to norm 1; AdamW (encoder and classifier
 *        groups) under the linear schedule.
 *   stl  the classification part alone.
 *
 * Texts are the first citation-intent training texts (../shared/datasets or $L3MASK_DATASETS,
 * not copied) that fill all T tokens, so no batch has padding; META-TARTAN's 32 dev examples are
 * the first dev texts that fill T (topped up from later training texts). Dropout is on. Each side
 * warms up, then the median of its timed steps is reported as primary examples per second
 * (l3mask / peer, higher = l3mask faster), next to the ratio of the fastest steps (steadier on a
 * shared CPU). The peer runs once before l3mask and once after it, its timed steps pooled, so a
 * drift in the shared machine's speed during the run weighs on both sides. The first step's losses
 * (and META-TARTAN's cosines, weights and dev-head steps) are printed as a sanity check (different
 * dropout and masks: they agree only roughly).
 *
 * Memory, per mode, from the parameters' load to the last step: l3mask's peak RSS (VmHWM, reset
 * through /proc/self/clear_refs before the mode; on a CPU adapter it includes the device buffers)
 * and its GPU buffer pool's peak, next to the peer's peak RSS (VmHWM, likewise reset; the larger
 * of its two runs), with the ratio l3mask / peer (lower = l3mask leaner).
 *
 *   deno run -A bench/train_bench.ts [--model tiny|mini|roberta-base-shapes|DIR] [--B 32] [--T 64]
 *     [--weighting fixed|meta] [--modes mtl,stl] [--warmup 2] [--steps 10] [--peer-steps 2*steps]
 *     [--tokenizer PATH] [--no-peer]
 *
 * At roberta-base's shapes: --model roberta-base-shapes --B 8 --T 48 --weighting meta --steps 3
 */
import { createContext } from "../src/gpu/context.ts";
import { replacementIds } from "../src/mask/masking.ts";
import { maxSequenceLength } from "../src/model/config.ts";
import type { Example } from "../src/data/examples.ts";
import { type StepLog, Trainer } from "../src/train/trainer.ts";
import { benchModel } from "./models.ts";
import {
  adapterLine,
  benchTrainerSettings,
  boolFlag,
  DATASETS,
  intFlag,
  loadLine,
  median,
  mib,
  peakRss,
  printTable,
  resetPeakRss,
  runPeer,
  speedRatio,
  strFlag,
} from "./util.ts";
import { matmulPolicy } from "../src/kernels/linear.ts";

const B = intFlag("B", 32);
const T = intFlag("T", 64);
const warmup = intFlag("warmup", 2);
const steps = intFlag("steps", 10);
const peerSteps = intFlag("peer-steps", 2 * steps);
const weighting = strFlag("weighting", "fixed");
if (weighting !== "fixed" && weighting !== "meta") {
  throw new Error(`--weighting ${weighting}: expected fixed or meta`);
}
const modes = strFlag("modes", "mtl,stl").split(",") as ("mtl" | "stl")[];
if (modes.length === 0 || modes.some((m) => m !== "mtl" && m !== "stl")) {
  throw new Error(`--modes ${modes.join(",")}: expected mtl, stl or mtl,stl`);
}
const noPeer = boolFlag("no-peer");
const DATA = `${DATASETS}/citation_intent`;
const TOTAL_STEPS = 1000; // the schedule's length (only the learning rate depends on it)
const settingsOf = (mode: "stl" | "mtl") =>
  benchTrainerSettings(mode, B, TOTAL_STEPS, mode === "mtl" ? weighting : "fixed");

const readRows = async (split: string) =>
  (await Deno.readTextFile(`${DATA}/${split}.jsonl`)).split("\n").filter((l) => l.trim()).map(
    (l) => JSON.parse(l) as { text: unknown; label: unknown },
  );
const trainRows = await readRows("train");
const labels = [...new Set(trainRows.map((r) => String(r.label)))].sort();

await using bm = await benchModel({
  fallback: "tiny",
  tiny: "bert",
  heads: { mlm: true, classifier: true },
  numLabels: labels.length,
  needTokenizer: true,
});
const tok = bm.tokenizer!;
const cfg = bm.config;
if (T > maxSequenceLength(cfg)) {
  throw new Error(
    `--T ${T} exceeds the ${maxSequenceLength(cfg)} tokens the model's positions allow`,
  );
}

/** Texts of `rows` that fill all T tokens, as examples, until `n` are found. */
function filling(rows: { text: unknown; label: unknown }[], n: number, skip = 0): Example[] {
  const out: Example[] = [];
  for (const [i, r] of rows.entries()) {
    if (i < skip || out.length === n) continue;
    const e = tok.encode(String(r.text), { maxLength: T });
    if (e.ids.length === T) {
      out.push({ row: i, ids: e.ids, special: e.special, label: labels.indexOf(String(r.label)) });
    }
  }
  return out;
}

const full = filling(trainRows, 2 * B);
if (full.length < 2 * B) {
  throw new Error(`only ${full.length} texts fill ${T} tokens; need ${2 * B}`);
}
const primary = full.slice(0, B), mlm = full.slice(B, 2 * B);
const meta = modes.includes("mtl") && weighting === "meta";
const devN = settingsOf("mtl").devHead.examples;
let dev: Example[] = [];
if (meta) {
  dev = filling(await readRows("dev"), devN);
  const lastUsed = full[full.length - 1].row;
  if (dev.length < devN) dev.push(...filling(trainRows, devN - dev.length, lastUsed + 1));
  if (dev.length < devN) throw new Error(`only ${dev.length} dev texts fill ${T} tokens`);
}

const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`before: ${loadLine()}`);
console.log(`model: ${bm.label} (${bm.shapes()}); tokenizer ${bm.tokenizerSource}`);
console.log(
  `primary batch ${B} x ${T}, MLM batch ${B} x ${T} (mtl), weighting ${weighting}` +
    (meta ? ` (dev head on ${devN} dev examples x ${T})` : "") +
    `; AdamW; l3mask warm-up ${warmup} + ${steps} timed steps` +
    (noPeer
      ? "; no peer"
      : `, peer ${warmup} + ${peerSteps} before and again after l3mask (timed steps pooled)`),
);

interface SideResult {
  times: number[];
  first: StepLog;
  /** Peak RSS (VmHWM) from the parameters' load to the last step; NaN where it cannot reset. */
  peakRss: number;
  poolPeak: number;
}

async function l3mask(mode: "stl" | "mtl"): Promise<SideResult> {
  // Free buffers a previous mode left in the pool go first, so its peak is this mode's alone.
  await ctx.sync();
  ctx.pool.trim();
  ctx.pool.peakBytes = ctx.pool.allocatedBytes;
  const reset = resetPeakRss();
  const tr = new Trainer(ctx, cfg, await bm.params(), settingsOf(mode), tok, dev);
  const times: number[] = [];
  let first: StepLog | null = null;
  for (let i = 0; i < warmup + steps; i++) {
    // First use of a shape class measures the matmul kernels (once per machine): not a step's cost.
    if (i === warmup) await matmulPolicy(ctx).tuneIfPending();
    const t0 = performance.now();
    const log = await tr.step([primary], mode === "mtl" ? [mlm] : null);
    const dt = (performance.now() - t0) / 1000;
    first ??= log;
    if (i >= warmup) times.push(dt);
    console.log(
      `  l3mask ${mode} step ${i < warmup ? "warm-up" : i - warmup + 1}: ${dt.toFixed(2)} s`,
    );
  }
  const result = {
    times,
    first: first!,
    peakRss: reset ? peakRss() : NaN,
    poolPeak: ctx.pool.peakBytes,
  };
  tr.release();
  return result;
}

interface PeerMode {
  times_s: number[];
  loss_cls: number;
  loss_mlm: number | null;
  mlm_rows: number;
  weights: [number, number] | null;
  cosines: [number, number] | null;
  dev_steps: number | null;
  rss_after_load: number;
  vm_hwm: number;
  hwm_reset: boolean;
}
type PeerOut = { torch: string; threads: number; modes: Record<string, PeerMode> };
const settings = settingsOf("mtl");
const examples = (xs: Example[]) => ({
  ids: xs.map((e) => e.ids),
  special: xs.map((e) => e.special),
  labels: xs.map((e) => e.label),
});
const group = (g: typeof settings.encoder) => ({
  lr: g.lr,
  weight_decay: g.weightDecay,
  betas: g.betas,
  eps: g.eps,
  clip: g.clipNorm,
});
const runTrainPeer = () =>
  runPeer<PeerOut>("train_peer.py", [], {
    model_dir: bm.dir,
    primary: examples(primary),
    mlm: examples(mlm),
    dev: meta ? examples(dev) : null,
    mask_id: tok.specialIds.mask,
    random_ids: Array.from(replacementIds(tok.vocabSize, (id) => tok.isSpecial(id))),
    pbar: settings.pbar,
    weighting,
    meta_lr: settings.metaLr,
    dev_head: {
      steps: settings.devHead.steps,
      lr: settings.devHead.lr,
      weight_decay: settings.devHead.weightDecay,
      tol: settings.devHead.tol,
    },
    encoder: group(settings.encoder),
    head: group(settings.head),
    warmup,
    steps: peerSteps,
    total_steps: TOTAL_STEPS,
    warmup_ratio: settings.warmupRatio,
    modes,
    threads: 2,
    seed: 0,
  });

// The peer runs before and after l3mask and its steps are pooled, so a machine that speeds up or
// slows down during the run (a shared host does) weighs on both sides alike.
const skipped = { ok: false as const, reason: "--no-peer" };
const peerBefore = noPeer ? skipped : await runTrainPeer();
const ours = new Map<string, SideResult>();
for (const mode of modes) ours.set(mode, await l3mask(mode));
const peerAfter = noPeer ? skipped : await runTrainPeer();
const peer = peerBefore.ok && peerAfter.ok
  ? {
    ok: true as const,
    value: {
      ...peerBefore.value,
      modes: Object.fromEntries(modes.map((m) => {
        const [a, b] = [peerBefore.value.modes[m], peerAfter.value.modes[m]];
        return [m, {
          ...a,
          times_s: [...a.times_s, ...b.times_s],
          vm_hwm: Math.max(a.vm_hwm, b.vm_hwm),
        }];
      })),
    } as PeerOut,
  }
  : (peerBefore.ok ? peerAfter : peerBefore);

console.log();
const table: string[][] = [[
  "variant",
  "l3mask s/step median (min)",
  "peer s/step median (min)",
  "l3mask ex/s",
  "peer ex/s",
  "l3mask/peer",
  "(from mins)",
]];
const medMin = (xs: number[], digits: number) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)})`;
const variant = (mode: string) => mode === "mtl" ? `mtl-${weighting}` : mode;
for (const mode of modes) {
  const o = ours.get(mode)!;
  const t = median(o.times);
  if (peer.ok) {
    const pts = peer.value.modes[mode].times_s;
    const pt = median(pts);
    table.push([
      variant(mode),
      medMin(o.times, 3),
      medMin(pts, 4),
      (B / t).toFixed(1),
      (B / pt).toFixed(1),
      speedRatio(B / t, B / pt, "rate"),
      speedRatio(1 / Math.min(...o.times), 1 / Math.min(...pts), "rate"),
    ]);
  } else {
    table.push([
      variant(mode),
      medMin(o.times, 3),
      "unavailable",
      (B / t).toFixed(1),
      "-",
      "-",
      "-",
    ]);
  }
}
printTable(table);
console.log(
  "ex/s = primary examples / median step time (an mtl step also runs the MLM batch of the same size); ratio from medians",
);

console.log();
const memory: string[][] = [[
  "memory, parameters' load to last step",
  "l3mask",
  "peer",
  "l3mask/peer",
]];
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : "-";
for (const mode of modes) {
  const o = ours.get(mode)!;
  const p = peer.ok ? peer.value.modes[mode] : null;
  const pHwm = p && p.hwm_reset ? p.vm_hwm : NaN;
  memory.push([
    `${variant(mode)} peak RSS (VmHWM)`,
    Number.isFinite(o.peakRss) ? mib(o.peakRss) : "-",
    Number.isFinite(pHwm) ? mib(pHwm) : "-",
    ratio(o.peakRss, pHwm),
  ]);
  memory.push([`${variant(mode)} GPU buffer pool peak`, mib(o.poolPeak), "-", ""]);
  if (p) memory.push([`${variant(mode)} RSS after weights load`, "-", mib(p.rss_after_load), ""]);
}
printTable(memory);
console.log(
  `(weights ${mib(bm.nParams * 4)} f32; on a CPU adapter l3mask's RSS includes the device buffers)`,
);

console.log();
const f = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(4));
const pair = (x: [number, number] | { cls: number; mlm: number } | null | undefined) =>
  !x ? "-" : Array.isArray(x) ? `${f(x[0])}/${f(x[1])}` : `${f(x.cls)}/${f(x.mlm)}`;
for (const mode of modes) {
  const o = ours.get(mode)!.first;
  const p = peer.ok ? peer.value.modes[mode] : null;
  console.log(
    `${variant(mode)} first-step losses: l3mask cls ${f(o.lossCls)} mlm ${f(o.lossMlm)}; ` +
      (p ? `peer cls ${f(p.loss_cls)} mlm ${f(p.loss_mlm)} (${p.mlm_rows} MLM rows)` : "peer -"),
  );
  if (mode === "mtl" && meta) {
    console.log(
      `  META-TARTAN first step, cls/mlm: cosines l3mask ${pair(o.cosines)} peer ${
        pair(p?.cosines)
      }; ` +
        `weights l3mask ${pair(o.weights)} peer ${pair(p?.weights)}; dev-head steps l3mask ${
          o.devHeadSteps ?? "-"
        } peer ${p?.dev_steps ?? "-"}`,
    );
  }
}
if (peer.ok) console.log(`peer: torch ${peer.value.torch}, ${peer.value.threads} threads, fp32`);
else console.log(`peer unavailable: ${peer.reason}`);
console.log(`after: ${loadLine()}`);
ctx.destroy();
