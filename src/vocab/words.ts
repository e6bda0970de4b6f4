/**
 * Word frequencies of a corpus as the trained tokenizer will see its words: BertNormalizer
 * (clean-up, CJK characters isolated, lower-casing and accent stripping) and BertPreTokenizer
 * (whitespace split, every punctuation character its own word), both run by
 * @huggingface/tokenizers from the same configs written into tokenizer.json (src/vocab/format.ts),
 * so training and encoding cannot disagree about what a word is.
 *
 * Speed: a corpus repeats its words, so the raw text is first cut at whitespace and the pieces
 * counted; each distinct piece is then normalized and pre-tokenized once. Cutting first changes
 * nothing: every character cut at is one the normalizer turns into a space and the pre-tokenizer
 * splits at, nothing the normalizer does reaches across a space (NFD reorders only combining
 * marks; the final-sigma rule of lower-casing looks only through case-ignorable characters), and
 * the characters the normalizer deletes (\v, \f, U+FEFF among the whitespace) are not cut at.
 */
import { BertNormalizer, BertPreTokenizer } from "@huggingface/tokenizers";
import { normalizerConfig } from "./format.ts";

/** JS `\s` less what BertNormalizer's clean_text deletes instead of turning into a space. */
const CUT = /[^\S\v\f\ufeff]+/;

export class WordCounter {
  private readonly pieces = new Map<string, number>();
  private readonly normalizer: BertNormalizer;
  private readonly preTokenizer = new BertPreTokenizer();
  /** Characters of text added (UTF-16 units), for progress and the report. */
  chars = 0;

  constructor(readonly opts: { lowercase: boolean }) {
    // The library's config type has no `null` for strip_accents; null means "as lowercase".
    this.normalizer = new BertNormalizer(
      normalizerConfig(opts.lowercase) as unknown as ConstructorParameters<
        typeof BertNormalizer
      >[0],
    );
  }

  add(text: string): void {
    this.chars += text.length;
    const pieces = this.pieces;
    for (const piece of text.split(CUT)) {
      if (piece.length === 0) continue;
      pieces.set(piece, (pieces.get(piece) ?? 0) + 1);
    }
  }

  /** The words of a text, as tokenizer.json's normalizer and pre-tokenizer make them. */
  words(text: string): string[] {
    return this.preTokenizer.pre_tokenize_text(this.normalizer.normalize(text));
  }

  /** word → occurrences over everything added so far. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [piece, n] of this.pieces) {
      for (const word of this.words(piece)) counts.set(word, (counts.get(word) ?? 0) + n);
    }
    return counts;
  }
}
