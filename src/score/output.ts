/** SPEC §7 output: JSONL (one line per input row) and CSV (one row per token). */
/** One line of `score`'s JSONL output (SPEC §7). Unscored (special, pad) tokens have plt null. */
export interface ScoredRow {
  row: number;
  text: string;
  tokens: string[];
  ids: number[];
  word: (number | null)[];
  plt: (number | null)[];
  logp: (number | null)[];
  mask_prob: number[];
  /** How the PLT was computed: "exact" or "groups-K" (`--copies K`, src/score/copies.ts). */
  scoring: string;
}

export function formatScoreJsonl(rows: ScoredRow[]): string {
  return rows.map((r) =>
    JSON.stringify({
      row: r.row,
      text: r.text,
      tokens: r.tokens,
      ids: r.ids,
      word: r.word,
      plt: r.plt,
      logp: r.logp,
      mask_prob: r.mask_prob,
      scoring: r.scoring,
    })
  ).join("\n") + (rows.length ? "\n" : "");
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatScoreCsv(rows: ScoredRow[]): string {
  const lines = ["row,position,token,id,word,plt,logp,mask_prob,scoring"];
  for (const r of rows) {
    r.tokens.forEach((tok, i) => {
      const num = (x: number | null) => (x === null ? "" : String(x));
      lines.push(
        [
          r.row,
          i,
          csvField(tok),
          r.ids[i],
          num(r.word[i]),
          num(r.plt[i]),
          num(r.logp[i]),
          r.mask_prob[i],
          r.scoring,
        ].join(","),
      );
    });
  }
  return lines.join("\n") + "\n";
}
