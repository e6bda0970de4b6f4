/** Typo suggestions: the closest of several names. */

/**
 * The candidate a user most likely meant by `name`: same name ignoring case and surrounding
 * spaces, else the smallest edit distance if it is at most a third of the name (at least 2).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.trim().toLowerCase();
  const exact = candidates.find((c) => norm(c) === norm(name));
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(norm(name), norm(c));
    if (d < bestDist) best = c, bestDist = d;
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute: cost 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j] + 1, cur[j - 1] + 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
