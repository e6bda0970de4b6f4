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
