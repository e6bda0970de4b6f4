/**
 * The run's report.html: self-contained (nothing loaded from anywhere), the right series for
 * single-task and multi-task runs, the best dev evaluation marked, user text escaped, long runs
 * downsampled to a bounded size with their first and last points kept, resumed and fine-tuning
 * records placed on one step axis, and metrics.jsonl parsing.
 */
import assert from "node:assert/strict";
import {
  describeTruncation,
  type EvalRecord,
  type MetricRecord,
  parseMetricsJsonl,
  type StepRecord,
} from "../src/run/records.ts";
import { formatDuration, renderTrainReport } from "../src/report/train_report.ts";
import { buildTimeline, smoothEma } from "../src/report/timeline.ts";
import { MAX_POINTS, type TrainReportInfo } from "../src/report/train_charts.ts";
import {
  downsampleIndices,
  formatTick,
  strideIndices,
  svgLineChart,
} from "../src/report/charts.ts";
import { perClassScores } from "../src/classify/metrics.ts";
import { rng } from "./util.ts";

interface SampleOpts {
  steps: number;
  mtl: boolean;
  stepsPerEval?: number;
  seed?: number;
}

/** A plausible run: decaying losses, drifting task weights, linear schedule, dev evals, a test. */
function sampleRun(o: SampleOpts): MetricRecord[] {
  const r = rng(o.seed ?? 1);
  const every = o.stepsPerEval ?? 25;
  const out: MetricRecord[] = [];
  let logitCls = 0, logitMlm = 0, best = -Infinity;
  for (let s = 1; s <= o.steps; s++) {
    logitCls += 0.004 * r();
    logitMlm += 0.004 * (r() - 0.5);
    const z = Math.exp(logitCls) + Math.exp(logitMlm);
    const lr = s < 0.06 * o.steps ? s / (0.06 * o.steps) : (o.steps - s) / (0.94 * o.steps);
    out.push({
      type: "step",
      step: s,
      epoch: Math.floor(s / every),
      phase: "main",
      loss_cls: 1.7 * Math.exp(-s / 200) + 0.2 + 0.3 * r(),
      loss_mlm: o.mtl ? 2.2 + 0.4 * r() : null,
      weights: o.mtl ? { cls: Math.exp(logitCls) / z, mlm: Math.exp(logitMlm) / z } : null,
      lr_encoder: 1e-4 * lr,
      lr_head: 1e-3 * lr,
      grad_norm_encoder: 1 + r(),
      grad_norm_head: 0.5 + r(),
      examples_per_s: 100 + 10 * r(),
      time: s * 0.5,
    });
    if (s % every === 0) {
      const f1 = 0.6 + 0.2 * r();
      const rec: EvalRecord = {
        type: "eval",
        step: s,
        epoch: s / every,
        phase: "main",
        split: "dev",
        accuracy: f1 + 0.1,
        macro_f1: f1,
        loss: 0.9 + 0.2 * r(),
        best: f1 > best,
      };
      if (f1 > best) best = f1;
      out.push(rec);
    }
  }
  out.push({ type: "event", step: o.steps, message: "early stop after 3 evaluations" });
  out.push({
    type: "eval",
    step: o.steps,
    epoch: o.steps / every,
    phase: "main",
    split: "test",
    accuracy: 0.75,
    macro_f1: 0.7,
    loss: 0.8,
    best: true, // as src/train/run.ts writes it: the test row must not count as a best dev
    confusion: [[5, 1, 0], [2, 6, 1], [0, 1, 4]],
  });
  return out;
}

const info = (mode: string): TrainReportInfo => ({
  settings: { model: "roberta-base", mode, masking: "l3", weighting: "meta", metric: "macro_f1" },
  labels: ["background", "uses", "extends"],
  summary: { "best dev macro-F1": 0.8, "wall time": "1 min 40 s" },
});

/** The HTML of one <section id=…>. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  assert.ok(start >= 0, `no section ${id}`);
  return html.slice(start, html.indexOf("</section>", start));
}

const seriesNames = (html: string) =>
  [...html.matchAll(/<g class="series" data-series="([^"]*)">/g)].map((m) => m[1]);

Deno.test("the report loads nothing: no URLs, scripts, external resources or xmlns", () => {
  for (const mtl of [false, true]) {
    const recs = sampleRun({ steps: 300, mtl });
    const html = renderTrainReport(recs, info(mtl ? "mtl" : "stl"));
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|<object|<embed|@import|url\(|\bsrc=/i);
    assert.doesNotMatch(html, /xmlns/);
    for (const m of html.matchAll(/href="([^"]*)"/g)) assert.match(m[1], /^#/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /NaN/, "a NaN reached the page");
  }
});

Deno.test("MTL: loss chart has classification, MLM and dev loss; weights and lrs have 2 series", () => {
  const html = renderTrainReport(sampleRun({ steps: 300, mtl: true }), info("mtl"));
  assert.deepEqual(seriesNames(section(html, "loss")), [
    "classification loss",
    "MLM loss",
    "dev loss",
  ]);
  assert.deepEqual(seriesNames(section(html, "weights")), ["classification", "MLM"]);
  assert.deepEqual(seriesNames(section(html, "lr")), ["encoder", "head"]);
  assert.deepEqual(seriesNames(section(html, "grad")), ["encoder", "head"]);
  assert.deepEqual(seriesNames(section(html, "dev")), ["dev accuracy", "dev macro-F1"]);
  // loss series carry faint raw points under the smoothed line
  assert.equal((section(html, "loss").match(/<path class="raw"/g) ?? []).length, 2);
  assert.ok(html.includes("final task weights (cls / mlm)"));
});

Deno.test("STL: no MLM series and no task-weight chart", () => {
  const html = renderTrainReport(sampleRun({ steps: 300, mtl: false }), info("stl"));
  assert.deepEqual(seriesNames(section(html, "loss")), ["classification loss", "dev loss"]);
  assert.ok(!section(html, "weights").includes("<svg"));
  assert.ok(section(html, "weights").includes("Single-task run"));
  assert.ok(section(html, "loss").includes("No MLM task in this run"));
  assert.deepEqual(seriesNames(section(html, "lr")), ["encoder", "head"]);
});

Deno.test("the best dev evaluation (the last one flagged best) is ringed and labelled", () => {
  const recs = sampleRun({ steps: 400, mtl: true, seed: 3 });
  const devs = recs.filter((r): r is EvalRecord => r.type === "eval" && r.split === "dev");
  const best = devs.filter((e) => e.best).at(-1)!;
  const html = renderTrainReport(recs, info("mtl"));
  const dev = section(html, "dev");
  const rings = dev.match(/<g class="highlight">/g) ?? [];
  assert.equal(rings.length, 1, "metric is macro_f1: one ring, on the macro-F1 point");
  const label = `best: acc ${best.accuracy.toFixed(3)}, macro-F1 ${best.macro_f1.toFixed(3)} ` +
    `@ step ${best.step}`;
  assert.ok(dev.includes(label), `missing ${label}`);
  assert.ok(dev.includes("selected by macro-F1"));
  assert.equal((dev.match(/<tr class="best">/g) ?? []).length, devs.filter((e) => e.best).length);
  // summary from the records names the same evaluation
  assert.ok(section(html, "run").includes(`step ${best.step}, epoch ${best.epoch}`));

  // selection metric not stated: both points ringed, one label
  const noMetric = { ...info("mtl"), settings: { model: "m" } };
  const dev2 = section(renderTrainReport(recs, noMetric), "dev");
  assert.equal((dev2.match(/<g class="highlight">/g) ?? []).length, 2);
  assert.equal((dev2.match(/class="highlight-label"/g) ?? []).length, 1);

  // nothing flagged: no ring, a note instead
  const unflagged = recs.map((r) => (r.type === "eval" ? { ...r, best: false } : r));
  const dev3 = section(renderTrainReport(unflagged, info("mtl")), "dev");
  assert.ok(!dev3.includes(`class="highlight"`) && dev3.includes("No evaluation is flagged best"));
});

Deno.test("user text is escaped everywhere", () => {
  const recs = sampleRun({ steps: 60, mtl: true });
  recs.push({ type: "event", step: 60, message: `<img src=x onerror="alert(1)"> & stop` });
  const html = renderTrainReport(recs, {
    settings: { "<script>k</script>": `a "quoted" <b>value</b>`, model: "m<i>x</i>" },
    labels: ["<b>bold</b>", "it's", "a&b"],
    summary: { "note": "</td></tr></table><script>alert(2)</script>" },
  });
  assert.ok(!html.includes("<script"), "a raw <script> reached the page");
  assert.ok(!html.includes("<b>") && !html.includes("<i>x") && !html.includes("<img"));
  assert.ok(html.includes("&lt;script&gt;k&lt;/script&gt;"));
  assert.ok(html.includes("a &quot;quoted&quot; &lt;b&gt;value&lt;/b&gt;"));
  assert.ok(html.includes("&lt;b&gt;bold&lt;/b&gt;") && html.includes("it&#39;s"));
  assert.ok(html.includes("a&amp;b"));
  assert.ok(html.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; stop"));
  assert.ok(html.includes("<title>l3mask train — m&lt;i&gt;x&lt;/i&gt;</title>"));
});

Deno.test("downsampling keeps the first and last points and stays within the limit", () => {
  const r = rng(5);
  const n = 50_000;
  const xs = Array.from({ length: n }, (_, i) => i);
  const ys = xs.map(() => r());
  ys[31_337] = 40; // a spike that the shape-keeping choice must not drop
  for (const max of [3, 10, 1000]) {
    const idx = downsampleIndices(xs, ys, max);
    assert.equal(idx.length, max);
    assert.equal(idx[0], 0);
    assert.equal(idx.at(-1), n - 1);
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1], "indices not increasing");
    const st = strideIndices(n, max);
    assert.equal(st.length, max);
    assert.deepEqual([st[0], st.at(-1)], [0, n - 1]);
  }
  assert.ok(downsampleIndices(xs, ys, 1000).includes(31_337), "the spike was dropped");
  assert.deepEqual(downsampleIndices([1, 2, 3], [4, 5, 6], 10), [0, 1, 2]);
  assert.deepEqual(strideIndices(3, 10), [0, 1, 2]);
  assert.deepEqual(downsampleIndices(xs, ys, 2), [0, n - 1]);

  // in the chart: at most MAX_POINTS per line and raw cloud; ends at the plot's left/right edges
  const svg = svgLineChart({
    series: [{ name: "s", color: "#000", xs, ys, raw: { xs, ys } }],
    xLabel: "x",
    yLabel: "y",
    width: 700,
    xMin: 0,
    xMax: n - 1,
  });
  const pts = /<polyline class="line" points="([^"]*)"/.exec(svg)![1].split(" ");
  assert.equal(pts.length, MAX_POINTS);
  assert.equal(pts[0].split(",")[0], "64"); // left margin
  assert.equal(pts.at(-1)!.split(",")[0], String(700 - 36)); // width - right margin
  const raw = /<path class="raw" d="([^"]*)"/.exec(svg)![1];
  assert.equal(raw.match(/h0/g)!.length, MAX_POINTS);
  assert.ok(raw.startsWith("M64 ") && raw.includes(`M${700 - 36} `));
});

Deno.test("a long run stays small and every series is capped", () => {
  const recs = sampleRun({ steps: 60_000, mtl: true, stepsPerEval: 20 });
  const html = renderTrainReport(recs, info("mtl"));
  assert.ok(html.length < 400_000, `report is ${html.length} bytes`);
  for (const m of html.matchAll(/<polyline class="line" points="([^"]*)"/g)) {
    assert.ok(m[1].split(" ").length <= MAX_POINTS);
  }
  for (const m of html.matchAll(/<path class="(?:raw|dots)" d="([^"]*)"/g)) {
    assert.ok(m[1].split("h0").length - 1 <= MAX_POINTS);
  }
  // 3,000 dev evaluations: the table lists a bounded selection that includes the best ones
  assert.match(html, /<summary>\d+ of 3001 evaluations/);
  assert.ok((html.match(/<tr class="best">/g) ?? []).length >= 1);
  assert.ok(html.includes("60,000"), "the last step is not on the axis or in the summary");
});

Deno.test("a resumed run's replayed steps replace the earlier ones", () => {
  const step = (s: number, loss: number): StepRecord => ({
    type: "step",
    step: s,
    epoch: 0,
    phase: "main",
    loss_cls: loss,
    loss_mlm: null,
    weights: null,
    lr_encoder: 1e-4,
    lr_head: 1e-3,
    grad_norm_encoder: 1,
    grad_norm_head: 1,
    examples_per_s: 10,
    time: s,
  });
  const recs: MetricRecord[] = [];
  for (let s = 1; s <= 10; s++) recs.push(step(s, 1));
  recs.push({ type: "event", step: 5, message: "resumed from checkpoint at step 5" });
  for (let s = 6; s <= 12; s++) recs.push(step(s, 2));
  const t = buildTimeline(recs);
  assert.deepEqual(t.steps.map((s) => s.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(t.steps.map((s) => s.loss_cls), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
});

Deno.test("fine-tuning steps numbered from 0 again are drawn after the main phase", () => {
  const base = sampleRun({ steps: 100, mtl: false });
  const main = base.filter((r) => r.type === "step" || (r.type === "eval" && r.split === "dev"));
  const ft: MetricRecord[] = [];
  for (const r of main.slice(0, 30)) {
    if (r.type === "step" || r.type === "eval") ft.push({ ...r, phase: "finetune" });
  }
  const event: MetricRecord = { type: "event", step: 3, message: "resumed" };
  const t = buildTimeline([...main, ...ft.slice(0, 4), event, ...ft.slice(4)]);
  assert.equal(t.finetuneStart, 101);
  const xs = t.steps.map((s) => t.x.get(s)!);
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i] > xs[i - 1], `x not increasing at ${i}`);
  assert.equal(t.x.get(t.events[0]), 103); // an event inside the fine-tuning phase moves with it
  const html = renderTrainReport([...main, ...ft], info("stl"));
  assert.ok(section(html, "loss").includes(">fine-tuning</text>"));
  const ftSteps = ft.filter((r) => r.type === "step").length;
  assert.ok(section(html, "run").includes(`100 main + ${ftSteps} fine-tuning`));

  // numbered on from the main phase: unchanged
  const cont = ft.map((r) => ({ ...r, step: r.step + 100 })) as MetricRecord[];
  const t2 = buildTimeline([...main, ...cont]);
  assert.equal(t2.finetuneStart, 101);
  assert.equal(t2.x.get(t2.steps.at(-1)!), t2.steps.at(-1)!.step);
});

Deno.test("confusion matrix: labels, counts and per-class scores of the test evaluation", () => {
  const html = renderTrainReport(sampleRun({ steps: 100, mtl: false }), info("stl"));
  const c = section(html, "confusion");
  assert.ok(c.includes("Test set, best checkpoint"));
  for (const name of ["background", "uses", "extends"]) assert.ok(c.includes(`>${name}</th>`));
  const f1 = perClassScores([[5, 1, 0], [2, 6, 1], [0, 1, 4]]).map((s) => s.f1.toFixed(3));
  for (const v of f1) assert.ok(c.includes(`>${v}</td>`), `F1 ${v} missing`);
  assert.equal((c.match(/class="num cell"/g) ?? []).length, 9);
  const none = renderTrainReport(
    sampleRun({ steps: 50, mtl: false }).filter((r) => !(r.type === "eval" && r.split === "test")),
    info("stl"),
  );
  assert.ok(section(none, "confusion").includes("No confusion matrix recorded"));
});

Deno.test("degenerate inputs: no records, NaN losses, a single step", () => {
  const empty = renderTrainReport([], info("stl"));
  assert.ok(empty.includes("No optimizer steps recorded") && empty.includes("No dev evaluations"));
  const recs = sampleRun({ steps: 40, mtl: true });
  for (const r of recs.slice(-12)) if (r.type === "step") r.loss_cls = NaN;
  recs.push({ type: "event", step: 40, message: "stopped: loss is NaN" });
  const html = renderTrainReport(recs, info("mtl"));
  assert.doesNotMatch(html, /="[^"]*NaN/, "a NaN coordinate reached the SVG");
  assert.ok(html.includes("with a non-finite loss not drawn"));
  const one = renderTrainReport(sampleRun({ steps: 1, mtl: false }), info("stl"));
  assert.ok(one.includes(`<path class="dots"`), "a one-point series is drawn as a dot");
});

Deno.test("metrics.jsonl parsing: partial last line dropped, bad middle line reported", () => {
  const good =
    `{"type":"event","step":1,"message":"a"}\n\n{"type":"event","step":2,"message":"b"}\n`;
  assert.equal(parseMetricsJsonl(good).length, 2);
  assert.equal(parseMetricsJsonl(good + `{"type":"st`).length, 2);
  assert.throws(
    () => parseMetricsJsonl(`{"type":"event"}\n{oops\n{"type":"event"}\n`, "run/metrics.jsonl"),
    /run\/metrics.jsonl:2: not JSON/,
  );
  assert.throws(() => parseMetricsJsonl(`[1,2]\n`), /:1: expected a JSON object/);
});

Deno.test("helpers: EMA, tick labels, durations", () => {
  // no pull towards 0 at the start (bias correction)
  for (const v of smoothEma([3, 3, 3, 3], 10)) assert.ok(Math.abs(v - 3) < 1e-12);
  assert.deepEqual(smoothEma([1, 2, 3], 1), [1, 2, 3]);
  const s = smoothEma([0, NaN, 10], 2);
  assert.ok(Number.isNaN(s[1]) && s[2] > 0 && s[2] < 10);
  assert.equal(formatTick(0.25, 0.25), "0.25");
  assert.equal(formatTick(0.5, 0.25), "0.50");
  assert.equal(formatTick(15000, 2500), "15,000");
  assert.equal(formatTick(2.5e-4, 2.5e-4), "2.5e-4");
  assert.equal(formatTick(0, 2e-4), "0");
  assert.equal(formatTick(1.2, 0.2), "1.2");
  assert.equal(formatDuration(12.34), "12.3 s");
  assert.equal(formatDuration(247), "4 min 07 s");
  assert.equal(formatDuration(3 * 3600 + 5 * 60 + 10), "3 h 05 min");
});

Deno.test("truncation: the data event's counts per split reach the run table, not the charts", () => {
  const truncation = {
    max_length: 32,
    texts: { train: 40, dev: 20, test: 10 },
    truncated: { train: 3, dev: 0, test: 1 },
  };
  assert.equal(
    describeTruncation(truncation),
    "truncated to max_length 32: 3 of 40 train texts, 0 of 20 dev, 1 of 10 test",
  );
  assert.equal(
    describeTruncation({
      max_length: 64,
      texts: { train: 8, dev: 4 },
      truncated: { train: 0, dev: 0 },
    }),
    "no text truncated to max_length 64 (8 train, 4 dev)",
  );
  const event: MetricRecord = {
    type: "event",
    step: 0,
    message: describeTruncation(truncation),
    truncation,
  };
  const html = renderTrainReport([event, ...sampleRun({ steps: 100, mtl: true })], info("mtl"));
  assert.ok(
    section(html, "run").includes(
      `<th scope="row">texts truncated to 32 tokens</th><td>train 3 of 40, dev 0 of 20, test 1 of 10</td>`,
    ),
    section(html, "run"),
  );
  assert.ok(section(html, "events").includes("3 of 40 train texts"), "listed with the events");
  assert.doesNotMatch(section(html, "loss"), /truncated/, "no chart marker for the data event");
  const none = renderTrainReport(sampleRun({ steps: 100, mtl: true }), info("mtl"));
  assert.doesNotMatch(section(none, "run"), /truncated/, "older runs have no such row");
});
