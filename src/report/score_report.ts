/**
 * The HTML report of `l3mask score --report` (SPEC §2, §3, §7): one self-contained file with the
 * run's settings and statistics, every shown text as a heatmap of its tokens' mask probabilities
 * (white at m = 0 to deep red at the largest m of the run, as in the L3Masking paper's Figure 1),
 * the tokens and words with the highest and lowest mean mask probability, a histogram of all mask
 * probabilities and a legend for PLT and mPLT.
 *
 * Statistics use every row; only the heatmap is cut to the first texts (`maxTexts`, and a token
 * budget `maxTokensShown` that keeps long texts from blowing the file up). Each shown token costs
 * about 70 bytes (an element with a class and a title), so 200 texts of 128 tokens stay under 2 MB.
 */
import { BASE_CSS, escapeHtml, formatNumber, htmlDocument, keyValueTable } from "./html.ts";
import { svgHistogram } from "./histogram.ts";
import {
  byteLevelBytes,
  isScored,
  logpOf,
  type RankedItem,
  summarizeScores,
  SUMMARY_DEFAULTS,
  type SummaryOptions,
  type TokenizerKind,
  visibleWhitespace,
} from "./score_summary.ts";

import type { ScoredRow } from "../score/output.ts";
export type { ScoredRow };

export interface ReportInfo {
  /** model, input file, max length, pbar, complement, overflow, batch tokens, version, date, ... */
  settings: Record<string, string | number | boolean>;
  /** rows, scored tokens, truncated texts, empty texts, tokens/s, wall time, ... */
  stats: Record<string, string | number>;
  /** How tokens mark word boundaries: WordPiece `##` continuations or byte-level BPE `Ġ`. */
  kind: TokenizerKind;
}

export interface ScoreReportOptions extends SummaryOptions {
  /** Texts shown as heatmaps, from the first row on (default 200). */
  maxTexts?: number;
  /** Stop adding texts once this many tokens are shown (default 32,000), whatever maxTexts says. */
  maxTokensShown?: number;
}

const DEFAULTS = { ...SUMMARY_DEFAULTS, maxTexts: 200, maxTokensShown: 32_000 } as const;

/** Shading levels of the heatmap; level 0 is exactly m = 0 (white). */
const LEVELS = 20;

// ---------------------------------------------------------------------------------------------
// Rendering.

/** White → red → deep red (ColorBrewer Reds' ends and middle), t in [0, 1]. */
function heatRgb(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[255, 255, 255], [251, 106, 74], [153, 0, 13]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  const f = x - k;
  return [0, 1, 2].map((c) => Math.round(stops[k][c] + f * (stops[k + 1][c] - stops[k][c]))) as [
    number,
    number,
    number,
  ];
}

function heatColor(t: number): string {
  const [r, g, b] = heatRgb(t);
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/** Dark levels get white text. */
const FIRST_DARK_LEVEL = 13;

function levelOf(m: number, scaleMax: number): number {
  if (!(m > 0)) return 0;
  return Math.min(LEVELS, Math.max(1, Math.ceil((m / scaleMax) * LEVELS - 1e-9)));
}

function tokenTitle(r: ScoredRow, i: number): string {
  const head = `${r.tokens[i]}\nid ${r.ids[i]}`;
  if (!isScored(r, i)) {
    return `${head}\n${r.word[i] === null ? "special token" : "not scored"}, m 0`;
  }
  return `${head}\nPLT ${formatNumber(r.plt[i] as number, 3)}\nlog p ${
    formatNumber(logpOf(r, i), 3)
  }\nm ${formatNumber(r.mask_prob[i], 3)}`;
}

/**
 * One text as a run of shaded token spans. BPE tokens are decoded from their bytes (a `Ġ` becomes
 * a space outside the span, multi-byte characters split over tokens appear with their last piece,
 * the earlier pieces as `·`); WordPiece `##` pieces join the previous token without a space.
 * Special tokens are grey. The container uses `white-space: pre-wrap`, so spaces are literal.
 * Tokens are `<i>` elements (styled upright): at ~25k tokens a report, every byte per token counts.
 */
export function renderTokens(r: ScoredRow, kind: TokenizerKind, scaleMax: number): string {
  const out: string[] = [];
  const decoder = new TextDecoder("utf-8");
  let afterBoundary = true; // at the start, or right after a special token (which has margins)
  for (let i = 0; i < r.tokens.length; i++) {
    const raw = r.tokens[i];
    const title = escapeHtml(tokenTitle(r, i));
    if (!isScored(r, i)) {
      decoder.decode(); // drop bytes of a character cut by the special token
      out.push(`<i class=s title="${title}">${escapeHtml(visibleWhitespace(raw))}</i>`);
      afterBoundary = true;
      continue;
    }
    let lead = "", body: string;
    if (kind === "bpe") {
      const bytes = byteLevelBytes(raw);
      const text = bytes === null ? raw : decoder.decode(bytes, { stream: true });
      const sp = /^ +/.exec(text);
      lead = sp ? sp[0] : "";
      body = text.slice(lead.length);
      // Nothing printable yet: either a whitespace-only token, or the first bytes of a character
      // that a later token completes.
      if (body === "") body = bytes !== null && bytes.some((b) => b !== 0x20) ? "·" : "␣";
    } else if (raw.startsWith("##") && raw.length > 2 && !afterBoundary) {
      body = raw.slice(2);
    } else {
      lead = afterBoundary ? "" : " ";
      body = raw;
    }
    const level = levelOf(r.mask_prob[i], scaleMax);
    out.push(
      `${lead}<i class=m${level} title="${title}">${escapeHtml(visibleWhitespace(body))}</i>`,
    );
    afterBoundary = false;
  }
  return out.join("");
}

function settingValue(info: ReportInfo, name: string): string | number | boolean | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  for (const [k, v] of Object.entries(info.settings)) if (norm(k) === norm(name)) return v;
  return undefined;
}

function rankingTable(
  caption: string,
  items: readonly RankedItem[],
  what: "token" | "word",
  scaleMax: number,
): string {
  const body = items.map((it, k) => {
    const level = levelOf(it.meanMask, scaleMax);
    return `<tr><td class=num>${k + 1}</td><td class="item" title="${escapeHtml(it.detail)}">` +
      `<span class=m${level}>${escapeHtml(it.label)}</span></td>` +
      `<td class=num>${it.count.toLocaleString("en-US")}</td>` +
      `<td class=num>${it.meanMask.toFixed(3)}</td><td class=num>${
        it.meanPlt.toFixed(3)
      }</td></tr>`;
  }).join("");
  const empty = items.length === 0 ? `<tr><td colspan=5 class=note>none qualifies</td></tr>` : "";
  return `<table class="rank"><caption>${escapeHtml(caption)}</caption><thead><tr><th>#</th>` +
    `<th>${what}</th><th class=num>count</th><th class=num>mean m</th><th class=num>mean PLT</th>` +
    `</tr></thead><tbody>${body}${empty}</tbody></table>`;
}

function colourBar(scaleMax: number): string {
  const cells: string[] = [];
  for (let k = 0; k <= LEVELS; k++) {
    cells.push(`<span class=m${k} title="m ≈ ${formatNumber((k / LEVELS) * scaleMax, 3)}"></span>`);
  }
  return `<div class="scale"><span class="scale-end">m = 0</span><span class="bar">${
    cells.join("")
  }</span><span class="scale-end">${formatNumber(scaleMax, 3)} (largest m)</span></div>`;
}

function reportCss(): string {
  const levels: string[] = [];
  for (let k = 0; k <= LEVELS; k++) {
    const dark = k >= FIRST_DARK_LEVEL ? "color:#fff;" : "";
    levels.push(`.m${k}{background:${heatColor(k / LEVELS)};${dark}}`);
  }
  return BASE_CSS + `
nav.toc { font-size: 13px; color: #555; }
nav.toc a { color: #1f4e9c; margin-right: 12px; text-decoration: none; }
.sub { color: #555; margin: 0 0 8px; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.cols + .cols { margin-top: 18px; }
.legend { background: #fafafa; border: 1px solid #e4e4e4; border-radius: 6px; padding: 8px 14px;
  font-size: 13.5px; }
.legend p { margin: 6px 0; }
.legend .f { font-family: "DejaVu Serif", Georgia, serif; font-style: italic; }
.scale { display: flex; align-items: center; gap: 8px; font-size: 12px; color: #555; margin: 6px 0; }
.scale .bar { display: inline-flex; border: 1px solid #ccc; }
.scale .bar span { width: 14px; height: 14px; display: inline-block; }
table.rank { min-width: 330px; }
table.rank thead th { border-bottom: 1px solid #ccc; font-weight: 600; }
table.rank td.item { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  max-width: 240px; overflow-wrap: anywhere; }
table.rank td.item span { padding: 0 3px; border-radius: 3px; white-space: pre-wrap; }
table.rank tbody tr:nth-child(even) { background: #f7f7f7; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
svg.chart .bar { stroke: #7a0010; stroke-width: 0.6; }
.text { margin: 10px 0 14px; }
.text .rh { font-size: 12px; color: #666; margin-bottom: 2px; }
.text .rh b { color: #333; }
.tx { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 15px; line-height: 1.85;
  border-left: 3px solid #eee; padding-left: 10px; }
.tx i { font-style: normal; border-radius: 3px; padding: 1px 0; }
.tx i:hover { outline: 1px solid #333; }
.tx i.s { color: #999; background: #f0f0f0; font-size: 11px; margin: 0 4px;
  padding: 1px 3px; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
` + levels.join("\n") + "\n";
}

/** The whole report as one self-contained HTML document. */
export function renderScoreReport(
  rows: ScoredRow[],
  info: ReportInfo,
  opts: ScoreReportOptions = {},
): string {
  const maxTexts = opts.maxTexts ?? DEFAULTS.maxTexts;
  const maxTokensShown = opts.maxTokensShown ?? DEFAULTS.maxTokensShown;
  const minCount = opts.minCount ?? DEFAULTS.minCount;
  const topK = opts.topK ?? DEFAULTS.topK;
  const s = summarizeScores(rows, info.kind, opts);
  const scaleMax = s.maxMask > 0 ? s.maxMask : 1;
  const esc = escapeHtml;
  const model = settingValue(info, "model");
  const input = settingValue(info, "input file") ?? settingValue(info, "input");
  const title = ["l3mask score", model, input].filter((x) => x !== undefined).join(" — ");
  const parts: string[] = [];

  parts.push(`<h1>l3mask score report</h1>`);
  const sub = [model, input].filter((x) => x !== undefined).map((x) => esc(String(x)));
  if (sub.length) parts.push(`<p class="sub">${sub.join(" · ")}</p>`);
  parts.push(
    `<nav class="toc"><a href="#legend">Legend</a><a href="#run">Run</a>` +
      `<a href="#hist">Histogram</a><a href="#ranks">Top and bottom tokens/words</a>` +
      `<a href="#texts">Texts</a></nav>`,
  );

  // (5) legend
  const pbar = settingValue(info, "pbar");
  const complement = settingValue(info, "complement");
  const overflow = settingValue(info, "overflow");
  const usedC = complement === "surprisal"
    ? `this run used <span class=f>c<sub>i</sub></span> = −log PLT<sub>i</sub>`
    : `this run used <span class=f>c<sub>i</sub></span> = 1 − PLT<sub>i</sub>`;
  parts.push(
    `<h2 id="legend">Legend</h2><div class="legend">` +
      `<p><b>PLT</b> (token-wise pseudo-likelihood) of token <span class=f>i</span> is the ` +
      `probability the masked language model gives the true token when <span class=f>i</span> and ` +
      `the rest of its word to the right are masked (PLL-word-l2r). High PLT: easy to predict from ` +
      `context; low PLT: hard. <b>log p</b> is its natural log.</p>` +
      `<p><b>mPLT</b> (mask probability from PLT): <span class=f>c<sub>i</sub></span> = 1 − ` +
      `PLT<sub>i</sub> (or −log PLT<sub>i</sub> with <code>--complement surprisal</code>; ` +
      `${usedC}), <span class=f>m<sub>i</sub> = α c<sub>i</sub></span> with ` +
      `<span class=f>α = n p̄ / Σ c</span>, so a text's mean <span class=f>m</span> is ` +
      `<span class=f>p̄</span>${pbar === undefined ? "" : ` = ${esc(String(pbar))}`}; values ` +
      `above 1 are capped` +
      `${
        overflow === undefined ? "" : ` (overflow rule: <code>${esc(String(overflow))}</code>)`
      }. ` +
      `During MLM training, hard-to-predict tokens are masked more often (L3Masking).</p>` +
      `<p>Token colour: white at <span class=f>m</span> = 0 to deep red at the largest ` +
      `<span class=f>m</span> of this run; special tokens (not scored, <span class=f>m</span> = 0) ` +
      `are grey. Hover a token for its id, PLT, log p and <span class=f>m</span>.</p>` +
      colourBar(scaleMax) + `</div>`,
  );

  // (1) settings and statistics
  const shownRows: ScoredRow[] = [];
  let shownTokens = 0;
  for (const r of rows) {
    if (shownRows.length >= maxTexts) break;
    if (shownRows.length > 0 && shownTokens + r.tokens.length > maxTokensShown) break;
    shownRows.push(r);
    shownTokens += r.tokens.length;
  }
  const computed: [string, string | number][] = [
    ["rows", s.rows],
    ["rows without scored tokens", s.emptyRows],
    ["scored tokens", s.scoredTokens],
    ["mean PLT", s.meanPlt],
    ["mean log p", s.meanLogp],
    ["pseudo-perplexity exp(−mean log p)", Math.exp(-s.meanLogp)],
    ["mean m", s.meanMask],
    ["largest m", s.maxMask],
    ["distinct tokens", s.tokens.distinct],
    ["distinct words (lower-cased)", s.words.distinct],
    ["texts shown below", shownRows.length],
  ];
  parts.push(
    `<h2 id="run">Run</h2><div class="cols">` +
      keyValueTable(Object.entries(info.settings), "Settings") +
      keyValueTable(Object.entries(info.stats), "Statistics") +
      keyValueTable(computed, "Computed from all rows") + `</div>`,
  );

  // (4) histogram
  const h = s.histogram;
  const nb = h.counts.length;
  parts.push(
    `<h2 id="hist">Mask probabilities of all ${s.scoredTokens.toLocaleString("en-US")} ` +
      `scored tokens</h2>` +
      svgHistogram({
        counts: h.counts,
        lo: h.lo,
        hi: h.hi,
        xLabel: "mask probability m",
        yLabel: "scored tokens",
        fills: h.counts.map((_, b) => heatColor(Math.min(1, ((b + 0.5) * h.hi) / nb / scaleMax))),
        marker: s.scoredTokens
          ? { x: s.meanMask, label: `mean ${formatNumber(s.meanMask, 3)}` }
          : undefined,
        title: "histogram of mask probabilities",
        width: 900,
      }) +
      `<p class="note">${nb} bins of width ${formatNumber(h.hi / nb, 3)}; special tokens ` +
      `(m = 0 by definition) are not counted.</p>`,
  );

  // (3) top and bottom tokens and words
  const seen = `seen at least ${minCount} time${minCount === 1 ? "" : "s"}`;
  parts.push(
    `<h2 id="ranks">Highest and lowest mean mask probability</h2>` +
      `<p class="note">Only items ${seen} in all ${
        s.rows.toLocaleString("en-US")
      } rows are ranked ` +
      `(${s.tokens.eligible.toLocaleString("en-US")} of ${
        s.tokens.distinct.toLocaleString("en-US")
      } tokens, ${s.words.eligible.toLocaleString("en-US")} of ${
        s.words.distinct.toLocaleString("en-US")
      } words). Words are rebuilt from the tokenizer's word indices and lower-cased; a word's m and ` +
      `PLT are the means over its tokens, then averaged over its occurrences. Hover a token for its ` +
      `raw form and id.</p>` +
      `<div class="cols">` +
      rankingTable(`Tokens: highest ${topK}`, s.tokens.top, "token", scaleMax) +
      rankingTable(`Tokens: lowest ${topK}`, s.tokens.bottom, "token", scaleMax) +
      `</div><div class="cols">` +
      rankingTable(`Words: highest ${topK}`, s.words.top, "word", scaleMax) +
      rankingTable(`Words: lowest ${topK}`, s.words.bottom, "word", scaleMax) +
      `</div>`,
  );

  // (2) texts
  const omitted = rows.length - shownRows.length;
  const why = shownRows.length < maxTexts && omitted > 0
    ? ` (the report stops at about ${maxTokensShown.toLocaleString("en-US")} shown tokens)`
    : "";
  const texts = shownRows.map((r) => {
    let n = 0, sp = 0, mx = 0;
    for (let i = 0; i < r.tokens.length; i++) {
      if (!isScored(r, i)) continue;
      n++;
      sp += r.plt[i] as number;
      mx = Math.max(mx, r.mask_prob[i]);
    }
    const head = n === 0
      ? `<b>row ${esc(String(r.row))}</b> · no scored tokens${
        r.text.trim() === "" ? " (empty text)" : ""
      }`
      : `<b>row ${esc(String(r.row))}</b> · ${n} scored tokens · mean PLT ${
        (sp / n).toFixed(3)
      } · largest m ${mx.toFixed(3)}`;
    return `<div class="text"><div class="rh">${head}</div><div class="tx">${
      renderTokens(r, info.kind, scaleMax)
    }</div></div>`;
  });
  parts.push(
    `<h2 id="texts">Texts</h2><p class="note">Showing the first ${
      shownRows.length.toLocaleString("en-US")
    } ` +
      `of ${rows.length.toLocaleString("en-US")} texts` +
      (omitted > 0 ? `; ${omitted.toLocaleString("en-US")} omitted${why}` : "") +
      `. All statistics above use every row.</p>` + texts.join("\n"),
  );

  return htmlDocument({ title, css: reportCss(), body: parts.join("\n") });
}
