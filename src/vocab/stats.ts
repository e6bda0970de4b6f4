/**
 * How well a WordPiece vocabulary covers the words it was trained on: tokens per word and the
 * share of word occurrences that become [UNK]. Words are split as the WordPiece model does
 * (greedy longest match from the left, `##` on non-initial pieces, a word with an unmatched rest
 * or over `maxChars` characters is one [UNK]).
 */

export interface Coverage {
  /** Tokens per word occurrence. */
  tokensPerWord: number;
  /** Share of word occurrences that encode to [UNK]. */
  unkRate: number;
  /** Share of word occurrences that are a single token. */
  wholeWordRate: number;
}

/**
 * Greedy longest-match WordPiece splitting over two tries (word-initial pieces and `##` pieces),
 * so a word costs O(length x longest match) character steps, with no substring built per try.
 */
export class WordPieceSplitter {
  private readonly initial = new TrieNode();
  private readonly continuing = new TrieNode();

  constructor(tokens: Iterable<string>, readonly prefix: string, readonly maxChars: number) {
    for (const t of tokens) {
      if (t.startsWith(prefix) && t.length > prefix.length) {
        insert(this.continuing, t.slice(prefix.length), t);
      } else {
        insert(this.initial, t, t);
      }
    }
  }

  /** The pieces of one word, or null when it encodes to [UNK]. */
  split(word: string): string[] | null {
    let chars = 0;
    for (const _ of word) if (++chars > this.maxChars) return null;
    const pieces: string[] = [];
    let start = 0;
    while (start < word.length) {
      let node: TrieNode | undefined = start === 0 ? this.initial : this.continuing;
      let best: string | null = null, bestEnd = start;
      for (let i = start; i < word.length; i++) {
        node = node.children.get(word.charCodeAt(i));
        if (node === undefined) break;
        if (node.token !== null) {
          best = node.token;
          bestEnd = i + 1;
        }
      }
      if (best === null) return null;
      pieces.push(best);
      start = bestEnd;
    }
    return pieces;
  }
}

class TrieNode {
  readonly children = new Map<number, TrieNode>();
  token: string | null = null;
}

function insert(root: TrieNode, key: string, token: string): void {
  let node = root;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    let next = node.children.get(c);
    if (next === undefined) {
      next = new TrieNode();
      node.children.set(c, next);
    }
    node = next;
  }
  node.token = token;
}

export function coverage(
  wordCounts: Map<string, number>,
  tokens: readonly string[],
  prefix: string,
  maxChars: number,
): Coverage {
  const splitter = new WordPieceSplitter(tokens, prefix, maxChars);
  let occurrences = 0, pieces = 0, unk = 0, whole = 0;
  for (const [word, n] of wordCounts) {
    occurrences += n;
    const p = splitter.split(word);
    if (p === null) {
      unk += n;
      pieces += n;
    } else {
      pieces += n * p.length;
      if (p.length === 1) whole += n;
    }
  }
  const d = Math.max(occurrences, 1);
  return { tokensPerWord: pieces / d, unkRate: unk / d, wholeWordRate: whole / d };
}
