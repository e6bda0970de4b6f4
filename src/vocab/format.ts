/**
 * The files a trained WordPiece vocabulary is written as: `tokenizer.json` in the Hugging Face
 * tokenizers format (what `BertWordPieceTokenizer(...).save()` writes: BertNormalizer,
 * BertPreTokenizer, WordPiece model, `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B:1 [SEP]:1` template,
 * WordPiece decoder, the special tokens as added tokens) and `vocab.txt` (one token per line in id
 * order, as BERT's original code and `BertTokenizer` read it).
 *
 * The normalizer and pre-tokenizer configs here are also what the trainer counts words with, so
 * the words a vocabulary is learned from are the words its tokenizer.json will split a text into.
 */

/** Special tokens, ids 0..4 in this order: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4. */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;
export const UNK_TOKEN = "[UNK]";
export const CONTINUING_PREFIX = "##";
/** Longer words encode to [UNK] (the WordPiece model's `max_input_chars_per_word`). */
export const MAX_INPUT_CHARS_PER_WORD = 100;

export interface BertNormalizerConfig {
  type: "BertNormalizer";
  clean_text: true;
  handle_chinese_chars: true;
  /** null: strip accents exactly when lower-casing (Hugging Face's rule for BERT). */
  strip_accents: null;
  lowercase: boolean;
}

export function normalizerConfig(lowercase: boolean): BertNormalizerConfig {
  return {
    type: "BertNormalizer",
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase,
  };
}

export const PRE_TOKENIZER_CONFIG = { type: "BertPreTokenizer" } as const;

/**
 * tokenizer.json for `tokens` (id = index). The special tokens must be in the vocabulary; [CLS]
 * and [SEP] go into the post-processor with their ids. Pretty-printed like Hugging Face's
 * `save()`, and the vocabulary is written in id order (a JS object would put digit-only tokens
 * such as "1" first).
 */
export function tokenizerJson(tokens: readonly string[], opts: { lowercase: boolean }): string {
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const id = (t: string): number => {
    const i = idOf.get(t);
    if (i === undefined) throw new Error(`special token ${t} is not in the vocabulary`);
    return i;
  };
  const special = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const sequence = (s: "A" | "B", typeId: number) => ({ Sequence: { id: s, type_id: typeId } });
  const VOCAB = "\u0000VOCAB\u0000";
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: normalizerConfig(opts.lowercase),
    pre_tokenizer: PRE_TOKENIZER_CONFIG,
    post_processor: {
      type: "TemplateProcessing",
      single: [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
      pair: [
        special("[CLS]", 0),
        sequence("A", 0),
        special("[SEP]", 0),
        sequence("B", 1),
        special("[SEP]", 1),
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: CONTINUING_PREFIX, cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: CONTINUING_PREFIX,
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: VOCAB,
    },
  };
  const text = JSON.stringify(json, null, 2);
  const indent = "      ";
  const vocab = tokens.length === 0
    ? "{}"
    : `{\n${tokens.map((t, i) => `${indent}${JSON.stringify(t)}: ${i}`).join(",\n")}\n    }`;
  const placeholder = JSON.stringify(VOCAB);
  if (text.indexOf(placeholder) !== text.lastIndexOf(placeholder)) {
    throw new Error("tokenizer.json: the vocabulary placeholder occurs twice");
  }
  return text.replace(placeholder, () => vocab) + "\n";
}

/** vocab.txt: one token per line, line n (0-based) holding the token with id n. */
export function vocabTxt(tokens: readonly string[]): string {
  for (const t of tokens) {
    if (/[\n\r]/.test(t)) throw new Error(`token ${JSON.stringify(t)} holds a line break`);
  }
  return tokens.join("\n") + "\n";
}
