/**
 * Training throughput: optimizer steps of the tiny fixture model (tests/fixtures/tiny-bert, its
 * classifier re-initialised for the 6 citation-intent labels) through Trainer.step, on a primary
 * batch of B examples x T tokens, next to the PyTorch peer (bench/peers/train_peer.py, CPU,
 * torch.set_num_threads(2)) doing the identical step on the same ids:
 *
 *   mtl  classification loss -> g_prim; MLM loss on a freshly RTM-masked MLM batch of the same
 *        size (15% of the scored positions, 80/10/10) -> g_mlm; fixed weights 1/2; each group
 *        clipped to norm 1; AdamW (encoder and classifier groups) under the linear schedule.
 *   stl  the classification part alone.
 *
 * Texts are the first citation-intent training texts (../shared/datasets, not copied) that fill
 * all T tokens, so no batch has padding. Dropout is on. Each side warms up, then the median of
 * its timed steps is reported as primary examples per second (l3mask / peer, higher = l3mask
 * faster), next to the ratio of the fastest steps (steadier on a shared CPU). The peer runs once
 * before l3mask and once after it, its timed steps pooled, so a drift in the shared machine's
 * speed during the run weighs on both sides. The first step's
 * losses are printed as a sanity check (different dropout and masks: they agree only roughly).
 *
 *   deno run -A bench/train_bench.ts [--B 32] [--T 64] [--warmup 2] [--steps 10] [--peer-steps 20]
 */
import { createContext } from "../src/gpu/context.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { replacementIds } from "../src/mask/masking.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import type { Example } from "../src/train/data.ts";
import { Trainer } from "../src/train/trainer.ts";
import {
  adapterLine,
  benchTrainerSettings,
  intFlag,
  loadLine,
  median,
  printTable,
  ROOT,
  runPeer,
  speedRatio,
} from "./util.ts";

const B = intFlag("B", 32);
const T = intFlag("T", 64);
const warmup = intFlag("warmup", 2);
const steps = intFlag("steps", 10);
const peerSteps = intFlag("peer-steps", 20);
const MODEL = `${ROOT}tests/fixtures/tiny-bert`;
const DATA = `${ROOT}../shared/datasets/citation_intent/train.jsonl`;
const TOTAL_STEPS = 1000; // the schedule's length (only the learning rate depends on it)

const ctx = await createContext();
console.log(adapterLine(ctx));
console.log(`before: ${loadLine()}`);
const tok = await loadTokenizer(MODEL);
const rows = (await Deno.readTextFile(DATA)).split("\n").filter((l) => l.trim()).map((l) =>
  JSON.parse(l)
);
const labels = [...new Set(rows.map((r) => String(r.label)))].sort();
const model = await loadCheckpoint(MODEL, { mlm: true, classifier: "optional" }, {
  numLabels: labels.length,
});
const cfg = model.config;
if (T > cfg.maxPositions) {
  throw new Error(`--T ${T} exceeds the model's ${cfg.maxPositions} positions`);
}

const full: Example[] = [];
for (const [i, r] of rows.entries()) {
  const e = tok.encode(String(r.text), { maxLength: T });
  if (e.ids.length === T) {
    full.push({ row: i, ids: e.ids, special: e.special, label: labels.indexOf(String(r.label)) });
  }
  if (full.length === 2 * B) break;
}
if (full.length < 2 * B) {
  throw new Error(`only ${full.length} texts fill ${T} tokens; need ${2 * B}`);
}
const primary = full.slice(0, B), mlm = full.slice(B, 2 * B);

console.log(
  `model: tiny-bert (V ${cfg.vocabSize}, C ${cfg.hidden}, ${cfg.layers} layers, ${cfg.numLabels} labels); ` +
    `primary batch ${B} x ${T}, MLM batch ${B} x ${T} (mtl); AdamW; l3mask warm-up ${warmup} + ${steps} timed steps, ` +
    `peer ${warmup} + ${peerSteps} before and again after l3mask (timed steps pooled)`,
);

interface SideResult {
  times: number[];
  lossCls: number;
  lossMlm: number | null;
}

async function l3mask(mode: "stl" | "mtl"): Promise<SideResult> {
  const tr = new Trainer(
    ctx,
    cfg,
    model.params,
    benchTrainerSettings(mode, B, TOTAL_STEPS),
    tok,
    [],
  );
  const times: number[] = [];
  let first: SideResult | null = null;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const log = await tr.step([primary], mode === "mtl" ? [mlm] : null);
    const dt = (performance.now() - t0) / 1000;
    first ??= { times, lossCls: log.lossCls, lossMlm: log.lossMlm };
    if (i >= warmup) times.push(dt);
  }
  tr.release();
  return first!;
}

const modes = ["mtl", "stl"] as const;
type PeerOut =
  & { torch: string; threads: number }
  & Record<
    string,
    { times_s: number[]; loss_cls: number; loss_mlm: number | null; mlm_rows: number }
  >;
const runTrainPeer = () =>
  runPeer<PeerOut>("train_peer.py", [], {
    model_dir: MODEL,
    num_labels: labels.length,
    primary: {
      ids: primary.map((e) => e.ids),
      special: primary.map((e) => e.special),
      labels: primary.map((e) => e.label),
    },
    mlm: { ids: mlm.map((e) => e.ids), special: mlm.map((e) => e.special) },
    mask_id: tok.specialIds.mask,
    random_ids: Array.from(replacementIds(tok.vocabSize, (id) => tok.isSpecial(id))),
    pbar: 0.15,
    warmup,
    steps: peerSteps,
    total_steps: TOTAL_STEPS,
    warmup_ratio: 0.06,
    modes,
    threads: 2,
    seed: 0,
  });

// The peer runs before and after l3mask and its steps are pooled, so a machine that speeds up or
// slows down during the run (a shared host does) weighs on both sides alike.
const peerBefore = await runTrainPeer();
const ours = new Map<string, SideResult>();
for (const mode of modes) ours.set(mode, await l3mask(mode));
const peerAfter = await runTrainPeer();
const peer = peerBefore.ok && peerAfter.ok
  ? {
    ok: true as const,
    value: {
      ...peerBefore.value,
      ...Object.fromEntries(modes.map((m) => [m, {
        ...peerBefore.value[m],
        times_s: [...peerBefore.value[m].times_s, ...peerAfter.value[m].times_s],
      }])),
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
for (const mode of modes) {
  const o = ours.get(mode)!;
  const t = median(o.times);
  if (peer.ok) {
    const pts = peer.value[mode].times_s;
    const pt = median(pts);
    table.push([
      mode,
      medMin(o.times, 3),
      medMin(pts, 4),
      (B / t).toFixed(1),
      (B / pt).toFixed(1),
      speedRatio(B / t, B / pt, "rate"),
      speedRatio(1 / Math.min(...o.times), 1 / Math.min(...pts), "rate"),
    ]);
  } else {
    table.push([mode, medMin(o.times, 3), "unavailable", (B / t).toFixed(1), "-", "-", "-"]);
  }
}
printTable(table);
for (const mode of modes) {
  const o = ours.get(mode)!;
  const p = peer.ok ? peer.value[mode] : null;
  const f = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(4));
  console.log(
    `${mode} first-step losses: l3mask cls ${f(o.lossCls)} mlm ${f(o.lossMlm)}; ` +
      (p ? `peer cls ${f(p.loss_cls)} mlm ${f(p.loss_mlm)} (${p.mlm_rows} MLM rows)` : "peer -"),
  );
}
console.log(
  "ex/s = primary examples / median step time (an mtl step also runs the MLM batch of the same size); ratio from medians",
);
if (peer.ok) console.log(`peer: torch ${peer.value.torch}, ${peer.value.threads} threads, fp32`);
else console.log(`peer unavailable: ${peer.reason}`);
console.log(`after: ${loadLine()}`);
ctx.destroy();
