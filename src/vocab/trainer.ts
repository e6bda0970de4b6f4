/**
 * WordPiece vocabulary training as Hugging Face tokenizers' WordPieceTrainer does it (that
 * trainer is its BpeTrainer with the `##` continuing-subword prefix; see
 * tokenizers/src/models/bpe/trainer.rs):
 *
 * 1. the special tokens take ids 0..S-1;
 * 2. the alphabet: every character of the words, counted by word frequency; over
 *    `limitAlphabet`, the rarest are dropped (and vanish from the words they were in, so their
 *    neighbours meet, as in Hugging Face); the kept ones get the next ids, by code point;
 * 3. each word becomes its characters: the first bare, the others as `##c`, new `##c` tokens
 *    taking the next ids;
 * 4. merges: the adjacent pair with the highest count (word frequency summed over its
 *    occurrences) is merged into a new token `a + b` less b's `##` (so `##a`,`##b` → `##ab`,
 *    `a`,`##b` → `ab`), replacing every non-overlapping occurrence left to right; a token string
 *    made before keeps its id. Repeat while the vocabulary is smaller than `vocabSize` and the
 *    best count is at least `minFrequency` (and at least 1).
 *
 * Ties between pairs of equal count go to the smaller (a, b) id pair, as in Hugging Face. The
 * queue is Hugging Face's too, quirks included: an entry holds the words it was made for (all
 * words at the start; later, those where the pair just gained an occurrence), popping it merges
 * only in those words, and the merged pair's own count is not lowered, so words that held the
 * pair before an entry made later are merged when their older entry comes up. This is what makes
 * the output equal to Hugging Face's token for token (ids included) once the `##c` tokens are
 * numbered in the same order: Hugging Face numbers them in its hash map's order of the words,
 * which changes from run to run; here they follow code point order (or `continuationOrder`), so
 * the same corpus gives the same vocabulary every run. Checked against tokenizers 0.23 (Rust,
 * via its Node binding) on Moby Dick and the State of the Union corpus: identical.
 *
 * Speed: words are stored once each with their frequency, pair counts are updated from the
 * words a merge touches, and the best pair comes from a max-heap whose stale entries are
 * re-queued at their true count when they surface.
 */
import { UserError } from "../errors.ts";

export interface TrainOptions {
  /** Vocabulary entries in all, special tokens included. */
  vocabSize: number;
  /** Smallest pair count still merged (Hugging Face: `min_frequency`). */
  minFrequency: number;
  /** Keep at most this many characters (the most frequent); null keeps all. */
  limitAlphabet: number | null;
  specialTokens: readonly string[];
  /** The continuing-subword prefix (`##`). */
  prefix: string;
  /**
   * `##c` tokens to number first, in this order (the rest follow by code point): reproduces a
   * Hugging Face run, whose order comes from its hash map, for comparing the two.
   */
  continuationOrder?: readonly string[];
  /** Called after each merge with the vocabulary size reached and the merged pair's count. */
  onMerge?: (size: number, count: number) => void;
}

export type StopReason = "size" | "min-frequency" | "no-pairs";

export interface TrainedVocab {
  /** Tokens by id. */
  tokens: string[];
  specials: number;
  /** Characters kept (bare tokens). */
  alphabet: number;
  /** Characters dropped by `limitAlphabet`. */
  droppedChars: number;
  /** `##c` tokens. */
  continuations: number;
  /** Merges done (a merge that remakes an existing token string adds no token). */
  merges: number;
  stop: StopReason;
  /** Count of the last pair merged (0 when none was). */
  lastMergeCount: number;
  /** Distinct words trained on and their total frequency. */
  words: number;
  wordOccurrences: number;
}

interface HeapEntry {
  count: number;
  a: number;
  b: number;
  /** The words this entry merges in (Hugging Face's `pos`). */
  words: number[];
}

/** Trains on `wordCounts` (word → frequency). */
export function trainWordPiece(wordCounts: Map<string, number>, opts: TrainOptions): TrainedVocab {
  const { vocabSize, minFrequency, limitAlphabet, specialTokens, prefix } = opts;
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const addToken = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const t of specialTokens) addToken(t);
  const specials = tokens.length;

  // Words in a fixed order (by string), so everything below is independent of insertion order.
  const words = [...wordCounts.keys()].sort(compareStrings);
  const freq = new Float64Array(words.length);
  let wordOccurrences = 0;
  words.forEach((w, i) => {
    freq[i] = wordCounts.get(w)!;
    wordOccurrences += freq[i];
  });

  // 2. Alphabet.
  const charCounts = new Map<number, number>();
  words.forEach((w, i) => {
    for (const ch of w) {
      const cp = ch.codePointAt(0)!;
      charCounts.set(cp, (charCounts.get(cp) ?? 0) + freq[i]);
    }
  });
  let chars = [...charCounts.entries()];
  const toRemove = limitAlphabet === null ? 0 : Math.max(0, chars.length - limitAlphabet);
  if (toRemove > 0) {
    // Rarest first; among equal counts the higher code point goes first.
    chars.sort((x, y) => x[1] - y[1] || y[0] - x[0]);
    chars = chars.slice(toRemove);
  }
  const kept = new Set(chars.map(([cp]) => cp));
  for (const cp of [...kept].sort((x, y) => x - y)) addToken(String.fromCodePoint(cp));
  const alphabet = tokens.length - specials;

  // 3. Words as symbol ids; ##c tokens by code point.
  const continued = new Set<number>();
  for (const w of words) {
    let first = true;
    for (const ch of w) {
      const cp = ch.codePointAt(0)!;
      if (!first && kept.has(cp)) continued.add(cp);
      first = false;
    }
  }
  for (const t of opts.continuationOrder ?? []) {
    const c = [...t.slice(prefix.length)];
    if (t.startsWith(prefix) && c.length === 1 && continued.has(c[0].codePointAt(0)!)) addToken(t);
  }
  for (const cp of [...continued].sort((x, y) => x - y)) {
    addToken(prefix + String.fromCodePoint(cp));
  }
  const continuations = tokens.length - specials - alphabet;
  if (vocabSize < tokens.length) {
    throw new UserError(
      `--size ${vocabSize} is smaller than the starting vocabulary of ${tokens.length} ` +
        `(${specials} special tokens + ${alphabet} characters + ${continuations} ` +
        `${prefix}-continuations of them): raise --size to at least ${tokens.length}` +
        (alphabet > 1 ? " or lower --limit-alphabet" : ""),
    );
  }

  let total = 0;
  for (const w of words) total += w.length;
  const sym = new Int32Array(total);
  const start = new Int32Array(words.length);
  const len = new Int32Array(words.length);
  let at = 0;
  words.forEach((w, i) => {
    start[i] = at;
    let first = true;
    for (const ch of w) {
      const cp = ch.codePointAt(0)!;
      if (kept.has(cp)) {
        const s = first ? String.fromCodePoint(cp) : prefix + String.fromCodePoint(cp);
        sym[at++] = ids.get(s)!;
      }
      first = false;
    }
    len[i] = at - start[i];
  });

  // 4. Pair counts and the queue, as Hugging Face keeps them: a queue entry carries the words it
  // was made for, and merging a pair touches only the popped entry's words.
  const V = vocabSize;
  const pairCounts = new Map<number, number>();
  let step = 0;
  const marks = new Int32Array(words.length).fill(-1);
  const initialWords = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const o = start[w];
    for (let j = 0; j + 1 < len[w]; j++) {
      const key = sym[o + j] * V + sym[o + j + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + freq[w]);
      let list = initialWords.get(key);
      if (list === undefined) initialWords.set(key, list = []);
      if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, list] of initialWords) {
    const count = pairCounts.get(key)!;
    if (count > 0) heap.push({ count, a: Math.floor(key / V), b: key % V, words: list });
  }
  initialWords.clear();

  // Pairs that gained an occurrence in this merge, and the words where they did.
  let gained = new Map<number, number[]>();
  const change = (x: number, y: number, delta: number, w: number) => {
    const key = x * V + y;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta * freq[w]);
    if (delta > 0) {
      let list = gained.get(key);
      if (list === undefined) gained.set(key, list = []);
      if (list[list.length - 1] !== w) list.push(w);
    }
  };

  let merges = 0;
  let lastMergeCount = 0;
  let stop: StopReason = "size";
  while (tokens.length < vocabSize) {
    const top = heap.pop();
    if (top === undefined) {
      stop = "no-pairs";
      break;
    }
    const { a, b } = top;
    const current = pairCounts.get(a * V + b) ?? 0;
    if (top.count !== current) {
      // Stale: back in at its true count (Hugging Face re-queues it even at 0; such an entry
      // could only end the loop, as an empty queue does here).
      if (current > 0) heap.push({ count: current, a, b, words: top.words });
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) {
      stop = "min-frequency";
      break;
    }
    const right = tokens[b].startsWith(prefix) ? tokens[b].slice(prefix.length) : tokens[b];
    const merged = addToken(tokens[a] + right);
    merges++;
    lastMergeCount = top.count;

    // Word::merge of Hugging Face: left to right, non-overlapping; each merge takes one from
    // (prev, a) and (b, next) and adds one to (prev, new) and (new, next). The merged pair's
    // own count is left as it was (as there), so an entry for it made later, for words that
    // gained the pair since, still matches and merges those words too.
    step++;
    for (const w of top.words) {
      if (marks[w] === step) continue;
      marks[w] = step;
      const o = start[w];
      const n = len[w];
      let m = 0;
      for (let r = 0; r < n;) {
        if (sym[o + r] === a && r + 1 < n && sym[o + r + 1] === b) {
          if (m > 0) {
            change(sym[o + m - 1], a, -1, w);
            change(sym[o + m - 1], merged, 1, w);
          }
          sym[o + m++] = merged;
          r += 2;
          if (r < n) {
            change(b, sym[o + r], -1, w);
            change(merged, sym[o + r], 1, w);
          }
        } else {
          sym[o + m++] = sym[o + r++];
        }
      }
      len[w] = m;
    }
    for (const [key, list] of gained) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push({ count, a: Math.floor(key / V), b: key % V, words: list });
    }
    gained = new Map();
    opts.onMerge?.(tokens.length, top.count);
  }

  return {
    tokens,
    specials,
    alphabet,
    droppedChars: toRemove,
    continuations,
    merges,
    stop,
    lastMergeCount,
    words: words.length,
    wordOccurrences,
  };
}

/** Code-unit order, as `<` on strings (never locale-dependent). */
function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Max-heap on count; equal counts: smaller (a, b) first (Hugging Face's Merge ordering). */
class PairHeap {
  private readonly items: HeapEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(e: HeapEntry): void {
    const items = this.items;
    items.push(e);
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(items[i], items[p])) break;
      [items[i], items[p]] = [items[p], items[i]];
      i = p;
    }
  }

  pop(): HeapEntry | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < items.length && before(items[l], items[m])) m = l;
        if (r < items.length && before(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: HeapEntry, y: HeapEntry): boolean {
  if (x.count !== y.count) return x.count > y.count;
  if (x.a !== y.a) return x.a < y.a;
  return x.b < y.b;
}
