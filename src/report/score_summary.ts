/**
 * The statistics of a score report over all rows: scored tokens, mean mask probability and PLT,
 * pseudo-perplexity, the tokens and words ranked by mean mask probability, and the histogram of
 * mask probabilities; and how a token is shown (byte-level BPE decoded, `␣` for a leading space).
 */
import { niceStep } from "./html.ts";
import type { ScoredRow } from "../score/output.ts";

/** How tokens mark word boundaries: WordPiece `##` continuations or byte-level BPE `Ġ`. */
export type TokenizerKind = "wordpiece" | "bpe";

export interface SummaryOptions {
  /** Only tokens/words seen at least this often are ranked (default 2). */
  minCount?: number;
  /** Length of each top/bottom list (default 30). */
  topK?: number;
  /** Approximate number of histogram bins (default 20). */
  bins?: number;
}

export const SUMMARY_DEFAULTS = { minCount: 2, topK: 30, bins: 20 } as const;

/** A token or word with its occurrence count and mean mask probability / PLT over occurrences. */
export interface RankedItem {
  /** What is shown: the readable token (`␣` for a leading space) or the lower-cased word. */
  label: string;
  /** Tokens: the raw token string(s) and id; words: the label. */
  detail: string;
  count: number;
  meanMask: number;
  meanPlt: number;
}

export interface Ranking {
  top: RankedItem[];
  bottom: RankedItem[];
  /** Distinct items seen at all, and those seen at least minCount times. */
  distinct: number;
  eligible: number;
}

export interface ScoreSummary {
  rows: number;
  /** Rows without a single scored token (empty text, or nothing but specials). */
  emptyRows: number;
  scoredTokens: number;
  meanMask: number;
  maxMask: number;
  meanPlt: number;
  /** Mean natural-log PLT over scored tokens; exp(-meanLogp) is the pseudo-perplexity. */
  meanLogp: number;
  tokens: Ranking;
  words: Ranking;
  /** Mask probabilities of all scored tokens: bin b covers [b w, (b + 1) w), w = hi / counts.length. */
  histogram: { lo: number; hi: number; counts: number[] };
}

// ---------------------------------------------------------------------------------------------
// Byte-level BPE: token characters stand for bytes (GPT-2's bytes_to_unicode); `Ġ` is the space.

const BYTE_OF_CHAR: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (printable) m.set(String.fromCharCode(b), b);
    else m.set(String.fromCharCode(256 + shifted++), b);
  }
  return m;
})();

/** The bytes a byte-level BPE token stands for, or null when it is not one (an added token). */
export function byteLevelBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = BYTE_OF_CHAR.get(token[i]);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}

/** Newlines, tabs and carriage returns made visible inside a token. */
export function visibleWhitespace(s: string): string {
  return s.replace(/\n/g, "↵").replace(/\r/g, "␍").replace(/\t/g, "⇥");
}

/** A token on its own, readable: BPE bytes decoded with `␣` for a leading space, `##x` as is. */
export function tokenLabel(token: string, kind: TokenizerKind): string {
  if (kind !== "bpe") return visibleWhitespace(token);
  const bytes = byteLevelBytes(token);
  if (bytes === null) return visibleWhitespace(token);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return visibleWhitespace(token); // a piece of a multi-byte character: keep the raw form
  }
  return visibleWhitespace(text.replace(/^ +/, (sp) => "␣".repeat(sp.length))) || "␣";
}

// ---------------------------------------------------------------------------------------------
// Statistics over all rows.

function checkRow(r: ScoredRow, index: number): void {
  const n = r.tokens?.length;
  const fields = ["ids", "word", "plt", "logp", "mask_prob"] as const;
  for (const f of fields) {
    if (!Array.isArray(r[f]) || r[f].length !== n) {
      throw new Error(
        `score report: row ${r.row ?? index} has ${n} tokens but ${f} has ` +
          `${Array.isArray(r[f]) ? r[f].length : "no"} entries`,
      );
    }
  }
}

export function isScored(r: ScoredRow, i: number): boolean {
  return r.plt[i] !== null && r.plt[i] !== undefined;
}

export function logpOf(r: ScoredRow, i: number): number {
  const lp = r.logp[i];
  return lp === null || lp === undefined ? Math.log(r.plt[i] as number) : lp;
}

/** The word occurrences of one row: lower-cased text, mean m and mean PLT of its scored tokens. */
function wordsOf(
  r: ScoredRow,
  kind: TokenizerKind,
): { text: string; meanMask: number; meanPlt: number }[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < r.tokens.length; i++) {
    const w = r.word[i];
    if (w === null || w === undefined || !isScored(r, i)) continue;
    const g = groups.get(w);
    if (g) g.push(i);
    else groups.set(w, [i]);
  }
  const out: { text: string; meanMask: number; meanPlt: number }[] = [];
  for (const idx of groups.values()) {
    let text: string;
    if (kind === "bpe") {
      const parts = idx.map((i) => byteLevelBytes(r.tokens[i]));
      if (parts.every((p) => p !== null)) {
        const all = new Uint8Array(parts.reduce((s, p) => s + p!.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p!, o);
          o += p!.length;
        }
        text = new TextDecoder("utf-8").decode(all);
      } else {
        text = idx.map((i) => r.tokens[i]).join("").replace(/Ġ/g, " ");
      }
    } else {
      text = idx.map((
        i,
        k,
      ) => (k > 0 && r.tokens[i].startsWith("##") ? r.tokens[i].slice(2) : r.tokens[i]))
        .join("");
    }
    text = visibleWhitespace(text.trim().toLowerCase()) || "␣";
    let sm = 0, sp = 0;
    for (const i of idx) {
      sm += r.mask_prob[i];
      sp += r.plt[i] as number;
    }
    out.push({ text, meanMask: sm / idx.length, meanPlt: sp / idx.length });
  }
  return out;
}

interface Acc {
  label: string;
  detail: string;
  count: number;
  sumMask: number;
  sumPlt: number;
}

function rank(acc: Iterable<Acc>, minCount: number, topK: number): Ranking {
  const all = [...acc];
  const items: RankedItem[] = all.filter((a) => a.count >= minCount).map((a) => ({
    label: a.label,
    detail: a.detail,
    count: a.count,
    meanMask: a.sumMask / a.count,
    meanPlt: a.sumPlt / a.count,
  }));
  const tie = (a: RankedItem, b: RankedItem) =>
    b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) ||
    (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0);
  const top = [...items].sort((a, b) => b.meanMask - a.meanMask || tie(a, b)).slice(0, topK);
  const bottom = [...items].sort((a, b) => a.meanMask - b.meanMask || tie(a, b)).slice(0, topK);
  return { top, bottom, distinct: all.length, eligible: items.length };
}

/** Bin width and count for mask probabilities up to maxMask: ~`bins` bins of a round width. */
function histogramBins(maxMask: number, bins: number): { hi: number; n: number } {
  const reach = maxMask > 0 ? maxMask : 1;
  const w = niceStep(reach / bins, [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]);
  const n = Math.max(1, Math.ceil(reach / w - 1e-9));
  return { hi: n * w, n };
}

/** Every statistic of the report, over all rows. */
export function summarizeScores(
  rows: readonly ScoredRow[],
  kind: TokenizerKind,
  opts: SummaryOptions = {},
): ScoreSummary {
  const minCount = opts.minCount ?? SUMMARY_DEFAULTS.minCount;
  const topK = opts.topK ?? SUMMARY_DEFAULTS.topK;
  const bins = opts.bins ?? SUMMARY_DEFAULTS.bins;
  const tokens = new Map<number, Acc>();
  const words = new Map<string, Acc>();
  let scored = 0, emptyRows = 0, sumMask = 0, maxMask = 0, sumPlt = 0, sumLogp = 0;
  rows.forEach(checkRow);
  for (const r of rows) {
    let rowScored = 0;
    for (let i = 0; i < r.tokens.length; i++) {
      if (!isScored(r, i)) continue;
      rowScored++;
      const m = r.mask_prob[i], p = r.plt[i] as number;
      sumMask += m;
      sumPlt += p;
      sumLogp += logpOf(r, i);
      if (m > maxMask) maxMask = m;
      const id = r.ids[i];
      let a = tokens.get(id);
      if (!a) {
        a = {
          label: tokenLabel(r.tokens[i], kind),
          detail: `${r.tokens[i]} (id ${id})`,
          count: 0,
          sumMask: 0,
          sumPlt: 0,
        };
        tokens.set(id, a);
      }
      a.count++;
      a.sumMask += m;
      a.sumPlt += p;
    }
    scored += rowScored;
    if (rowScored === 0) emptyRows++;
    for (const w of wordsOf(r, kind)) {
      let a = words.get(w.text);
      if (!a) {
        a = { label: w.text, detail: w.text, count: 0, sumMask: 0, sumPlt: 0 };
        words.set(w.text, a);
      }
      a.count++;
      a.sumMask += w.meanMask;
      a.sumPlt += w.meanPlt;
    }
  }

  const { hi, n } = histogramBins(maxMask, bins);
  const counts = new Array<number>(n).fill(0);
  for (const r of rows) {
    for (let i = 0; i < r.tokens.length; i++) {
      if (!isScored(r, i)) continue;
      const b = Math.floor((Math.max(0, r.mask_prob[i]) / hi) * n);
      counts[Math.min(n - 1, b)]++;
    }
  }
  return {
    rows: rows.length,
    emptyRows,
    scoredTokens: scored,
    meanMask: scored ? sumMask / scored : NaN,
    maxMask,
    meanPlt: scored ? sumPlt / scored : NaN,
    meanLogp: scored ? sumLogp / scored : NaN,
    tokens: rank(tokens.values(), minCount, topK),
    words: rank(words.values(), minCount, topK),
    histogram: { lo: 0, hi, counts },
  };
}
