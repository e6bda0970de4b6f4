/**
 * Corpus → training texts: documents split into sentences, consecutive sentences packed into
 * texts of at most `maxTokens` word pieces (specials excluded), so little compute goes to padding.
 */
import type { L3Tokenizer } from "../io/tokenizer.ts";

const SENTENCE_END = /(?<=[.!?])\s+(?=[A-Z"'(])/u;

export function splitSentences(doc: string): string[] {
  return doc.split(/\n\s*\n/).flatMap((para) =>
    para.replace(/\s+/g, " ").trim().split(SENTENCE_END).map((s) => s.trim()).filter((s) =>
      s.length > 0
    )
  );
}

/** Greedy packing by token count; a sentence longer than the budget becomes its own (truncated) text. */
export function packTexts(docs: string[], tok: L3Tokenizer, maxTokens: number): string[] {
  const out: string[] = [];
  for (const doc of docs) {
    let cur: string[] = [];
    let n = 0;
    for (const s of splitSentences(doc)) {
      const len = tok.encode(s, { maxLength: 1 << 20 }).ids.length - tok.addedSingle;
      if (cur.length && n + len > maxTokens) {
        out.push(cur.join(" "));
        cur = [];
        n = 0;
      }
      cur.push(s);
      n += len;
    }
    if (cur.length) out.push(cur.join(" "));
  }
  return out;
}
