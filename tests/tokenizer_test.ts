/**
 * src/io/tokenizer.ts on the fixture tokenizers (tests/fixtures/tiny-{bert,roberta}). Expected
 * tokens and word indices are written by hand from the tokenizer rules; ids come from the
 * vocabulary read straight from tokenizer.json, not through the tokenizer under test.
 */
import {
  type L3Tokenizer,
  loadTokenizer,
  parseTokenizer,
  truncatedLengths,
} from "../src/io/tokenizer.ts";
import { assertUserError } from "./util.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

function assertEquals<T>(actual: T, expected: T, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${label}:\n  got      ${a}\n  expected ${e}`);
}

/** token → id from the fixture's tokenizer.json itself (model vocab + added tokens). */
async function vocabOf(model: string): Promise<Map<string, number>> {
  const json = JSON.parse(await Deno.readTextFile(`${FIXTURES}${model}/tokenizer.json`));
  const vocab = new Map<string, number>(Object.entries(json.model.vocab as Record<string, number>));
  for (const t of json.added_tokens) vocab.set(t.content, t.id);
  return vocab;
}

interface Case {
  text: string;
  tokens: string[];
  words: (number | null)[];
  maxLength?: number;
  pair?: string;
  special?: boolean[];
}

async function checkCases(model: string, cases: Case[]): Promise<void> {
  const tok = await loadTokenizer(`${FIXTURES}${model}`);
  const vocab = await vocabOf(model);
  for (const c of cases) {
    const label = `${model} ${JSON.stringify(c.text)}${
      c.pair ? ` + ${JSON.stringify(c.pair)}` : ""
    }`;
    const enc = tok.encode(c.text, { maxLength: c.maxLength, pair: c.pair });
    assertEquals(enc.tokens, c.tokens, `${label} tokens`);
    const ids = c.tokens.map((t) => {
      const id = vocab.get(t);
      if (id === undefined) {
        throw new Error(`${label}: expected token ${t} is not in the vocabulary`);
      }
      return id;
    });
    assertEquals(enc.ids, ids, `${label} ids`);
    assertEquals(enc.words, c.words, `${label} words`);
    const special = c.special ?? c.words.map((w) => w === null);
    assertEquals(enc.special, special, `${label} special`);
    for (const k of ["ids", "tokens", "words", "special", "sequence", "typeIds"] as const) {
      if (enc[k].length !== enc.ids.length) {
        throw new Error(`${label}: ${k} has ${enc[k].length} entries`);
      }
    }
  }
}

Deno.test("tokenizer: golden batch ids and word indices agree with make_golden.py", async () => {
  for (const model of ["tiny-bert", "tiny-roberta"]) {
    const golden = JSON.parse(await Deno.readTextFile(`${FIXTURES}golden/${model}.json`));
    const tok = await loadTokenizer(`${FIXTURES}${model}/tokenizer.json`);
    golden.sentences.forEach((text: string, b: number) => {
      const enc = tok.encode(text);
      const n = enc.ids.length;
      assertEquals(enc.tokens, golden.tokens[b], `${model} sentence ${b} tokens`);
      assertEquals(enc.ids, golden.input_ids[b].slice(0, n), `${model} sentence ${b} ids`);
      assertEquals(enc.words, golden.word_ids[b], `${model} sentence ${b} words`);
      const padded = golden.input_ids[b].slice(n);
      if (padded.some((id: number) => id !== tok.specialIds.pad)) {
        throw new Error(`${model}: bad padding`);
      }
      assertEquals(
        golden.attention_mask[b].indexOf(0) === -1 ? golden.T : golden.attention_mask[b].indexOf(0),
        n,
        "mask",
      );
    });
  }
});

Deno.test("tokenizer: BERT WordPiece tokens, ids and word indices", async () => {
  await checkCases("tiny-bert", [
    {
      // Lowercased; every punctuation character is its own word; contractions split at '.
      text: "It's state-of-the-art, isn't it?",
      tokens: [
        "[CLS]",
        "it",
        "'",
        "s",
        "state",
        "-",
        "of",
        "-",
        "the",
        "-",
        "art",
        ",",
        "is",
        "##n",
        "'",
        "t",
        "it",
        "?",
        "[SEP]",
      ],
      words: [null, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12, 13, 14, 15, null],
    },
    {
      // Digits: greedy longest match (20 ##2 ##4); the decimal point is punctuation.
      text: "In 2024, 3.5 models.",
      tokens: ["[CLS]", "in", "20", "##2", "##4", ",", "3", ".", "5", "models", ".", "[SEP]"],
      words: [null, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, null],
    },
    {
      // Accents are stripped when lowercasing.
      text: "Résumé NAÏVE Café",
      tokens: ["[CLS]", "resume", "naive", "cafe", "[SEP]"],
      words: [null, 0, 1, 2, null],
    },
    {
      text: "souvenir",
      tokens: ["[CLS]", "so", "##uven", "##ir", "[SEP]"],
      words: [null, 0, 0, 0, null],
    },
    {
      // An emoji is no punctuation: alone it is an [UNK] word, glued to a word it makes the
      // whole word [UNK]. An in-text [UNK] keeps its word index but is special.
      text: "I love it 😀! great😀",
      tokens: ["[CLS]", "i", "love", "it", "[UNK]", "!", "[UNK]", "[SEP]"],
      words: [null, 0, 1, 2, 3, 4, 5, null],
      special: [true, false, false, false, true, false, true, true],
    },
    {
      // BertNormalizer puts spaces around CJK characters: one word each.
      text: "中文",
      tokens: ["[CLS]", "[UNK]", "[UNK]", "[SEP]"],
      words: [null, 0, 1, null],
      special: [true, true, true, true],
    },
    {
      // An added token in the text is one word of its own (and special).
      text: "the [MASK] table",
      tokens: ["[CLS]", "the", "[MASK]", "table", "[SEP]"],
      words: [null, 0, 1, 2, null],
      special: [true, false, true, false, true],
    },
    { text: "  \t\n ", tokens: ["[CLS]", "[SEP]"], words: [null, null] },
  ]);
});

Deno.test("tokenizer: RoBERTa byte-level BPE tokens, ids and word indices", async () => {
  await checkCases("tiny-roberta", [
    {
      // 's is its own regex chunk; "It" has no merge ("it" has).
      text: "It's the model's data.",
      tokens: ["<s>", "I", "t", "'s", "Ġthe", "Ġmodel", "'s", "Ġdata", ".", "</s>"],
      words: [null, 0, 0, 1, 2, 3, 4, 5, 6, null],
    },
    {
      // Hyphens: punctuation chunks without a space; letters after them start new chunks.
      text: "state-of-the-art",
      tokens: ["<s>", "state", "-", "of", "-", "the", "-", "art", "</s>"],
      words: [null, 0, 1, 2, 3, 4, 5, 6, null],
    },
    {
      // Digits: " 2024" is one chunk (Ġ20 24), " 25" another (Ġ2 5).
      text: "In 2024, 25 tables.",
      tokens: ["<s>", "I", "n", "Ġ20", "24", ",", "Ġ2", "5", "Ġtable", "s", ".", "</s>"],
      words: [null, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5, null],
    },
    {
      // é is two bytes, Ã ©, merged into one token; case is kept.
      text: "A café",
      tokens: ["<s>", "A", "Ġcaf", "Ã©", "</s>"],
      words: [null, 0, 1, 1, null],
    },
    {
      // " 😀!" is one chunk: a space, the emoji's 4 bytes F0 9F 98 80 and "!".
      text: "I love it 😀!",
      tokens: ["<s>", "I", "Ġlove", "Ġit", "Ġ", "ð", "Ł", "ĺ", "Ģ", "!", "</s>"],
      words: [null, 0, 1, 2, 3, 3, 3, 3, 3, 3, null],
    },
    {
      // SPEC §2's example: " (" and "table" are two words, ")." is one word of two tokens
      // (no ") ." merge); "table" without its space has no merges at all.
      text: "parser (table 2).",
      tokens: ["<s>", "p", "ar", "ser", "Ġ(", "t", "a", "b", "l", "e", "Ġ2", ")", ".", "</s>"],
      words: [null, 0, 0, 0, 1, 2, 2, 2, 2, 2, 3, 4, 4, null],
    },
    {
      // <mask> strips the space on its left (lstrip), and is one special word.
      text: "The <mask> table",
      tokens: ["<s>", "The", "<mask>", "Ġtable", "</s>"],
      words: [null, 0, 1, 2, null],
      special: [true, false, true, false, true],
    },
  ]);
});

Deno.test("tokenizer: truncation keeps [SEP] / </s>", async () => {
  await checkCases("tiny-bert", [
    {
      text: "The parser's table (2) shows results.",
      maxLength: 6,
      tokens: ["[CLS]", "the", "pars", "##er", "'", "[SEP]"],
      words: [null, 0, 1, 1, 2, null],
    },
    {
      text: "The parser's table.",
      maxLength: 8,
      tokens: ["[CLS]", "the", "pars", "##er", "'", "s", "table", "[SEP]"],
      words: [null, 0, 1, 1, 2, 3, 4, null],
    },
  ]);
  await checkCases("tiny-roberta", [
    {
      text: "The parser's table (2) shows results.",
      maxLength: 5,
      tokens: ["<s>", "The", "Ġpar", "ser", "</s>"],
      words: [null, 0, 1, 1, null],
    },
  ]);
  for (const model of ["tiny-bert", "tiny-roberta"]) {
    const tok = await loadTokenizer(`${FIXTURES}${model}`);
    const enc = tok.encode(Array(300).fill("the").join(" ")); // default max length 128
    assertEquals(enc.ids.length, 128, `${model} default max length`);
    assertEquals(enc.ids[127], tok.specialIds.sep, `${model} last token`);
    assertEquals(enc.words[126], 125, `${model} last word`);
    await assertUserError(() => tok.encode("the", { maxLength: 2 }), ["max length 2"]);
  }
});

Deno.test("tokenizer: sentence pairs (words restart at 0, longest-first truncation)", async () => {
  await checkCases("tiny-bert", [
    {
      text: "a b c d e f",
      pair: "g h",
      maxLength: 8,
      tokens: ["[CLS]", "a", "b", "c", "[SEP]", "g", "h", "[SEP]"],
      words: [null, 0, 1, 2, null, 0, 1, null],
    },
  ]);
  await checkCases("tiny-roberta", [
    {
      text: "A",
      pair: "We",
      tokens: ["<s>", "A", "</s>", "</s>", "We", "</s>"],
      words: [null, 0, null, null, 0, null],
    },
  ]);
  const bert = await loadTokenizer(`${FIXTURES}tiny-bert`);
  const enc = bert.encode("a b", { pair: "c" });
  assertEquals(enc.sequence, [null, 0, 0, null, 1, null], "bert sequence ids");
  assertEquals(enc.typeIds, [0, 0, 0, 0, 1, 1], "bert type ids");
  const roberta = await loadTokenizer(`${FIXTURES}tiny-roberta`);
  assertEquals(roberta.encode("A", { pair: "We" }).typeIds, [0, 0, 0, 0, 0, 0], "roberta type ids");
  // Hugging Face's truncate_encodings test table (max 7).
  const table: [number, number, number, number][] = [
    [0, 8, 0, 7],
    [2, 8, 2, 5],
    [4, 4, 3, 4],
    [4, 8, 3, 4],
    [8, 2, 5, 2],
    [8, 4, 4, 3],
    [8, 8, 3, 4],
    [2, 4, 2, 4],
  ];
  for (const [n1, n2, e1, e2] of table) {
    assertEquals(truncatedLengths(n1, n2, 7), [e1, e2], `truncate ${n1}+${n2}`);
  }
  assertEquals(truncatedLengths(10, null, 7), [7, 0], "truncate single");
});

Deno.test("tokenizer: vocabulary, special ids and kind", async () => {
  const bert = await loadTokenizer(`${FIXTURES}tiny-bert`);
  const roberta = await loadTokenizer(`${FIXTURES}tiny-roberta`);
  const check = async (tok: L3Tokenizer, model: string) => {
    const config = JSON.parse(await Deno.readTextFile(`${FIXTURES}${model}/config.json`));
    assertEquals(tok.vocabSize, config.vocab_size, `${model} vocab size`);
    assertEquals(tok.specialIds.pad, config.pad_token_id, `${model} pad id`);
    assertEquals(tok.addedSingle, 2, `${model} added special tokens`);
  };
  await check(bert, "tiny-bert");
  await check(roberta, "tiny-roberta");
  assertEquals(bert.kind, "wordpiece", "bert kind");
  assertEquals(roberta.kind, "bpe", "roberta kind");
  assertEquals(
    bert.specialIds,
    { cls: 101, sep: 102, pad: 0, mask: 103, unk: 100 },
    "bert special ids",
  );
  const rv = await vocabOf("tiny-roberta");
  assertEquals(
    roberta.specialIds,
    { cls: 0, sep: 2, pad: 1, mask: rv.get("<mask>")!, unk: 3 },
    "roberta ids",
  );
  assertEquals(roberta.specialIds.mask, roberta.vocabSize - 1, "<mask> is the last id");
  assertEquals(bert.idToToken(101), "[CLS]", "id → token");
  assertEquals(roberta.idToToken(4 + 0x20), "Ġ", "byte 0x20 → Ġ");
  assertEquals(bert.tokenToId("##uven") !== undefined, true, "##uven in vocab");
  for (const id of [0, 100, 101, 102, 103]) {
    assertEquals(bert.isSpecial(id), true, `bert special ${id}`);
  }
  assertEquals(bert.isSpecial(1), false, "[unused0] is not special");
  assertEquals(bert.isSpecial(bert.tokenToId("the")!), false, "the is not special");
  for (const id of [0, 1, 2, 3, roberta.specialIds.mask]) {
    assertEquals(roberta.isSpecial(id), true, `roberta ${id}`);
  }
  let threw = false;
  try {
    bert.idToToken(bert.vocabSize);
  } catch {
    threw = true;
  }
  assertEquals(threw, true, "id outside the vocabulary throws");
  assertEquals(
    bert.decode(bert.encode("A souvenir café!").ids, { skipSpecial: true }),
    "a souvenir cafe!",
    "decode",
  );
  assertEquals(
    roberta.decode(roberta.encode("A souvenir café!").ids, { skipSpecial: true }),
    "A souvenir café!",
    "decode",
  );
});

Deno.test("tokenizer: vocabSize counts every id it can emit (added tokens, template, padding)", async () => {
  const base = JSON.parse(await Deno.readTextFile(`${FIXTURES}tiny-bert/tokenizer.json`));
  const bert = parseTokenizer(JSON.stringify(base), "tiny-bert");
  assertEquals(bert.largestId, { id: 301, token: bert.idToToken(301) }, "fixture's largest id");

  // An added token past the model vocabulary: emitted by encode, counted by vocabSize.
  const added = structuredClone(base);
  added.added_tokens.push({
    content: "<extra>",
    id: 302,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: false,
  });
  const withAdded = parseTokenizer(JSON.stringify(added), "added");
  assertEquals(withAdded.encode("the <extra> table").ids.includes(302), true, "emits id 302");
  assertEquals(withAdded.vocabSize, 303, "vocabSize with the added token");
  assertEquals(withAdded.largestId, { id: 302, token: "<extra>" }, "largest id");

  // A post-processor template whose special ids lie past the vocabulary.
  const template = structuredClone(base);
  template.post_processor.special_tokens["[SEP]"].ids = [400];
  const withTemplate = parseTokenizer(JSON.stringify(template), "template");
  assertEquals(withTemplate.encode("the table").ids.at(-1), 400, "emits the template's id");
  assertEquals(withTemplate.largestId, { id: 400, token: "[SEP]" }, "template id counted");

  // A padding id past the vocabulary.
  const padded = structuredClone(base);
  padded.padding = { pad_id: 350, pad_token: "[PAD]" };
  assertEquals(parseTokenizer(JSON.stringify(padded), "pad").vocabSize, 351, "pad id counted");
});

Deno.test("tokenizer: missing or malformed tokenizer.json is a UserError naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "l3mask-tok-" });
  try {
    // No tokenizer.json and no vocabulary files (tests/tokenizer_files_test.ts has the rest).
    await assertUserError(() => loadTokenizer(dir), [dir, "no tokenizer", "need tokenizer.json"]);
    await assertUserError(() => loadTokenizer(`${dir}/nope.json`), [
      `${dir}/nope.json`,
      "not found",
    ]);
    const file = `${dir}/tokenizer.json`;
    await Deno.writeTextFile(file, "{ not json");
    await assertUserError(() => loadTokenizer(dir), [file, "malformed JSON"]);
    await Deno.writeTextFile(file, "[1, 2]");
    await assertUserError(() => loadTokenizer(file), [file, "JSON object"]);
    await Deno.writeTextFile(file, JSON.stringify({ version: "1.0" }));
    await assertUserError(() => loadTokenizer(file), [file, '"model"']);
    await Deno.writeTextFile(file, JSON.stringify({ model: { type: "Unigram", vocab: [] } }));
    await assertUserError(() => loadTokenizer(file), [file, "Unigram", "not supported"]);
    await Deno.writeTextFile(file, JSON.stringify({ model: { type: "WordPiece", vocab: [] } }));
    await assertUserError(() => loadTokenizer(file), [file, "model.vocab"]);
    // Valid JSON, but no [MASK].
    const bert = JSON.parse(await Deno.readTextFile(`${FIXTURES}tiny-bert/tokenizer.json`));
    delete bert.model.vocab["[MASK]"];
    bert.added_tokens = bert.added_tokens.filter((t: { content: string }) =>
      t.content !== "[MASK]"
    );
    await assertUserError(() => parseTokenizer(JSON.stringify(bert), "x/tokenizer.json"), [
      "x/tokenizer.json",
      "mask token",
    ]);
    // An unknown component type from the library is reported with the file name too.
    const odd = JSON.parse(await Deno.readTextFile(`${FIXTURES}tiny-bert/tokenizer.json`));
    odd.pre_tokenizer = { type: "NoSuchPreTokenizer" };
    await assertUserError(() => parseTokenizer(JSON.stringify(odd), "y/tokenizer.json"), [
      "y/tokenizer.json",
      "NoSuchPreTokenizer",
    ]);
    // A BOM is ignored.
    const ok = parseTokenizer(
      "\uFEFF" + (await Deno.readTextFile(`${FIXTURES}tiny-bert/tokenizer.json`)),
      "z",
    );
    assertEquals(ok.encode("souvenir").tokens, ["[CLS]", "so", "##uven", "##ir", "[SEP]"], "BOM");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
