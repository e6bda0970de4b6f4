/**
 * Shared pieces of the self-contained HTML reports (`score --report`, the run's `report.html`):
 * escaping, number formatting, the page shell and inline SVG charts.
 *
 * Reports must open offline and load nothing: the page carries its CSS inline, charts are inline
 * SVG without an `xmlns` (HTML does not need one, and it keeps every URL out of the file), and a
 * Content-Security-Policy meta tag forbids any fetch, so even a URL that slipped into user text
 * could not become a request.
 */

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * User text as HTML text or as a quoted attribute value. C0 controls other than tab, newline and
 * carriage return (and DEL) are parse errors in HTML even as character references, so they become
 * U+FFFD; lone surrogates become U+FFFD when the page is encoded as UTF-8 anyway.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g,
    "\ufffd",
  );
}

/**
 * A number for display: `digits` significant digits, no exponent for ordinary magnitudes; NaN
 * (a mean over nothing) is shown as a dash.
 */
export function formatNumber(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "—";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString("en-US");
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return String(Number(x.toPrecision(digits)));
}

/** A step of the form {1, 2, 2.5, 5} × 10^k that is >= raw (raw > 0). */
export function niceStep(raw: number, mantissas: readonly number[] = [1, 2, 2.5, 5]): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of mantissas) if (m * pow >= raw * (1 - 1e-12)) return m * pow;
  return 10 * pow;
}

export interface PageOptions {
  title: string;
  /** Inline CSS, placed in a <style> element. */
  css: string;
  /** The already-escaped body HTML. */
  body: string;
}

/** A complete HTML document that loads nothing from anywhere (see the module comment). */
export function htmlDocument(opts: PageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>
${opts.css}
</style>
</head>
<body>
${opts.body}
</body>
</html>
`;
}

/** A two-column table of names and values (both escaped). */
export function keyValueTable(
  entries: Iterable<readonly [string, string | number | boolean]>,
  caption?: string,
): string {
  const rows: string[] = [];
  for (const [k, v] of entries) {
    const shown = typeof v === "number" ? formatNumber(v, 4) : String(v);
    rows.push(`<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(shown)}</td></tr>`);
  }
  const cap = caption === undefined ? "" : `<caption>${escapeHtml(caption)}</caption>`;
  return `<table class="kv">${cap}<tbody>${rows.join("")}</tbody></table>`;
}

export interface HistogramOptions {
  /** Count per bin; bin b covers [lo + b w, lo + (b + 1) w) with w = (hi - lo) / counts.length. */
  counts: readonly number[];
  lo: number;
  hi: number;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fill per bin (CSS colour); defaults to one grey. */
  fills?: readonly string[];
  /** A dashed vertical marker, e.g. the mean. */
  marker?: { x: number; label: string };
  /** Accessible name of the chart. */
  title?: string;
}

/**
 * A histogram as inline SVG: one <rect> per bin carrying `data-count` and a <title> tooltip,
 * x ticks at nice values, y ticks from 0 to the largest count, and axis labels.
 */
export function svgHistogram(opts: HistogramOptions): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 280;
  const left = 64, right = 16, top = 16, bottom = 48;
  const pw = W - left - right, ph = H - top - bottom;
  const n = opts.counts.length;
  const { lo, hi } = opts;
  const span = hi - lo > 0 ? hi - lo : 1;
  const maxCount = Math.max(1, ...opts.counts);
  const yStep = Math.max(1, niceStep(maxCount / 5, [1, 2, 5]));
  const yTop = Math.ceil(maxCount / yStep) * yStep;
  const sx = (x: number) => left + ((x - lo) / span) * pw;
  const sy = (c: number) => top + ph - (c / yTop) * ph;
  const f = (v: number) => String(Math.round(v * 10) / 10);
  const out: string[] = [];
  const label = escapeHtml(opts.title ?? `${opts.yLabel} by ${opts.xLabel}`);
  out.push(
    `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${label}">`,
  );
  // y grid and ticks
  for (let c = 0; c <= yTop + 1e-9; c += yStep) {
    const y = f(sy(c));
    out.push(`<line class="grid" x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        formatNumber(c)
      }</text>`,
    );
  }
  // bars
  const bw = pw / Math.max(1, n);
  for (let b = 0; b < n; b++) {
    const c = opts.counts[b];
    const x0 = lo + (b * span) / n, x1 = lo + ((b + 1) * span) / n;
    const y = sy(c);
    const fill = opts.fills?.[b] ?? "#888";
    out.push(
      `<rect class="bar" data-bin="${b}" data-count="${c}" x="${f(left + b * bw + 0.5)}" y="${
        f(y)
      }" width="${f(Math.max(0, bw - 1))}" height="${f(top + ph - y)}" fill="${
        escapeHtml(fill)
      }"><title>${formatNumber(x0, 3)} – ${formatNumber(x1, 3)}: ${
        c.toLocaleString("en-US")
      }</title></rect>`,
    );
  }
  // x axis and ticks
  out.push(`<line class="axis" x1="${left}" x2="${left + pw}" y1="${top + ph}" y2="${top + ph}"/>`);
  out.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}"/>`);
  const xStep = niceStep(span / 6, [1, 2, 5]);
  for (let k = Math.ceil(lo / xStep - 1e-9); k * xStep <= hi + 1e-9 * span; k++) {
    const v = k * xStep;
    const x = f(sx(v));
    out.push(`<line class="axis" x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}"/>`);
    out.push(
      `<text class="tick" x="${x}" y="${top + ph + 18}" text-anchor="middle">${
        formatNumber(Number(v.toPrecision(6)))
      }</text>`,
    );
  }
  if (opts.marker && Number.isFinite(opts.marker.x)) {
    const x = f(sx(Math.min(hi, Math.max(lo, opts.marker.x))));
    out.push(`<line class="marker" x1="${x}" x2="${x}" y1="${top}" y2="${top + ph}"/>`);
    out.push(
      `<text class="marker-label" x="${x}" y="${top + 10}" dx="4">${
        escapeHtml(opts.marker.label)
      }</text>`,
    );
  }
  out.push(
    `<text class="label" x="${left + pw / 2}" y="${H - 8}" text-anchor="middle">${
      escapeHtml(opts.xLabel)
    }</text>`,
  );
  out.push(
    `<text class="label" transform="translate(16 ${
      top + ph / 2
    }) rotate(-90)" text-anchor="middle">${escapeHtml(opts.yLabel)}</text>`,
  );
  out.push(`</svg>`);
  return out.join("");
}

/** CSS for the elements above (tables, charts); reports append their own. */
export const BASE_CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #222; background: #fff; margin: 0 auto; padding: 16px 24px 48px; max-width: 1180px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 12px 0 6px; }
p.note, .note { color: #666; font-size: 12.5px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 2px 8px; text-align: left; vertical-align: top; }
table.kv th { color: #555; font-weight: 500; white-space: nowrap; }
table.kv td { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
table.kv tr:nth-child(odd) { background: #f6f6f6; }
svg.chart { font-size: 11px; max-width: 100%; height: auto; }
svg.chart .grid { stroke: #eee; }
svg.chart .axis { stroke: #444; }
svg.chart .tick { fill: #444; }
svg.chart .label { fill: #222; font-size: 12px; }
svg.chart .marker { stroke: #1f4e9c; stroke-dasharray: 4 3; }
svg.chart .marker-label { fill: #1f4e9c; font-size: 11px; }
svg.chart .bar:hover { opacity: 0.75; }
`;

// ---------------------------------------------------------------------------------------------
// Line charts (the run's report.html): downsampling, tick labels and an inline SVG line chart.

/**
 * Indices of at most `max` points that keep the shape of the series (largest-triangle-three-
 * buckets, Steinarsson 2013): always the first and the last point, then per bucket the point
 * spanning the largest triangle with the previous pick and the next bucket's mean. All indices
 * when there are no more than `max` points; xs ascending.
 */
export function downsampleIndices(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  max: number,
): number[] {
  const n = xs.length;
  if (ys.length !== n) throw new Error(`downsample: ${n} x values but ${ys.length} y values`);
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max < 3) return max <= 0 ? [] : max === 1 ? [0] : [0, n - 1];
  const out = [0];
  const every = (n - 2) / (max - 2);
  let a = 0;
  for (let b = 0; b < max - 2; b++) {
    const lo = Math.floor(b * every) + 1, hi = Math.min(n - 1, Math.floor((b + 1) * every) + 1);
    const nlo = hi, nhi = Math.min(n, Math.floor((b + 2) * every) + 1);
    let mx = 0, my = 0;
    for (let j = nlo; j < nhi; j++) {
      mx += xs[j];
      my += ys[j];
    }
    const cnt = nhi - nlo;
    if (cnt > 0) {
      mx /= cnt;
      my /= cnt;
    } else {
      mx = xs[n - 1];
      my = ys[n - 1];
    }
    let pick = lo, area = -1;
    for (let j = lo; j < hi; j++) {
      const s = Math.abs((xs[a] - mx) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (my - ys[a]));
      if (s > area) {
        area = s;
        pick = j;
      }
    }
    out.push(pick);
    a = pick;
  }
  out.push(n - 1);
  return out;
}

/**
 * At most `max` evenly spaced indices of 0..n-1, always with the first and the last. For clouds of
 * noisy raw points, where picking extremes (as downsampleIndices does) would draw only the envelope.
 */
export function strideIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max < 2) return max <= 0 ? [] : [0];
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return out;
}

/** A tick value labelled with just the digits its step needs ("0.25", "1,500", "2.5e-4"). */
export function formatTick(v: number, step: number): string {
  if (Math.abs(v) < Math.abs(step) * 1e-9) return "0";
  const a = Math.abs(step);
  if (a < 1e-3 || a >= 1e6) return String(Number(v.toPrecision(4)).toExponential());
  const s = String(Number(a.toPrecision(6)));
  const decimals = s.includes(".") ? s.length - s.indexOf(".") - 1 : 0;
  return Number(v.toFixed(decimals)).toLocaleString("en-US", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

export interface LineSeries {
  /** Legend text (escaped); also the `data-series` attribute of the series' <g>. */
  name: string;
  /** CSS colour of the line, its markers and its raw points. */
  color: string;
  /** The line; x ascending, non-finite y values are left out. */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** Faint points drawn under the line (per-step values before smoothing); thinned evenly. */
  raw?: { xs: ArrayLike<number>; ys: ArrayLike<number> };
  /** A dot at every point of the line (sparse series such as evaluations). */
  markers?: boolean;
  dashed?: boolean;
}

export interface LineChartOptions {
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  /** Accessible name of the chart. */
  title?: string;
  width?: number;
  height?: number;
  /** Axis ranges; by default they cover every drawn point. Points outside are drawn at the edge. */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** x ticks at whole numbers only (steps, epochs). */
  xInteger?: boolean;
  /** Dashed vertical lines (a phase change, an event) with an optional short label. */
  vMarkers?: readonly { x: number; label?: string; title?: string }[];
  /** Ringed points with a label, e.g. the best evaluation. */
  highlights?: readonly { x: number; y: number; label: string; color?: string }[];
  /**
   * Each line (downsampleIndices) and each raw cloud (strideIndices) is cut to at most this many
   * points (default 1000).
   */
  maxPoints?: number;
}

function finitePairs(xs: ArrayLike<number>, ys: ArrayLike<number>): [number[], number[]] {
  if (xs.length !== ys.length) {
    throw new Error(`line chart: ${xs.length} x values but ${ys.length} y values`);
  }
  const fx: number[] = [], fy: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) {
      fx.push(xs[i]);
      fy.push(ys[i]);
    }
  }
  return [fx, fy];
}

/** Nice ticks covering [lo, hi]: the (possibly widened) range and the tick step. */
function niceRange(lo: number, hi: number, count: number, integer: boolean) {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep((hi - lo) / count);
  if (integer) step = Math.max(1, Math.round(step));
  return { lo: Math.floor(lo / step + 1e-9) * step, hi: Math.ceil(hi / step - 1e-9) * step, step };
}

/**
 * A line chart as inline SVG: one `<g class="series" data-series="…">` per series holding its
 * faint raw points, its line and its markers; grid, axes with nice ticks, axis labels, a legend
 * above the plot, optional vertical markers and highlighted points. Raw points and markers are
 * zero-length path segments with round caps (about 14 bytes a point), and every series is cut
 * to `maxPoints` with downsampleIndices, so a chart stays small whatever the run's length.
 */
export function svgLineChart(opts: LineChartOptions): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 300;
  const maxPoints = opts.maxPoints ?? 1000;
  const left = 64, right = 36, top = 34, bottom = 46;
  const pw = W - left - right, ph = H - top - bottom;
  const f = (v: number) => String(Math.round(v * 10) / 10);

  const prepared = opts.series.map((s) => {
    const [lx, ly] = finitePairs(s.xs, s.ys);
    const li = downsampleIndices(lx, ly, maxPoints);
    const [rx, ry] = s.raw ? finitePairs(s.raw.xs, s.raw.ys) : [[], []];
    const ri = strideIndices(rx.length, maxPoints);
    return {
      s,
      line: li.map((i) => [lx[i], ly[i]] as const),
      raw: ri.map((i) => [rx[i], ry[i]] as const),
    };
  });
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of prepared) {
    for (const [x, y] of [...p.line, ...p.raw]) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  for (const m of opts.highlights ?? []) {
    x0 = Math.min(x0, m.x);
    x1 = Math.max(x1, m.x);
  }
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
  const xr = niceRange(opts.xMin ?? x0, opts.xMax ?? x1, 8, opts.xInteger ?? false);
  const yr = niceRange(opts.yMin ?? y0, opts.yMax ?? y1, 5, false);
  // Explicit limits are kept as given; data-driven ones snap outwards to ticks.
  const xlo = opts.xMin ?? xr.lo, xhi = opts.xMax ?? xr.hi;
  const ylo = opts.yMin ?? yr.lo, yhi = opts.yMax ?? yr.hi;
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const sx = (x: number) => left + ((clamp(x, xlo, xhi) - xlo) / (xhi - xlo || 1)) * pw;
  const sy = (y: number) => top + ph - ((clamp(y, ylo, yhi) - ylo) / (yhi - ylo || 1)) * ph;

  const out: string[] = [];
  const label = escapeHtml(opts.title ?? `${opts.yLabel} by ${opts.xLabel}`);
  out.push(
    `<svg class="chart line-chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${label}">`,
  );
  for (let k = Math.ceil(ylo / yr.step - 1e-9); k * yr.step <= yhi + 1e-9 * yr.step; k++) {
    const v = k * yr.step, y = f(sy(v));
    out.push(`<line class="grid" x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        formatTick(v, yr.step)
      }</text>`,
    );
  }
  out.push(`<line class="axis" x1="${left}" x2="${left + pw}" y1="${top + ph}" y2="${top + ph}"/>`);
  out.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}"/>`);
  for (let k = Math.ceil(xlo / xr.step - 1e-9); k * xr.step <= xhi + 1e-9 * xr.step; k++) {
    const v = k * xr.step, x = f(sx(v));
    out.push(`<line class="axis" x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}"/>`);
    out.push(
      `<text class="tick" x="${x}" y="${top + ph + 18}" text-anchor="middle">${
        formatTick(v, xr.step)
      }</text>`,
    );
  }
  (opts.vMarkers ?? []).forEach((m, i) => {
    if (!Number.isFinite(m.x)) return;
    const x = f(sx(m.x));
    const tip = m.title ?? m.label;
    out.push(
      `<line class="marker" x1="${x}" x2="${x}" y1="${top}" y2="${top + ph}">${
        tip ? `<title>${escapeHtml(tip)}</title>` : ""
      }</line>`,
    );
    if (m.label) {
      const rightHalf = sx(m.x) > left + pw * 0.75;
      out.push(
        `<text class="marker-label" x="${x}" y="${top + 11 + 13 * (i % 3)}" dx="${
          rightHalf ? -4 : 4
        }" text-anchor="${rightHalf ? "end" : "start"}">${escapeHtml(m.label)}</text>`,
      );
    }
  });
  for (const p of prepared) {
    const c = escapeHtml(p.s.color);
    out.push(`<g class="series" data-series="${escapeHtml(p.s.name)}">`);
    if (p.raw.length) {
      out.push(
        `<path class="raw" d="${
          p.raw.map(([x, y]) => `M${f(sx(x))} ${f(sy(y))}h0`).join("")
        }" stroke="${c}" stroke-opacity="0.22" stroke-width="3" stroke-linecap="round" fill="none"/>`,
      );
    }
    if (p.line.length > 1) {
      out.push(
        `<polyline class="line" points="${
          p.line.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(" ")
        }" stroke="${c}" stroke-width="1.8" fill="none" stroke-linejoin="round"${
          p.s.dashed ? ` stroke-dasharray="6 4"` : ""
        }/>`,
      );
    }
    if (p.s.markers || p.line.length === 1) {
      out.push(
        `<path class="dots" d="${
          p.line.map(([x, y]) => `M${f(sx(x))} ${f(sy(y))}h0`).join("")
        }" stroke="${c}" stroke-width="5.5" stroke-linecap="round" fill="none"/>`,
      );
    }
    out.push(`</g>`);
  }
  for (const h of opts.highlights ?? []) {
    if (!Number.isFinite(h.x) || !Number.isFinite(h.y)) continue;
    const x = sx(h.x), y = sy(h.y);
    const c = escapeHtml(h.color ?? "#111");
    const rightHalf = x > left + pw * 0.6;
    const below = y < top + 24;
    const tip = h.label ? `<title>${escapeHtml(h.label)}</title>` : "";
    const text = h.label
      ? `<text class="highlight-label" x="${f(x + (rightHalf ? -12 : 12))}" y="${
        f(y + (below ? 22 : -12))
      }" text-anchor="${rightHalf ? "end" : "start"}" fill="${c}">${escapeHtml(h.label)}</text>`
      : "";
    out.push(
      `<g class="highlight"><circle cx="${f(x)}" cy="${f(y)}" r="8" fill="none" stroke="${c}" ` +
        `stroke-width="2">${tip}</circle>${text}</g>`,
    );
  }
  // legend above the plot
  let lx = left;
  for (const p of prepared) {
    const c = escapeHtml(p.s.color);
    out.push(
      `<line x1="${f(lx)}" x2="${f(lx + 18)}" y1="14" y2="14" stroke="${c}" stroke-width="2.5"${
        p.s.dashed ? ` stroke-dasharray="6 4"` : ""
      }/><text class="legend" x="${f(lx + 23)}" y="14" dominant-baseline="middle">${
        escapeHtml(p.s.name)
      }</text>`,
    );
    lx += 23 + 6.6 * p.s.name.length + 20;
  }
  out.push(
    `<text class="label" x="${left + pw / 2}" y="${H - 8}" text-anchor="middle">${
      escapeHtml(opts.xLabel)
    }</text>`,
  );
  out.push(
    `<text class="label" transform="translate(16 ${
      top + ph / 2
    }) rotate(-90)" text-anchor="middle">${escapeHtml(opts.yLabel)}</text>`,
  );
  out.push(`</svg>`);
  return out.join("");
}
