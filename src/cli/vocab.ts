/** `l3mask vocab --corpus F... --size N --out DIR`: train a WordPiece vocabulary (tokenizer.json + vocab.txt). */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { checkOutputDir } from "../io/outputs.ts";
import { parseTokenizer } from "../io/tokenizer.ts";
import { Progress } from "../util/progress.ts";
import { BUILTIN_CORPORA, type BuiltinCorpus, loadBuiltinCorpus } from "../vocab/corpora.ts";
import { readCorpusFile } from "../vocab/corpus.ts";
import {
  CONTINUING_PREFIX,
  MAX_INPUT_CHARS_PER_WORD,
  SPECIAL_TOKENS,
  tokenizerJson,
  vocabTxt,
} from "../vocab/format.ts";
import { coverage } from "../vocab/stats.ts";
import { trainWordPiece } from "../vocab/trainer.ts";
import { WordCounter } from "../vocab/words.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";

const OPTIONS = new CommandOptions(
  "vocab",
  [
    "corpus",
    "size",
    "out@model",
    "min_frequency",
    "lowercase",
    "limit_alphabet",
  ] as const,
);

const USAGE = `Usage: l3mask vocab --corpus F [F...] --size N --out DIR [options]

Trains a WordPiece vocabulary the way Hugging Face tokenizers' WordPieceTrainer does (BERT
normalization and pre-tokenization, then BPE-style merges of the most frequent adjacent pieces,
'##' marking pieces that continue a word) and writes DIR/tokenizer.json (Hugging Face format:
loads in tokenizers, transformers and l3mask) and DIR/vocab.txt (one token per line, id order).

Ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the characters (by code point), their
'##' forms, then the merged tokens in the order they were learned.

Options:
${OPTIONS.help()}`;

export async function vocab(args: string[]): Promise<void> {
  const { values, positionals } = parse("vocab", args, OPTIONS.flagOptions(), USAGE);
  // `--corpus A B C` as well as `--corpus A --corpus B`.
  const o = OPTIONS.readFlags(values, { corpus: positionals });
  const { corpus: corpora, size, minFrequency } = o;
  const lowercase = o.lowercase === "true";
  const limitAlphabet = o.limitAlphabet === "none" ? null : o.limitAlphabet;
  const out = o.out;

  await checkOutputDir(out, "--out");
  const t0 = performance.now();
  const { counter, wordCounts, documents } = await countWords(corpora, lowercase);
  const tCount = performance.now();

  const initial = new Progress("merges", size, "tokens");
  const trained = trainWordPiece(wordCounts, {
    vocabSize: size,
    minFrequency,
    limitAlphabet,
    specialTokens: SPECIAL_TOKENS,
    prefix: CONTINUING_PREFIX,
    onMerge: (n, count) => initial.update(n, `pair count ${count}`),
  });
  initial.finish(trained.tokens.length, `last pair count ${trained.lastMergeCount}`);
  const tTrain = performance.now();

  const json = tokenizerJson(trained.tokens, { lowercase });
  const jsonPath = join(out, "tokenizer.json");
  // Loud before writing: the file must load in the tokenizer engine and encode the corpus.
  const check = parseTokenizer(json, jsonPath);
  const sample = [...wordCounts.keys()].slice(0, 200).join(" ");
  check.encode(sample, { maxLength: 512 });
  await writeFileAtomic(jsonPath, json);
  await writeFileAtomic(join(out, "vocab.txt"), vocabTxt(trained.tokens));
  const tWrite = performance.now();

  const cov = coverage(wordCounts, trained.tokens, CONTINUING_PREFIX, MAX_INPUT_CHARS_PER_WORD);
  const tCoverage = performance.now();
  const time = `${sec(tCoverage - t0)} (read + count ${sec(tCount - t0)}, train ${
    sec(tTrain - tCount)
  }, check + write ${sec(tWrite - tTrain)}, coverage ${sec(tCoverage - tWrite)})`;
  const lines = summary(trained, cov, { size, minFrequency, out, documents, counter, time });
  const w = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(w)}  ${v}`);
}

/** The words of every corpus, counted (documents read one corpus at a time, with progress). */
async function countWords(corpora: string[], lowercase: boolean) {
  const counter = new WordCounter({ lowercase });
  let documents = 0;
  for (const spec of corpora) {
    const docs = await readCorpus(spec);
    const progress = new Progress(`count words ${spec}`, docs.length, "docs");
    docs.forEach((d, i) => {
      counter.add(d);
      progress.update(i + 1);
    });
    progress.finish(docs.length);
    documents += docs.length;
  }
  const wordCounts = counter.counts();
  if (wordCounts.size === 0) throw new UserError(`no words in ${corpora.join(", ")}`);
  return { counter, wordCounts, documents };
}

/** The summary printed after training: files, vocabulary make-up, corpus, coverage, time. */
function summary(
  trained: ReturnType<typeof trainWordPiece>,
  cov: ReturnType<typeof coverage>,
  r: {
    size: number;
    minFrequency: number;
    out: string;
    documents: number;
    counter: WordCounter;
    time: string;
  },
): [string, string][] {
  const stopWhy = {
    size: `reached --size ${r.size}`,
    "min-frequency": `the best pair occurred ${trained.lastMergeCount > 0 ? "fewer" : "0"} times ` +
      `(< --min-frequency ${r.minFrequency})`,
    "no-pairs": "no pairs left to merge (every word is one token)",
  }[trained.stop];
  const merged = trained.tokens.length - trained.specials - trained.alphabet -
    trained.continuations;
  return [
    ["wrote", `${join(r.out, "tokenizer.json")}, ${join(r.out, "vocab.txt")}`],
    ["vocabulary", `${trained.tokens.length} tokens (${stopWhy})`],
    [
      "  of which",
      `${trained.specials} special (ids 0-${
        trained.specials - 1
      }), ${trained.alphabet} characters` +
      `${trained.droppedChars ? ` (${trained.droppedChars} rare ones dropped)` : ""}, ` +
      `${trained.continuations} ${CONTINUING_PREFIX}-characters, ${merged} merged ` +
      `(${trained.merges} merges)`,
    ],
    [
      "corpus",
      `${r.documents} documents, ${r.counter.chars} characters, ${trained.wordOccurrences} words ` +
      `(${trained.words} distinct)`,
    ],
    [
      "coverage",
      `${cov.tokensPerWord.toFixed(3)} tokens/word, ${(100 * cov.wholeWordRate).toFixed(1)}% ` +
      `of words one token, ${(100 * cov.unkRate).toFixed(3)}% [UNK]`,
    ],
    ["time", r.time],
  ];
}

/** A corpus's documents: `builtin:<name>` or a file. */
async function readCorpus(spec: string): Promise<string[]> {
  if (spec.startsWith("builtin:")) {
    const name = spec.slice("builtin:".length);
    if (!(BUILTIN_CORPORA as readonly string[]).includes(name)) {
      throw new UserError(
        `--corpus ${spec}: unknown builtin corpus (${
          BUILTIN_CORPORA.map((n) => `builtin:${n}`).join(", ")
        })`,
      );
    }
    return await loadBuiltinCorpus(name as BuiltinCorpus);
  }
  const file = await readCorpusFile(spec);
  if (file.badBytes > 0) {
    console.error(
      `warning: ${spec}: ${file.badBytes} ill-formed UTF-8 sequence(s), the first on line ` +
        `${file.firstBadLine}; they are dropped`,
    );
  }
  return file.documents;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
