/**
 * PLL-word-l2r masked copies (SPEC §2): for scored position i of word w, a copy of the ids where
 * i and every later scored position of the same word are the mask id. The target is the
 * original id at i. Only the copy's ids differ between copies of one text.
 */
export interface MaskedCopy {
  /** Index of the text in the batch of texts being scored. */
  text: number;
  /** Position scored in this copy. */
  pos: number;
}

/** Positions scored for a text: not special (added or in-text) and inside the text. */
export function scoredPositions(special: readonly boolean[]): number[] {
  const out: number[] = [];
  special.forEach((s, i) => {
    if (!s) out.push(i);
  });
  return out;
}

/** The positions masked in the copy that scores `pos`: pos and later positions of its word. */
export function maskedSet(
  pos: number,
  words: readonly (number | null)[],
  special: readonly boolean[],
): number[] {
  const w = words[pos];
  const out: number[] = [];
  for (let j = pos; j < words.length; j++) {
    if (words[j] === w && !special[j]) out.push(j);
    else if (j > pos && words[j] !== w) break;
  }
  return out;
}

/** Write the copy's ids into `out` (length T, padded with padId past the text). */
export function writeCopy(
  out: Uint32Array,
  ids: readonly number[],
  words: readonly (number | null)[],
  special: readonly boolean[],
  pos: number,
  maskId: number,
  padId: number,
): void {
  out.fill(padId);
  for (let j = 0; j < ids.length; j++) out[j] = ids[j];
  for (const j of maskedSet(pos, words, special)) out[j] = maskId;
}
