/** Classification and MLM examples: tokenized once, padded into batches. */
import type { L3Tokenizer } from "../io/tokenizer.ts";
import type { DataRow } from "./read.ts";
import type { Batch } from "../model/encoder.ts";

export interface Example {
  row: number;
  /** The text (first text of a pair). */
  text?: string;
  ids: number[];
  special: boolean[];
  /** Label index (id2label order), -1 when the split has no label. */
  label: number;
  /** L3Masking mask probability per token (after scoring), else undefined. */
  maskProb?: number[];
  /** The text (or pair) had more tokens than maxLength and was cut to fit. */
  truncated?: boolean;
}

export function encodeRows(
  tok: L3Tokenizer,
  rows: DataRow[],
  labels: string[],
  maxLength: number,
): Example[] {
  const index = new Map(labels.map((l, i) => [l, i]));
  return rows.map((r) => {
    const pair = r.textPair ?? null;
    const e = tok.encode(r.text, { maxLength, pair });
    // Only a text that fills maxLength can have been cut: encode it again without the limit.
    const truncated = e.ids.length >= maxLength &&
      tok.encode(r.text, { maxLength: UNLIMITED, pair }).ids.length > e.ids.length;
    return {
      row: r.row,
      text: r.text,
      ids: e.ids,
      special: e.special,
      label: r.label === undefined ? -1 : index.get(r.label) ?? -1,
      truncated,
    };
  });
}

const UNLIMITED = 1 << 30;

/** How many of `examples` were cut to the maximum length. */
export function countTruncated(examples: readonly Example[]): number {
  let n = 0;
  for (const e of examples) if (e.truncated) n++;
  return n;
}

/** Pad examples to their longest (rounded up to a multiple of 4 for the vec4 attention path). */
export function padBatch(examples: Example[], padId: number): Batch {
  const B = examples.length;
  const longest = Math.max(...examples.map((e) => e.ids.length));
  const T = Math.ceil(longest / 4) * 4;
  const ids = new Uint32Array(B * T).fill(padId);
  const mask = new Uint32Array(B * T);
  examples.forEach((e, b) => {
    ids.set(e.ids, b * T);
    mask.fill(1, b * T, b * T + e.ids.length);
  });
  return { B, T, ids, mask };
}
