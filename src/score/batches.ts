/**
 * Groups masked copies into batches under a token budget: copies sorted by their text's length
 * (so padding is small), each batch at most `budgetTokens` tokens (copies x padded length) and at
 * most `maxRows` scored targets (the (targets, V) logits must fit one storage binding).
 */
import type { MaskedCopy } from "./copies.ts";

export interface CopyBatch {
  T: number;
  copies: MaskedCopy[];
}

export function planBatches(
  copies: MaskedCopy[],
  lengths: readonly number[],
  opts: { budgetTokens: number; maxRows: number },
): CopyBatch[] {
  const sorted = copies.slice().sort((a, b) =>
    lengths[a.text] - lengths[b.text] || a.text - b.text || a.targets[0] - b.targets[0]
  );
  const out: CopyBatch[] = [];
  let cur: MaskedCopy[] = [];
  let T = 0, rows = 0;
  for (const c of sorted) {
    const t = Math.max(T, lengths[c.text]);
    const r = rows + c.targets.length;
    if (cur.length > 0 && ((cur.length + 1) * t > opts.budgetTokens || r > opts.maxRows)) {
      out.push({ T, copies: cur });
      cur = [];
      rows = 0;
    }
    cur.push(c);
    rows += c.targets.length;
    T = cur.length === 1 ? lengths[c.text] : Math.max(T, lengths[c.text]);
  }
  if (cur.length) out.push({ T, copies: cur });
  return out;
}
