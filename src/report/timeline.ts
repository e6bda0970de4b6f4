/**
 * A run's metrics.jsonl records as a timeline for the report: steps per phase, dev and test
 * evaluations and events, with every record's x position. Records are read as written, with two
 * repairs: a resumed run replays the steps after its last checkpoint, so a step (or evaluation)
 * that is not after the previous one of its phase replaces the records from that step on; and
 * when the fine-tuning phase numbers its steps from 0 again, its steps are drawn after the main
 * phase's last step. Also the small series helpers the charts and tables share.
 */
import type { EvalRecord, EventRecord, MetricRecord, Phase, StepRecord } from "../run/records.ts";

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
export function appendReplaying<T extends { step: number }>(list: T[], rec: T): void {
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
/** The dev evaluation whose checkpoint was kept: the last one flagged best. */
export function bestDev(t: Timeline): EvalRecord | undefined {
  for (let i = t.dev.length - 1; i >= 0; i--) if (t.dev[i].best === true) return t.dev[i];
  return undefined;
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
export function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}
export function quantile(values: number[], q: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))];
}
export function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}
