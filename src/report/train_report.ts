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
import { BASE_CSS, escapeHtml, formatNumber, htmlDocument, keyValueTable } from "./html.ts";
import { perClassScores } from "../classify/metrics.ts";
import type { EvalRecord, MetricRecord } from "../run/records.ts";
import { bestDev, buildTimeline, isNum, maxOf, type Timeline } from "./timeline.ts";
import {
  devChart,
  lossChart,
  pairChart,
  settingValue,
  type TrainReportInfo,
  weightsChart,
} from "./train_charts.ts";

export type { TrainReportInfo } from "./train_charts.ts";

/** "3 h 05 min", "4 min 07 s", "12.3 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${formatNumber(seconds, 3)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h} h ${two(m)} min` : `${m} min ${two(r)} s`;
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
