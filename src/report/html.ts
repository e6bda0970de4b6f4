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

/** The x label centred under a chart's plot area and the y label turned along its left side. */
export function axisLabels(
  box: { left: number; top: number; pw: number; ph: number; H: number },
  xLabel: string,
  yLabel: string,
): string {
  const { left, top, pw, ph, H } = box;
  return `<text class="label" x="${left + pw / 2}" y="${H - 8}" text-anchor="middle">${
    escapeHtml(xLabel)
  }</text>` +
    `<text class="label" transform="translate(16 ${
      top + ph / 2
    }) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`;
}
