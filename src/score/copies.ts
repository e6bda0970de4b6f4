/**
 * PLL-word-l2r masked copies (SPEC §2) and their approximation with fewer copies.
 *
 * A text's words are its runs of scored positions that share a word id (`wordUnits`). Exact
 * scoring makes one copy per scored position i of word w: i and every later position of w are the
 * mask id, the target is the original id at i.
 *
 * With `K` word groups (`score --copies K`), word number u (0-based, in text order) joins group
 * u mod K, so the words of one group are K words apart. Copy (g, s), for s = 0 .. (longest word of
 * group g) - 1, masks, in every word of group g that has more than s tokens, its token s and the
 * tokens after it, and scores each such token s. Every other position keeps its id. A text of at
 * most K words therefore gets exactly the copies of exact scoring, one target each; a longer one
 * gets sum over groups of the group's longest word, which is K when every word is one token.
 */
export interface MaskedCopy {
  /** Index of the text in the batch of texts being scored. */
  text: number;
  /** Positions scored in this copy, ascending. */
  targets: number[];
  /** Positions set to the mask id, ascending: each target and the later tokens of its word. */
  masked: number[];
}

/** How a text's PLT is computed: exact PLL-word-l2r, or with `groups` word groups. */
export type CopyScheme = "exact" | { groups: number };

/** The scheme as output rows name it (SPEC §7 `scoring`): "exact" or "groups-K". */
export function schemeName(scheme: CopyScheme): string {
  return scheme === "exact" ? "exact" : `groups-${scheme.groups}`;
}

/** schemeName's inverse; undefined for any other text. */
export function parseSchemeName(name: string): CopyScheme | undefined {
  if (name === "exact") return "exact";
  const m = /^groups-([1-9]\d*)$/.exec(name);
  return m ? { groups: Number(m[1]) } : undefined;
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

/** A text's words: each the masked set of its first scored position, in text order. */
export function wordUnits(
  words: readonly (number | null)[],
  special: readonly boolean[],
): number[][] {
  const units: number[][] = [];
  let next = 0;
  for (const p of scoredPositions(special)) {
    if (p < next) continue;
    const unit = maskedSet(p, words, special);
    units.push(unit);
    next = unit[unit.length - 1] + 1;
  }
  return units;
}

/**
 * The scheme a text actually gets under `--copies` (`groups`; "exact" for exact scoring): exact
 * when it has no more words than groups, since the copies are then those of exact scoring.
 */
export function textScheme(
  words: readonly (number | null)[],
  special: readonly boolean[],
  groups: number | "exact",
): CopyScheme {
  if (groups === "exact" || wordUnits(words, special).length <= groups) return "exact";
  return { groups };
}

/** The copies of one text under `scheme` (module header), without the text index. */
export function textCopies(
  words: readonly (number | null)[],
  special: readonly boolean[],
  scheme: CopyScheme,
): Omit<MaskedCopy, "text">[] {
  const units = wordUnits(words, special);
  const K = scheme === "exact" ? units.length : Math.min(scheme.groups, units.length);
  const out: Omit<MaskedCopy, "text">[] = [];
  for (let g = 0; g < K; g++) {
    const group = units.filter((_, u) => u % K === g);
    const steps = Math.max(...group.map((w) => w.length));
    for (let s = 0; s < steps; s++) {
      const targets: number[] = [], masked: number[] = [];
      for (const w of group) {
        if (w.length <= s) continue;
        targets.push(w[s]);
        masked.push(...w.slice(s));
      }
      out.push({ targets, masked: masked.sort((a, b) => a - b) });
    }
  }
  return out;
}

/** Write the copy's ids into `out` (length T, padded with padId past the text). */
export function writeCopy(
  out: Uint32Array,
  ids: readonly number[],
  masked: readonly number[],
  maskId: number,
  padId: number,
): void {
  out.fill(padId);
  for (let j = 0; j < ids.length; j++) out[j] = ids[j];
  for (const j of masked) out[j] = maskId;
}
