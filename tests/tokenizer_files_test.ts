/**
 * src/io/tokenizer_files.ts: tokenizers built from the old hub files (tests/fixtures/vocab_files,
 * written by make_vocab_files.py from the tiny fixtures' tokenizer.json) are the fixtures'
 * tokenizer.json, and encode hundreds of varied texts exactly as they do; every malformed file set
 * gets its one-line error.
 */
import { type L3Tokenizer, loadTokenizer, parseTokenizer } from "../src/io/tokenizer.ts";
import {
  byteLevelBpeTokenizerJson,
  hasTokenizerFiles,
  type Json,
  parseMerges,
  parseVocabTxt,
  tokenizerFromVocabFiles,
  wordPieceTokenizerJson,
} from "../src/io/tokenizer_files.ts";
import { assertUserError, rng, withTempDir } from "./util.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const VOCAB_FILES = `${FIXTURES}vocab_files/`;

function canonical(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(sort) : typeof x === "object" && x !== null
      ? Object.fromEntries(
        Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
          [k, y],
        ) => [k, sort(y)]),
      )
      : x;
  return JSON.stringify(sort(v));
}

function assertEquals<T>(actual: T, expected: T, label: string): void {
  const a = canonical(actual), e = canonical(expected);
  if (a !== e) throw new Error(`${label}:\n  got      ${a}\n  expected ${e}`);
}

async function fixtureJson(model: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(`${FIXTURES}${model}/tokenizer.json`));
}

/** The fixture tokenizer.json as Hugging Face would convert the variant's files. */
async function expectedJson(variant: string): Promise<Json> {
  const bert = await fixtureJson("tiny-bert");
  const roberta = await fixtureJson("tiny-roberta");
  switch (variant) {
    case "tiny-bert":
    case "tiny-bert-bare":
      return bert;
    case "tiny-bert-cased":
      return { ...bert, normalizer: { ...(bert.normalizer as Json), lowercase: false } };
    case "tiny-bert-added": {
      const extra = {
        id: 302,
        content: "newword",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: false,
      };
      return { ...bert, added_tokens: [...(bert.added_tokens as Json[]), extra] };
    }
    case "tiny-roberta":
    case "tiny-roberta-bare":
    case "tiny-roberta-decoder":
    case "both-roberta":
      return roberta;
    case "tiny-roberta-prefix":
      return {
        ...roberta,
        pre_tokenizer: { ...(roberta.pre_tokenizer as Json), add_prefix_space: true },
        post_processor: { ...(roberta.post_processor as Json), add_prefix_space: true },
      };
  }
  throw new Error(`no expectation for ${variant}`);
}

const VARIANTS = [
  "tiny-bert",
  "tiny-bert-bare",
  "tiny-bert-cased",
  "tiny-bert-added",
  "tiny-roberta",
  "tiny-roberta-bare",
  "tiny-roberta-prefix",
  "tiny-roberta-decoder",
  "both-roberta",
];

/** The tokenizer.json parts that decide encoding, plus the decoder and the fixed header. */
const PARTS = [
  "version",
  "truncation",
  "padding",
  "added_tokens",
  "normalizer",
  "pre_tokenizer",
  "post_processor",
  "decoder",
  "model",
];

Deno.test("tokenizer files: the built tokenizer.json is the fixture's, part by part", async () => {
  for (const variant of VARIANTS) {
    const built = await tokenizerFromVocabFiles(`${VOCAB_FILES}${variant}`);
    const expected = await expectedJson(variant);
    assertEquals(Object.keys(built.json).sort(), PARTS.slice().sort(), `${variant} keys`);
    for (const part of PARTS) {
      assertEquals(built.json[part], expected[part], `${variant} ${part}`);
    }
  }
});

Deno.test("tokenizer files: loadTokenizer falls back to them and records the files", async () => {
  const dir = `${VOCAB_FILES}tiny-bert`;
  const tok = await loadTokenizer(dir);
  assertEquals(
    tok.files,
    ["tokenizer_config.json", "special_tokens_map.json", "vocab.txt"].map((f) => `${dir}/${f}`),
    "files",
  );
  assertEquals(tok.source, `${dir}/vocab.txt`, "source");
  const built = (await tokenizerFromVocabFiles(dir)).json;
  assertEquals(JSON.parse(new TextDecoder().decode(tok.jsonBytes)), built, "jsonBytes");
  const bare = await loadTokenizer(`${VOCAB_FILES}tiny-roberta-bare/`);
  assertEquals(
    bare.files,
    ["vocab.json", "merges.txt"].map((f) => `${VOCAB_FILES}tiny-roberta-bare/${f}`),
    "bare files",
  );
  // With added_tokens_decoder in the config, special_tokens_map.json is a legacy file, unread.
  const modern = await loadTokenizer(`${VOCAB_FILES}tiny-roberta-decoder`);
  assertEquals(
    modern.files,
    ["tokenizer_config.json", "vocab.json", "merges.txt"].map((f) =>
      `${VOCAB_FILES}tiny-roberta-decoder/${f}`
    ),
    "decoder files",
  );
  const both = await loadTokenizer(`${VOCAB_FILES}both-roberta`);
  assertEquals(both.kind, "bpe", "model_type roberta picks vocab.json + merges.txt");
  if (!both.files.some((f) => f.endsWith("/config.json"))) throw new Error("config.json unlisted");
  // A directory with tokenizer.json still reads it, and nothing else.
  const fromJson = await loadTokenizer(`${FIXTURES}tiny-bert`);
  assertEquals(fromJson.files, [`${FIXTURES}tiny-bert/tokenizer.json`], "tokenizer.json files");
  const bytes = await Deno.readFile(`${FIXTURES}tiny-bert/tokenizer.json`);
  assertEquals([...fromJson.jsonBytes], [...bytes], "jsonBytes are the file's");
});

/** Pieces the generated texts are drawn from: every kind of text the issue names. */
const PIECES = [
  // words of both vocabularies, cased and not, and multi-piece words
  "the",
  "The",
  "THE",
  "model",
  "models",
  "data",
  "table",
  "souvenir",
  "parser",
  "parser's",
  "results",
  "state-of-the-art",
  "it's",
  "isn't",
  "we'll",
  "In",
  "show",
  "shows",
  "great",
  "love",
  "cafe",
  "naive",
  "resume",
  "method",
  "token",
  "mask",
  "words",
  "un",
  "re",
  // accents, composed and decomposed
  "café",
  "Café",
  "naïve",
  "NAÏVE",
  "Ångström",
  "résumé",
  "e\u0301",
  "Zoë",
  "façade",
  "über",
  // punctuation runs
  "!",
  "!!!",
  "?!",
  "...",
  "--",
  "—",
  "(",
  ")",
  "((x))",
  '"',
  "'",
  "''",
  ",",
  ";:",
  "@#$%",
  "[",
  "]",
  "<",
  ">",
  "</",
  "/>",
  "&amp;",
  "~",
  "`",
  "^_^",
  // CJK and other scripts
  "中文",
  "中",
  "日本語",
  "한국어",
  "Ελληνικά",
  "русский",
  "עברית",
  "العربية",
  "ไทย",
  // long words: over 100 characters WordPiece makes [UNK]
  "a".repeat(101),
  "souvenir".repeat(13),
  "b".repeat(100),
  "parser".repeat(17),
  // special tokens written in the text
  "[MASK]",
  "<mask>",
  "[CLS]",
  "[SEP]",
  "[PAD]",
  "[UNK]",
  "<s>",
  "</s>",
  "<pad>",
  "<unk>",
  "[mask]",
  "<MASK>",
  "x[MASK]y",
  "a<mask>b",
  "newword",
  "NewWord",
  // whitespace oddities
  " ",
  "  ",
  "\t",
  "\n",
  "\r\n",
  "\u00a0",
  "\u200b",
  "\u3000",
  "\u2009",
  "\ufeff",
  "\u0085",
  // control characters
  "\u0000",
  "\u0007",
  "\ufffd",
  "\u00ad",
  // emoji
  "😀",
  "👍🏽",
  "🇫🇷",
  "👨‍👩‍👧",
  "❤️",
  "😀!",
  // numbers
  "2024",
  "3.14",
  "1,000",
  "25%",
  "-7",
  "1e-5",
  "٣",
  "½",
  "2024-25",
];

const HAND = [
  "",
  " ",
  "The parser's table (2) shows results.",
  "A souvenir café!",
  "We model data 2024-25.",
  "It's state-of-the-art, isn't it?",
  "Résumé NAÏVE Café Ångström",
  "the [MASK] table",
  "the <mask> table",
  "the<mask> table and  <mask>",
  "[CLS] hello [SEP] world [SEP]",
  "<s> hello </s></s> world </s>",
  "中文字 and 日本語",
  `a ${"x".repeat(101)} b ${"y".repeat(100)} c`,
  "tabs\tand\nnewlines\r\nand\u00a0nbsp\u200bzero width",
  "I love it 😀! great😀 👍🏽👍🏽",
  "Numbers: 1,000.50 and 3.14e-5 and 25% of 2024.",
  "!!!???...---",
  "   leading and trailing   ",
  "newword NEWWORD newwords",
  "e\u0301cole vs école",
  "\u0000\u0007control\ufffd",
];

/** Texts drawn from PIECES with a seeded generator: 1-12 pieces, joined by nothing or spaces. */
function generatedTexts(n: number, seed: number): string[] {
  const r = rng(seed);
  const joins = ["", " ", " ", " ", "  ", "\t"];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + Math.floor(r() * 12);
    let text = "";
    for (let j = 0; j < k; j++) {
      if (j > 0) text += joins[Math.floor(r() * joins.length)];
      text += PIECES[Math.floor(r() * PIECES.length)];
    }
    out.push(text);
  }
  return out;
}

function assertSameTokenizer(a: L3Tokenizer, b: L3Tokenizer, label: string): void {
  assertEquals(a.kind, b.kind, `${label} kind`);
  assertEquals(a.vocabSize, b.vocabSize, `${label} vocabSize`);
  assertEquals(a.specialIds, b.specialIds, `${label} specialIds`);
  assertEquals(a.largestId, b.largestId, `${label} largestId`);
  assertEquals(a.addedSingle, b.addedSingle, `${label} addedSingle`);
}

function assertSameEncodings(built: L3Tokenizer, ref: L3Tokenizer, texts: string[], label: string) {
  let encodings = 0;
  texts.forEach((text, i) => {
    const pair = texts[(i * 7 + 3) % texts.length];
    for (const maxLength of [5, 8, 16, 512]) {
      for (const opts of [{ maxLength }, { maxLength, pair }]) {
        const what =
          `${label} ${JSON.stringify(text)}${opts.pair !== undefined ? " + pair" : ""} ` +
          `max ${maxLength}`;
        assertEquals(built.encode(text, opts), ref.encode(text, opts), what);
        encodings++;
      }
    }
  });
  for (const id of [0, 1, 2, 3, 101, 103, 200, built.vocabSize - 1]) {
    assertEquals(built.decode([id, id]), ref.decode([id, id]), `${label} decode ${id}`);
  }
  return encodings;
}

Deno.test("tokenizer files: a few hundred texts encode as with tokenizer.json", async () => {
  const texts = [...HAND, ...generatedTexts(300, 20240611)];
  let encodings = 0;
  for (const variant of VARIANTS) {
    const built = await loadTokenizer(`${VOCAB_FILES}${variant}`);
    const ref = parseTokenizer(JSON.stringify(await expectedJson(variant)), variant);
    assertSameTokenizer(built, ref, variant);
    encodings += assertSameEncodings(built, ref, texts, variant);
  }
  if (encodings < VARIANTS.length * 300 * 8) {
    throw new Error(`only ${encodings} encodings compared`);
  }
});

Deno.test("tokenizer files: the variants change what they should", async () => {
  const uncased = await loadTokenizer(`${VOCAB_FILES}tiny-bert`);
  const cased = await loadTokenizer(`${VOCAB_FILES}tiny-bert-cased`);
  assertEquals(uncased.encode("The Café").tokens, ["[CLS]", "the", "cafe", "[SEP]"], "uncased");
  assertEquals(cased.encode("The café").tokens, ["[CLS]", "[UNK]", "[UNK]", "[SEP]"], "cased");
  const added = await loadTokenizer(`${VOCAB_FILES}tiny-bert-added`);
  const enc = added.encode("a NewWord");
  assertEquals(enc.tokens, ["[CLS]", "a", "newword", "[SEP]"], "added token, normalized");
  assertEquals(enc.ids[2], 302, "added token id after the vocabulary");
  assertEquals(enc.special[2], false, "added token is not special");
  assertEquals(added.vocabSize, 303, "vocabSize counts the added token");
  const plain = await loadTokenizer(`${VOCAB_FILES}tiny-roberta`);
  const prefix = await loadTokenizer(`${VOCAB_FILES}tiny-roberta-prefix`);
  assertEquals(
    plain.encode("model").tokens,
    ["<s>", "m", "o", "d", "e", "l", "</s>"],
    "no prefix space",
  );
  assertEquals(prefix.encode("model").tokens, ["<s>", "Ġmodel", "</s>"], "prefix space");
});

Deno.test("tokenizer files: each malformed set gets its one-line error", async () => {
  const cases: [string, string[]][] = [
    ["bad-merges-one-token", ["merges.txt:3", "expected two tokens", '"ab"']],
    ["bad-merges-oov", ["merges.txt:3", '"c"', "is not in", "vocab.json"]],
    ["bad-merges-header", ["merges.txt:1", "#version", '"a b"']],
    ["bad-vocab-json-list", ["vocab.json", "expected a JSON object", "a list"]],
    ["bad-vocab-json-id", ["vocab.json", 'the id of "a" is "1"', "non-negative integer"]],
    ["bad-vocab-txt-no-unk", ["vocab.txt", "[UNK]", "unk_token", "not in the vocabulary"]],
    ["bad-vocab-txt-space", ["vocab.txt:4", '"the 1207"', "whitespace"]],
    ["bad-config", ["tokenizer_config.json", "malformed JSON"]],
    ["bad-special", ["tokenizer_config.json", "mask_token", "neither a string nor"]],
    ["unknown-class", ["tokenizer_config.json", '"MPNetTokenizer"', "BertTokenizer"]],
    ["incomplete", [
      "found merges.txt, tokenizer_config.json",
      "need tokenizer.json, or vocab.txt",
      "vocab.json + merges.txt",
    ]],
    ["ambiguous", ["both vocab.txt and vocab.json + merges.txt", "model_type"]],
  ];
  for (const [variant, parts] of cases) {
    const dir = `${VOCAB_FILES}${variant}`;
    await assertUserError(() => loadTokenizer(dir), [dir, ...parts]);
  }
  for (
    const [variant, has] of [["tiny-bert", true], ["tiny-roberta-bare", true], [
      "incomplete",
      false,
    ]]
  ) {
    assertEquals(await hasTokenizerFiles(`${VOCAB_FILES}${variant}`), has, `has ${variant}`);
  }
  assertEquals(await hasTokenizerFiles(`${FIXTURES}tiny-bert`), true, "has tokenizer.json");
  await withTempDir(async (dir) => {
    await assertUserError(() => loadTokenizer(dir), ["found none of its files"]);
    await Deno.writeTextFile(`${dir}/vocab.json`, "{}");
    await Deno.writeTextFile(`${dir}/config.json`, "{}");
    await assertUserError(() => loadTokenizer(dir), ["found vocab.json, config.json", "need"]);
    await Deno.writeTextFile(`${dir}/merges.txt`, "#version: 0.2\n");
    await Deno.writeTextFile(
      `${dir}/tokenizer_config.json`,
      '{"tokenizer_class": "BertTokenizer"}',
    );
    await assertUserError(() => loadTokenizer(dir), ["BertTokenizer needs vocab.txt"]);
  });
});

const NAMES = {
  vocab: "v/vocab",
  merges: "v/merges.txt",
  config: "v/tokenizer_config.json",
  specialTokensMap: "v/special_tokens_map.json",
  addedTokens: "v/added_tokens.json",
};
const NO_SETTINGS = { config: {}, specialTokensMap: {}, addedTokens: null };

Deno.test("tokenizer files: vocab.txt and merges.txt read as Hugging Face's slow tokenizers", async () => {
  // Universal newlines; a repeated token keeps its last line (id 1 is then no token's).
  assertEquals(
    [...parseVocabTxt("a\r\nb\ra\nc", "vocab.txt").entries()],
    [["a", 2], ["b", 1], ["c", 3]],
    "vocab.txt",
  );
  assertEquals(
    [...parseVocabTxt("a\n\nb\n", "v").entries()],
    [["a", 0], ["", 1], ["b", 2]],
    "blank",
  );
  const vocab = new Map([["a", 0], ["b", 1], ["ab", 2], ["c", 3], ["abc", 4]]);
  // The first line is the header; the last element is dropped, so is a last line without "\n";
  // runs of whitespace separate; a repeated merge keeps its first rank.
  assertEquals(
    parseMerges("#version: 0.2\r\na  b\nab\tc\na b\n", vocab, "m", "v"),
    [["a", "b"], ["ab", "c"]],
    "merges",
  );
  assertEquals(parseMerges("#version: 0.2\na b\nab c", vocab, "m", "v"), [["a", "b"]], "no \\n");
  assertEquals(parseMerges("#version: 0.2\n", vocab, "m", "v"), [], "header only");
  await assertUserError(() => parseMerges("#version: 0.2\na b\n\n", vocab, "m", "v"), [
    "m:3",
    '""',
  ]);
  await assertUserError(() => parseMerges("#version: 0.2\nb c\n", vocab, "m", "v"), [
    "m:2",
    '"bc" (the merge of b and c)',
  ]);
  await assertUserError(() => parseVocabTxt("", "v"), ["v: empty vocabulary"]);
});

Deno.test("tokenizer files: special tokens, their flags and ids", async () => {
  const vocabTxt = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n##b\n";
  // special_tokens_map.json overrides tokenizer_config.json; a token missing from the
  // vocabulary is added after it (tokenizers' rule), additional special tokens too.
  const json = wordPieceTokenizerJson(vocabTxt, {
    config: {
      cls_token: "[CLS]",
      mask_token: { content: "[MASK]", lstrip: true, normalized: false },
      do_lower_case: false,
      strip_accents: true,
      tokenize_chinese_chars: false,
      additional_special_tokens: ["<ent>"],
    },
    specialTokensMap: { cls_token: "[BOS]" },
    addedTokens: null,
  }, NAMES);
  const added = (json.added_tokens as Json[]).map((t) => [t.content, t.id, t.lstrip, t.special]);
  assertEquals(added, [
    ["[PAD]", 0, false, true],
    ["[UNK]", 1, false, true],
    ["[SEP]", 3, false, true],
    ["[MASK]", 4, true, true],
    ["[BOS]", 7, false, true],
    ["<ent>", 8, false, true],
  ], "added tokens");
  assertEquals(
    (json.post_processor as Json).special_tokens,
    {
      "[BOS]": { id: "[BOS]", ids: [7], tokens: ["[BOS]"] },
      "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
    },
    "template specials",
  );
  assertEquals(json.normalizer, {
    type: "BertNormalizer",
    clean_text: true,
    handle_chinese_chars: false,
    strip_accents: true,
    lowercase: false,
  }, "normalizer");
  const tok = parseTokenizer(JSON.stringify(json), "built");
  assertEquals(tok.encode("a [BOS]").tokens, ["[BOS]", "a", "[BOS]", "[SEP]"], "encodes");
  assertEquals(tok.vocabSize, 9, "vocabSize");

  // added_tokens_decoder comes first and keeps its own flags; RoBERTa's string <mask> lstrips.
  const bpe = byteLevelBpeTokenizerJson(
    JSON.stringify({ "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, a: 4, b: 5, ab: 6, "<mask>": 7 }),
    "#version: 0.2\na b\n",
    {
      config: {
        added_tokens_decoder: {
          "8": { content: "<x>", lstrip: false, rstrip: true, normalized: false, special: false },
        },
      },
      specialTokensMap: {},
      addedTokens: { "<ignored>": 9 },
    },
    NAMES,
  );
  assertEquals(
    (bpe.added_tokens as Json[]).map((t) => [t.content, t.id, t.lstrip, t.rstrip, t.special]),
    [
      ["<s>", 0, false, false, true],
      ["<pad>", 1, false, false, true],
      ["</s>", 2, false, false, true],
      ["<unk>", 3, false, false, true],
      ["<mask>", 7, true, false, true],
      ["<x>", 8, false, true, false],
    ],
    "bpe added tokens",
  );
  await assertUserError(
    () =>
      wordPieceTokenizerJson(vocabTxt, { ...NO_SETTINGS, config: { do_lower_case: "yes" } }, NAMES),
    ["v/tokenizer_config.json", "do_lower_case", "not true or false"],
  );
});
