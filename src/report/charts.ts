/**
 * Inline SVG line charts for the run report: downsampling, nice ticks, markers and highlights. Output is deterministic text, so
 * the same data gives the same bytes.
 */
import { axisLabels, escapeHtml, niceStep } from "./html.ts";

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
  const prepared = prepareSeries(opts.series, opts.maxPoints ?? 1000);
  const fr = frame(opts, prepared);
  const label = escapeHtml(opts.title ?? `${opts.yLabel} by ${opts.xLabel}`);
  return [
    `<svg class="chart line-chart" width="${fr.W}" height="${fr.H}" viewBox="0 0 ${fr.W} ${fr.H}" role="img" aria-label="${label}">`,
    ...gridAndAxes(fr),
    ...verticalMarkers(fr, opts.vMarkers ?? []),
    ...prepared.flatMap((p) => seriesGroup(fr, p)),
    ...highlightRings(fr, opts.highlights ?? []),
    ...legendAndLabels(fr, prepared, opts),
    `</svg>`,
  ].join("");
}

/** A series' line (downsampled) and raw cloud (thinned), finite points only. */
interface Prepared {
  s: LineSeries;
  line: (readonly [number, number])[];
  raw: (readonly [number, number])[];
}

function prepareSeries(series: readonly LineSeries[], maxPoints: number): Prepared[] {
  return series.map((s) => {
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
}

/** The plot's geometry: size, margins, axis ranges and ticks, data → pixel maps. */
interface Frame {
  W: number;
  H: number;
  left: number;
  top: number;
  pw: number;
  ph: number;
  xr: { step: number };
  yr: { step: number };
  xlo: number;
  xhi: number;
  ylo: number;
  yhi: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
  /** A pixel coordinate as written: one decimal. */
  f: (v: number) => string;
}

function frame(opts: LineChartOptions, prepared: Prepared[]): Frame {
  const W = opts.width ?? 720;
  const H = opts.height ?? 300;
  const left = 64, right = 36, top = 34, bottom = 46;
  const pw = W - left - right, ph = H - top - bottom;
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
  return {
    W,
    H,
    left,
    top,
    pw,
    ph,
    xr,
    yr,
    xlo,
    xhi,
    ylo,
    yhi,
    sx: (x) => left + ((clamp(x, xlo, xhi) - xlo) / (xhi - xlo || 1)) * pw,
    sy: (y) => top + ph - ((clamp(y, ylo, yhi) - ylo) / (yhi - ylo || 1)) * ph,
    f: (v) => String(Math.round(v * 10) / 10),
  };
}

/** Horizontal grid lines with y ticks, the two axes, x ticks. */
function gridAndAxes(fr: Frame): string[] {
  const { left, top, pw, ph, xr, yr, f } = fr;
  const out: string[] = [];
  for (let k = Math.ceil(fr.ylo / yr.step - 1e-9); k * yr.step <= fr.yhi + 1e-9 * yr.step; k++) {
    const v = k * yr.step, y = f(fr.sy(v));
    out.push(`<line class="grid" x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        formatTick(v, yr.step)
      }</text>`,
    );
  }
  out.push(`<line class="axis" x1="${left}" x2="${left + pw}" y1="${top + ph}" y2="${top + ph}"/>`);
  out.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + ph}"/>`);
  for (let k = Math.ceil(fr.xlo / xr.step - 1e-9); k * xr.step <= fr.xhi + 1e-9 * xr.step; k++) {
    const v = k * xr.step, x = f(fr.sx(v));
    out.push(`<line class="axis" x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}"/>`);
    out.push(
      `<text class="tick" x="${x}" y="${top + ph + 18}" text-anchor="middle">${
        formatTick(v, xr.step)
      }</text>`,
    );
  }
  return out;
}

function verticalMarkers(fr: Frame, markers: NonNullable<LineChartOptions["vMarkers"]>): string[] {
  const { left, top, pw, ph, f } = fr;
  const out: string[] = [];
  markers.forEach((m, i) => {
    if (!Number.isFinite(m.x)) return;
    const x = f(fr.sx(m.x));
    const tip = m.title ?? m.label;
    out.push(
      `<line class="marker" x1="${x}" x2="${x}" y1="${top}" y2="${top + ph}">${
        tip ? `<title>${escapeHtml(tip)}</title>` : ""
      }</line>`,
    );
    if (m.label) {
      const rightHalf = fr.sx(m.x) > left + pw * 0.75;
      out.push(
        `<text class="marker-label" x="${x}" y="${top + 11 + 13 * (i % 3)}" dx="${
          rightHalf ? -4 : 4
        }" text-anchor="${rightHalf ? "end" : "start"}">${escapeHtml(m.label)}</text>`,
      );
    }
  });
  return out;
}

/** One series' <g>: its faint raw points, its line and its markers. */
function seriesGroup(fr: Frame, p: Prepared): string[] {
  const { sx, sy, f } = fr;
  const c = escapeHtml(p.s.color);
  const out = [`<g class="series" data-series="${escapeHtml(p.s.name)}">`];
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
  return out;
}

function highlightRings(fr: Frame, highlights: NonNullable<LineChartOptions["highlights"]>) {
  const { left, top, pw, f } = fr;
  const out: string[] = [];
  for (const h of highlights) {
    if (!Number.isFinite(h.x) || !Number.isFinite(h.y)) continue;
    const x = fr.sx(h.x), y = fr.sy(h.y);
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
  return out;
}

/** The legend above the plot, then the axis labels. */
function legendAndLabels(fr: Frame, prepared: Prepared[], opts: LineChartOptions): string[] {
  const { left, top, pw, ph, H, f } = fr;
  const out: string[] = [];
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
  out.push(axisLabels({ left, top, pw, ph, H }, opts.xLabel, opts.yLabel));
  return out;
}
