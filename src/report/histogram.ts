/** An inline SVG histogram for the score report (deterministic text: same data, same bytes). */
import { axisLabels, escapeHtml, formatNumber, niceStep } from "./html.ts";

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
  out.push(axisLabels({ left, top, pw, ph, H }, opts.xLabel, opts.yLabel));
  out.push(`</svg>`);
  return out.join("");
}
