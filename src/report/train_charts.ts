/**
 * The run report's charts: losses (raw per step and smoothed), dev accuracy and macro-F1 with the
 * best evaluation marked, META-TARTAN task weights, and paired series (learning rates, gradient
 * norms), each with the run's events as vertical markers. Every series is downsampled to at most
 * MAX_POINTS points (svgLineChart).
 */
import { niceStep } from "./html.ts";
import { type LineSeries, svgLineChart } from "./charts.ts";
import type { StepRecord } from "../run/records.ts";
import {
  bestDev,
  isNum,
  maxOf,
  quantile,
  smoothEma,
  smoothingTau,
  type Timeline,
} from "./timeline.ts";

export interface TrainReportInfo {
  /** Resolved run settings: model, mode, masking, weighting, batch size, lrs, seed, ... */
  settings: Record<string, string | number | boolean>;
  /** Class names by index (id2label). */
  labels: string[];
  /** The trainer's own summary: best dev metric and step, test scores, wall time, examples/s. */
  summary: Record<string, string | number>;
}
export function settingValue(
  settings: TrainReportInfo["settings"],
  ...names: string[]
): string | number | boolean | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  for (const name of names) {
    for (const [k, v] of Object.entries(settings)) if (norm(k) === norm(name)) return v;
  }
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
export function lossChart(t: Timeline): string {
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
export function devChart(t: Timeline, info: TrainReportInfo): string {
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
export function weightsChart(t: Timeline): string {
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
export function pairChart(
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
