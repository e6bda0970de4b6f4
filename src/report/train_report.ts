/**
 * The run's `report.html` (SPEC §5): one self-contained file drawn from `metrics.jsonl` with the
 * run's settings and summary, loss curves (classification, MLM, dev), dev accuracy and macro-F1
 * with the best evaluation marked, META-TARTAN task weights, learning rates, gradient norms, the
 * final confusion matrix, the texts cut to max_length per split and the run's events.
 *
 * Records are read as written, with two repairs: a resumed run replays the steps after its last
 * checkpoint, so a step (or evaluation) that is not after the previous one of its phase replaces
 * the records from that step on; and when the fine-tuning phase numbers its steps from 0 again, its
 * steps are drawn after the main phase's last step. Every series is downsampled to at most 1000
 * points (svgLineChart), so a long run still gives a file of a few hundred kB.
 */
import {
  BASE_CSS,
  escapeHtml,
  formatNumber,
  htmlDocument,
  keyValueTable,
  type LineSeries,
  niceStep,
  svgLineChart,
} from "./html.ts";
import { perClassScores } from "../classify/metrics.ts";
import type { EvalRecord, EventRecord, MetricRecord, Phase, StepRecord } from "../run/records.ts";

export interface TrainReportInfo {
  /** Resolved run settings: model, mode, masking, weighting, batch size, lrs, seed, ... */
  settings: Record<string, string | number | boolean>;
  /** Class names by index (id2label). */
  labels: string[];
  /** The trainer's own summary: best dev metric and step, test scores, wall time, examples/s. */
  summary: Record<string, string | number>;
}

/** Plot points per series at most (each chart). */
export const MAX_POINTS = 1000;

/** Evaluations get a dot each up to this many; beyond, dots would merge into a band. */
const MAX_DOTS = 150;

const COLORS = {
  cls: "#1f5fbf",
  mlm: "#c2410c",
  dev: "#111111",
  acc: "#1f5fbf",
  f1: "#15803d",
  encoder: "#7c3aed",
  head: "#c2410c",
} as const;

/** Records in drawing order, after the resume and fine-tuning repairs of the module comment. */
export interface Timeline {
  steps: StepRecord[];
  dev: EvalRecord[];
  test: EvalRecord[];
  events: EventRecord[];
  /** The x position of each kept record (its step, shifted for a renumbered fine-tuning phase). */
  x: Map<MetricRecord, number>;
  /** First x of the fine-tuning phase, if there is one. */
  finetuneStart?: number;
}

/** Keeps, per key, records in increasing step; a record at or before the last one cuts back. */
function appendReplaying<T extends { step: number }>(list: T[], rec: T): void {
  while (list.length && list[list.length - 1].step >= rec.step) list.pop();
  list.push(rec);
}

export function buildTimeline(records: readonly MetricRecord[]): Timeline {
  const byPhase = { main: [] as StepRecord[], finetune: [] as StepRecord[] };
  const evals = new Map<string, EvalRecord[]>();
  const events: { rec: EventRecord; phase: Phase }[] = [];
  let phase: Phase = "main";
  for (const r of records) {
    if (r.type === "step" && Number.isFinite(r.step)) {
      phase = r.phase === "finetune" ? "finetune" : "main";
      appendReplaying(byPhase[phase], r);
    } else if (r.type === "eval" && Number.isFinite(r.step)) {
      phase = r.phase === "finetune" ? "finetune" : "main";
      const key = `${phase}/${r.split}`;
      if (!evals.has(key)) evals.set(key, []);
      // test is scored once; a repeat (after a resume) replaces it whatever its step
      if (r.split === "test") evals.set(key, [r]);
      else appendReplaying(evals.get(key)!, r);
    } else if (r.type === "event") {
      events.push({ rec: r, phase });
    }
  }
  const mainEvals = [...(evals.get("main/dev") ?? []), ...(evals.get("main/test") ?? [])];
  const ftEvals = [...(evals.get("finetune/dev") ?? []), ...(evals.get("finetune/test") ?? [])];
  let mainLast = -Infinity, ftFirst = Infinity;
  for (const r of [...byPhase.main, ...mainEvals]) mainLast = Math.max(mainLast, r.step);
  for (const r of [...byPhase.finetune, ...ftEvals]) ftFirst = Math.min(ftFirst, r.step);
  const offset = Number.isFinite(ftFirst) && Number.isFinite(mainLast) && ftFirst <= mainLast
    ? mainLast
    : 0;
  const x = new Map<MetricRecord, number>();
  for (const r of [...byPhase.main, ...mainEvals]) x.set(r, r.step);
  for (const r of [...byPhase.finetune, ...ftEvals]) x.set(r, r.step + offset);
  for (const e of events) x.set(e.rec, e.rec.step + (e.phase === "finetune" ? offset : 0));
  const byX = (a: MetricRecord, b: MetricRecord) => x.get(a)! - x.get(b)!;
  return {
    steps: [...byPhase.main, ...byPhase.finetune],
    dev: [...(evals.get("main/dev") ?? []), ...(evals.get("finetune/dev") ?? [])].sort(byX),
    test: [...(evals.get("main/test") ?? []), ...(evals.get("finetune/test") ?? [])].sort(byX),
    events: events.map((e) => e.rec),
    x,
    finetuneStart: Number.isFinite(ftFirst) ? ftFirst + offset : undefined,
  };
}

/**
 * Exponential moving average with TensorBoard's bias correction (the first values are not pulled
 * towards 0); non-finite values are passed over. `tau` is the time constant in points.
 */
export function smoothEma(ys: readonly number[], tau: number): number[] {
  const beta = tau <= 1 ? 0 : 1 - 1 / tau;
  let acc = 0, weight = 0;
  return ys.map((y) => {
    if (!Number.isFinite(y)) return NaN;
    acc = beta * acc + (1 - beta) * y;
    weight = beta * weight + (1 - beta);
    return acc / weight;
  });
}

/** The smoothing time constant for a series of n points: about n / 50, between 1 and 200. */
export function smoothingTau(n: number): number {
  return Math.max(1, Math.min(200, Math.round(n / 50)));
}

/** The largest finite value (-∞ when there is none); no spread, so any length works. */
function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

function quantile(values: number[], q: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))];
}

/** "3 h 05 min", "4 min 07 s", "12.3 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${formatNumber(seconds, 3)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h} h ${two(m)} min` : `${m} min ${two(r)} s`;
}

function settingValue(
  settings: TrainReportInfo["settings"],
  ...names: string[]
): string | number | boolean | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  for (const name of names) {
    for (const [k, v] of Object.entries(settings)) if (norm(k) === norm(name)) return v;
  }
  return undefined;
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The dev evaluation whose checkpoint was kept: the last one flagged best. */
function bestDev(t: Timeline): EvalRecord | undefined {
  for (let i = t.dev.length - 1; i >= 0; i--) if (t.dev[i].best === true) return t.dev[i];
  return undefined;
}

/** Which dev metric selects the checkpoint, from the settings; undefined when not stated. */
function selectionMetric(info: TrainReportInfo): "accuracy" | "macro_f1" | undefined {
  const v = settingValue(
    info.settings,
    "metric",
    "best metric",
    "selection metric",
    "select metric",
    "early stopping metric",
  );
  if (typeof v !== "string") return undefined;
  if (/acc/i.test(v)) return "accuracy";
  if (/f1/i.test(v)) return "macro_f1";
  return undefined;
}

function computedSummary(t: Timeline): [string, string | number][] {
  const rows: [string, string | number][] = [];
  const main = t.steps.filter((s) => s.phase !== "finetune").length;
  const ft = t.steps.length - main;
  rows.push(["optimizer steps logged", ft ? `${main} main + ${ft} fine-tuning` : main]);
  const lastStep = t.steps.at(-1);
  if (lastStep && isNum(lastStep.epoch)) rows.push(["last epoch", lastStep.epoch]);
  rows.push(["dev evaluations", t.dev.length]);
  const best = bestDev(t);
  if (best) {
    rows.push(["best dev accuracy", best.accuracy]);
    rows.push(["best dev macro-F1", best.macro_f1]);
    rows.push([
      "best dev at",
      `step ${best.step.toLocaleString("en-US")}, epoch ${formatNumber(best.epoch, 4)}` +
      (best.phase === "finetune" ? " (fine-tuning)" : ""),
    ]);
  }
  const test = t.test.at(-1);
  if (test) {
    rows.push(["test accuracy", test.accuracy]);
    rows.push(["test macro-F1", test.macro_f1]);
    rows.push(["test loss", test.loss]);
  }
  const times = t.steps.map((s) => s.time).filter(isNum);
  if (times.length) rows.push(["wall time (last step)", formatDuration(maxOf(times))]);
  const eps = t.steps.map((s) => s.examples_per_s).filter(isNum);
  if (eps.length) {
    rows.push(["examples/s (mean over steps)", eps.reduce((a, b) => a + b, 0) / eps.length]);
  }
  const w = [...t.steps].reverse().find((s) => s.weights)?.weights;
  if (w) rows.push(["final task weights (cls / mlm)", `${w.cls.toFixed(3)} / ${w.mlm.toFixed(3)}`]);
  const truncation = [...t.events].reverse().find((e) => e.truncation)?.truncation;
  if (truncation) {
    const splits = (["train", "dev", "test"] as const).filter((s) =>
      truncation.texts[s] !== undefined
    );
    rows.push([
      `texts truncated to ${truncation.max_length} tokens`,
      splits.map((s) => `${s} ${truncation.truncated[s] ?? 0} of ${truncation.texts[s]}`).join(
        ", ",
      ),
    ]);
  }
  if (t.events.length) rows.push(["events", t.events.length]);
  return rows;
}

function shortEvent(message: string): string {
  const m = String(message).trim();
  return m.length > 26 ? m.slice(0, 25) + "…" : m;
}

/** The same x range on every chart, so that they line up: 0 (or below) to the last record. */
function xRange(t: Timeline): { xMin: number; xMax: number } {
  let lo = 0, hi = -Infinity;
  for (const v of t.x.values()) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi > lo)) hi = lo + 1;
  const step = niceStep((hi - lo) / 8);
  return { xMin: lo, xMax: Math.ceil(hi / step - 1e-9) * step };
}

function eventMarkers(t: Timeline) {
  const marks: { x: number; label?: string; title?: string }[] = [];
  if (t.finetuneStart !== undefined) marks.push({ x: t.finetuneStart, label: "fine-tuning" });
  for (const e of t.events) {
    // The data event (truncation counts) is not a moment of the training: it stays off the charts.
    if (e.truncation) continue;
    marks.push({ x: t.x.get(e)!, label: shortEvent(e.message), title: String(e.message) });
  }
  return marks;
}

function lossChart(t: Timeline): string {
  const xs = t.steps.map((s) => t.x.get(s)!);
  const cls = t.steps.map((s) => (isNum(s.loss_cls) ? s.loss_cls : NaN));
  const mlm = t.steps.map((s) => (isNum(s.loss_mlm) ? s.loss_mlm : NaN));
  const hasMlm = mlm.some(Number.isFinite);
  const tau = smoothingTau(t.steps.length);
  const series: LineSeries[] = [{
    name: "classification loss",
    color: COLORS.cls,
    xs,
    ys: smoothEma(cls, tau),
    raw: { xs, ys: cls },
  }];
  if (hasMlm) {
    series.push({
      name: "MLM loss",
      color: COLORS.mlm,
      xs,
      ys: smoothEma(mlm, tau),
      raw: { xs, ys: mlm },
    });
  }
  const devX = t.dev.map((e) => t.x.get(e)!), devY = t.dev.map((e) => e.loss);
  if (t.dev.length) {
    series.push({
      name: "dev loss",
      color: COLORS.dev,
      xs: devX,
      ys: devY,
      markers: t.dev.length <= MAX_DOTS,
    });
  }
  // Keep a few early spikes from flattening the rest: the top is the larger of the smoothed
  // curves' maximum and the 99.5th percentile of the raw points; points above sit on the edge.
  const smoothMax = Math.max(0, ...series.map((s) => maxOf(Array.from(s.ys))));
  const rawTop = quantile([...cls, ...mlm], 0.995);
  const yMax = Math.max(smoothMax, Number.isFinite(rawTop) ? rawTop : 0);
  const clipped = [...cls, ...mlm].filter((v) => v > yMax).length;
  const chart = svgLineChart({
    series,
    xLabel: "optimizer step",
    yLabel: "cross-entropy",
    title: "training and dev losses by optimizer step",
    width: 1100,
    height: 340,
    yMin: 0,
    yMax: yMax > 0 ? Math.ceil(yMax / niceStep(yMax / 5)) * niceStep(yMax / 5) : undefined,
    xInteger: true,
    ...xRange(t),
    vMarkers: eventMarkers(t),
    maxPoints: MAX_POINTS,
  });
  const nonFinite = cls.filter((v) => !Number.isFinite(v)).length;
  return chart +
    `<p class="note">Faint points: each step's loss on its batch; lines: exponential moving ` +
    `average with a time constant of ${tau} step${tau === 1 ? "" : "s"}` +
    (t.dev.length ? "; black: dev loss at each evaluation" : "") +
    (hasMlm ? "" : ". No MLM task in this run") +
    (clipped
      ? `. ${clipped} point${clipped === 1 ? "" : "s"} above the plot drawn at its top`
      : "") +
    (nonFinite
      ? `. ${nonFinite} step${nonFinite === 1 ? "" : "s"} with a non-finite loss not drawn`
      : "") +
    `.</p>`;
}

function devChart(t: Timeline, info: TrainReportInfo): string {
  if (!t.dev.length) return `<p class="note">No dev evaluations recorded.</p>`;
  const xs = t.dev.map((e) => t.x.get(e)!);
  const acc = t.dev.map((e) => e.accuracy), f1 = t.dev.map((e) => e.macro_f1);
  const all = [...acc, ...f1].filter(Number.isFinite);
  const lo = all.length ? -maxOf(all.map((v) => -v)) : 0, hi = all.length ? maxOf(all) : 1;
  const yMin = Math.max(0, Math.floor((lo - 0.02) * 10) / 10);
  const yMax = hi <= 1 ? Math.min(1, Math.ceil((hi + 0.02) * 10) / 10) : undefined;
  const best = bestDev(t);
  const metric = selectionMetric(info);
  const dots = t.dev.length <= MAX_DOTS;
  const highlights = [];
  if (best) {
    const label = `best: acc ${best.accuracy.toFixed(3)}, macro-F1 ${best.macro_f1.toFixed(3)} ` +
      `@ step ${best.step.toLocaleString("en-US")}`;
    const x = t.x.get(best)!;
    if (metric !== "accuracy") highlights.push({ x, y: best.macro_f1, label, color: COLORS.f1 });
    if (metric !== "macro_f1") {
      highlights.push({
        x,
        y: best.accuracy,
        label: metric === "accuracy" ? label : "",
        color: COLORS.acc,
      });
    }
  }
  const chart = svgLineChart({
    series: [
      { name: "dev accuracy", color: COLORS.acc, xs, ys: acc, markers: dots },
      { name: "dev macro-F1", color: COLORS.f1, xs, ys: f1, markers: dots },
    ],
    xLabel: "optimizer step",
    yLabel: "score",
    title: "dev accuracy and macro-F1 by optimizer step",
    width: 1100,
    height: 300,
    yMin,
    yMax,
    xInteger: true,
    ...xRange(t),
    vMarkers: eventMarkers(t),
    highlights,
    maxPoints: MAX_POINTS,
  });
  const sel = metric === undefined
    ? ""
    : ` (selected by ${metric === "accuracy" ? "accuracy" : "macro-F1"})`;
  return chart + `<p class="note">` +
    (best
      ? `Ringed: the best dev evaluation${sel}, whose checkpoint is kept and scored on test.`
      : `No evaluation is flagged best.`) +
    ` Macro-F1 is the mean of per-class F1 over all ${info.labels.length} classes of the ` +
    `training data.</p>`;
}

function weightsChart(t: Timeline): string {
  const steps = t.steps.filter((s) => s.weights);
  if (!steps.length) {
    return `<p class="note">Single-task run: there are no task weights to show.</p>`;
  }
  const xs = steps.map((s) => t.x.get(s)!);
  return svgLineChart({
    series: [
      { name: "classification", color: COLORS.cls, xs, ys: steps.map((s) => s.weights!.cls) },
      { name: "MLM", color: COLORS.mlm, xs, ys: steps.map((s) => s.weights!.mlm) },
    ],
    xLabel: "optimizer step",
    yLabel: "task weight",
    title: "task weights by optimizer step",
    width: 1100,
    height: 260,
    yMin: 0,
    yMax: 1,
    xInteger: true,
    ...xRange(t),
    vMarkers: eventMarkers(t),
    maxPoints: MAX_POINTS,
  }) +
    `<p class="note">Softmax of the META-TARTAN task logits (constant 1/K with fixed weighting): ` +
    `the share of each task's gradient in the encoder's update.</p>`;
}

function pairChart(
  t: Timeline,
  get: (s: StepRecord) => [number, number],
  names: [string, string],
  yLabel: string,
  title: string,
  smooth: boolean,
): string {
  const xs = t.steps.map((s) => t.x.get(s)!);
  const a = t.steps.map((s) => get(s)[0]), b = t.steps.map((s) => get(s)[1]);
  const tau = smoothingTau(t.steps.length);
  const line = (name: string, color: string, ys: number[]): LineSeries =>
    smooth ? { name, color, xs, ys: smoothEma(ys, tau), raw: { xs, ys } } : { name, color, xs, ys };
  return svgLineChart({
    series: [line(names[0], COLORS.encoder, a), line(names[1], COLORS.head, b)],
    xLabel: "optimizer step",
    yLabel,
    title,
    width: 1100,
    height: 260,
    yMin: 0,
    xInteger: true,
    ...xRange(t),
    vMarkers: eventMarkers(t),
    maxPoints: MAX_POINTS,
  });
}

function confusionSection(t: Timeline, labels: string[]): string {
  const test = [...t.test].reverse().find((e) => Array.isArray(e.confusion));
  const best = bestDev(t);
  const src = test ?? (best && Array.isArray(best.confusion) ? best : undefined);
  if (!src) return `<p class="note">No confusion matrix recorded.</p>`;
  const m = src.confusion!;
  const K = m.length;
  const name = (k: number) => escapeHtml(labels[k] ?? String(k));
  const scores = perClassScores(m);
  const head =
    `<tr><th class="corner">true ↓ predicted →</th>${
      m.map((_, k) => `<th class="col" title="${name(k)}">${name(k)}</th>`).join("")
    }<th class="num">support</th><th class="num">precision</th><th class="num">recall</th>` +
    `<th class="num">F1</th></tr>`;
  const rows = m.map((row, tIdx) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((c, p) => {
      const share = total ? c / total : 0;
      const bg = p === tIdx
        ? `rgba(21,128,61,${(0.08 + 0.72 * share).toFixed(2)})`
        : `rgba(194,65,12,${(share > 0 ? 0.08 + 0.72 * share : 0).toFixed(2)})`;
      const dark = share > 0.55 ? ";color:#fff" : "";
      return `<td class="num cell" style="background:${bg}${dark}" title="true ${name(tIdx)}, ` +
        `predicted ${name(p)}: ${c} of ${total}">${c}</td>`;
    }).join("");
    const s = scores[tIdx];
    return `<tr><th scope="row">${name(tIdx)}</th>${cells}<td class="num">${s.support}</td>` +
      `<td class="num">${s.precision.toFixed(3)}</td><td class="num">${s.recall.toFixed(3)}</td>` +
      `<td class="num">${s.f1.toFixed(3)}</td></tr>`;
  }).join("");
  const what = src.split === "test"
    ? "Test set, best checkpoint"
    : `Dev set, best evaluation (step ${src.step.toLocaleString("en-US")})`;
  const mismatch = labels.length && labels.length !== K
    ? ` The matrix has ${K} classes but ${labels.length} labels were given.`
    : "";
  return `<table class="confusion"><caption>${what}</caption><thead>${head}</thead>` +
    `<tbody>${rows}</tbody></table><p class="note">Rows: true class; columns: predicted class; ` +
    `shading: share of the row (green on the diagonal, orange off it).${mismatch}</p>`;
}

const isBestDev = (e: EvalRecord) => e.best === true && e.split === "dev";

/** Evaluation rows listed at most; a longer run lists an even spread plus every best and test. */
export const MAX_EVAL_ROWS = 200;

function evalTable(t: Timeline): string {
  const all = [...t.dev, ...t.test];
  if (!all.length) return "";
  let shown = all;
  if (all.length > MAX_EVAL_ROWS) {
    const keep = new Set<EvalRecord>([t.dev[0], t.dev.at(-1)!, ...t.test]);
    const bests = t.dev.filter(isBestDev);
    for (const e of bests.slice(-Math.floor(MAX_EVAL_ROWS / 2))) keep.add(e);
    const stride = Math.ceil(t.dev.length / Math.max(1, MAX_EVAL_ROWS - keep.size));
    for (let i = 0; i < t.dev.length && keep.size < MAX_EVAL_ROWS; i += stride) keep.add(t.dev[i]);
    shown = all.filter((e) => keep.has(e));
  }
  const rows = shown.map((e) =>
    // only a dev evaluation can be "best" (the trainer may flag its test record too)
    `<tr${isBestDev(e) ? ` class="best"` : ""}><td>${escapeHtml(String(e.split))}</td>` +
    `<td class="num">${e.step.toLocaleString("en-US")}</td><td class="num">${
      formatNumber(e.epoch, 4)
    }</td><td>${escapeHtml(String(e.phase))}</td><td class="num">${
      isNum(e.accuracy) ? e.accuracy.toFixed(4) : "—"
    }</td><td class="num">${isNum(e.macro_f1) ? e.macro_f1.toFixed(4) : "—"}</td>` +
    `<td class="num">${isNum(e.loss) ? e.loss.toFixed(4) : "—"}</td><td>${
      isBestDev(e) ? "best" : ""
    }</td></tr>`
  ).join("");
  const what = shown.length === all.length
    ? `All ${all.length} evaluations`
    : `${shown.length} of ${all.length} evaluations (evenly spread, with every best and test)`;
  return `<details><summary>${what}</summary><table class="evals"><thead>` +
    `<tr><th>split</th><th class="num">step</th><th class="num">epoch</th><th>phase</th>` +
    `<th class="num">accuracy</th><th class="num">macro-F1</th><th class="num">loss</th>` +
    `<th></th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function eventsList(t: Timeline): string {
  if (!t.events.length) return `<p class="note">No events.</p>`;
  return `<ul class="events">${
    t.events.map((e) =>
      `<li><span class="mono">step ${escapeHtml(String(e.step))}</span> ${
        escapeHtml(String(e.message))
      }</li>`
    ).join("")
  }</ul>`;
}

const TRAIN_CSS = BASE_CSS + `
nav.toc { font-size: 13px; color: #555; }
nav.toc a { color: #1f4e9c; margin-right: 12px; text-decoration: none; }
.sub { color: #555; margin: 0 0 8px; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
svg.chart .legend { fill: #222; font-size: 12px; }
svg.chart .highlight-label { font-size: 12px; font-weight: 600; paint-order: stroke;
  stroke: #fff; stroke-width: 3px; }
svg.chart .marker-label { paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
table.confusion th.col { max-width: 110px; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; font-weight: 600; }
table.confusion th.corner { color: #666; font-weight: 500; }
table.confusion td.cell { min-width: 44px; border: 1px solid #fff; }
table.confusion thead th { border-bottom: 1px solid #ccc; }
table.evals thead th { border-bottom: 1px solid #ccc; }
table.evals tr.best { background: #eef7ee; font-weight: 600; }
details summary { cursor: pointer; color: #1f4e9c; margin: 8px 0; }
ul.events { padding-left: 18px; }
`;

/** The whole report as one self-contained HTML document. */
export function renderTrainReport(records: MetricRecord[], info: TrainReportInfo): string {
  const t = buildTimeline(records);
  const esc = escapeHtml;
  const model = settingValue(info.settings, "model");
  const mode = settingValue(info.settings, "mode");
  const masking = settingValue(info.settings, "masking");
  const weighting = settingValue(info.settings, "weighting");
  const sub = [
    model,
    mode,
    mode === "stl" ? undefined : masking,
    mode === "stl" ? undefined : weighting,
  ]
    .filter((x) => x !== undefined).map((x) => esc(String(x)));
  const parts: string[] = [];
  parts.push(`<h1>l3mask train report</h1>`);
  if (sub.length) parts.push(`<p class="sub">${sub.join(" · ")}</p>`);
  parts.push(
    `<nav class="toc"><a href="#run">Run</a><a href="#loss">Losses</a><a href="#dev">Dev scores</a>` +
      `<a href="#weights">Task weights</a><a href="#lr">Learning rates</a>` +
      `<a href="#grad">Gradient norms</a><a href="#confusion">Confusion matrix</a>` +
      `<a href="#events">Events</a></nav>`,
  );
  parts.push(
    `<section id="run"><h2>Run</h2><div class="cols">` +
      keyValueTable(Object.entries(info.summary), "Summary") +
      keyValueTable(computedSummary(t), "From metrics.jsonl") +
      keyValueTable(Object.entries(info.settings), "Settings") +
      `</div></section>`,
  );
  const noSteps = `<p class="note">No optimizer steps recorded.</p>`;
  parts.push(
    `<section id="loss"><h2>Losses</h2>${t.steps.length ? lossChart(t) : noSteps}</section>`,
  );
  parts.push(
    `<section id="dev"><h2>Dev accuracy and macro-F1</h2>${devChart(t, info)}${
      evalTable(t)
    }</section>`,
  );
  parts.push(
    `<section id="weights"><h2>Task weights</h2>${t.steps.length ? weightsChart(t) : noSteps}` +
      `</section>`,
  );
  parts.push(
    `<section id="lr"><h2>Learning rates</h2>${
      t.steps.length
        ? pairChart(
          t,
          (s) => [s.lr_encoder, s.lr_head],
          ["encoder", "head"],
          "learning rate",
          "learning rates by optimizer step",
          false,
        )
        : noSteps
    }</section>`,
  );
  parts.push(
    `<section id="grad"><h2>Gradient norms</h2>${
      t.steps.length
        ? pairChart(
          t,
          (s) => [s.grad_norm_encoder, s.grad_norm_head],
          ["encoder", "head"],
          "global gradient norm",
          "gradient norms by optimizer step",
          true,
        ) +
          `<p class="note">Global L2 norm of each parameter group's gradient as logged (each ` +
          `group is clipped to norm 1.0 before the AdamW step); faint points per step, lines ` +
          `smoothed as the losses are.</p>`
        : noSteps
    }</section>`,
  );
  parts.push(
    `<section id="confusion"><h2>Confusion matrix</h2>${
      confusionSection(t, info.labels)
    }</section>`,
  );
  parts.push(`<section id="events"><h2>Events</h2>${eventsList(t)}</section>`);
  const title = ["l3mask train", model, mode].filter((x) => x !== undefined).join(" — ");
  return htmlDocument({ title, css: TRAIN_CSS, body: parts.join("\n") });
}
