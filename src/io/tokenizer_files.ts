/**
 * A tokenizer.json built from the files older hub repositories carry instead of one: `vocab.txt`
 * (BERT WordPiece) or `vocab.json` + `merges.txt` (RoBERTa byte-level BPE), with the optional
 * `tokenizer_config.json`, `special_tokens_map.json` and `added_tokens.json`.
 *
 * The object built is the one Hugging Face `transformers` 4.x writes when it loads such a
 * repository: the slow tokenizer reads the files, `convert_slow_tokenizer` (BertConverter,
 * RobertaConverter) makes the fast tokenizer, and PreTrainedTokenizerFast's constructor applies
 * the config's options and adds the special tokens as added tokens (tokenizers' rule for their
 * ids). src/io/tokenizer.ts then runs it exactly like a tokenizer.json read from disk.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";

export type Json = Record<string, unknown>;
export type VocabFilesKind = "wordpiece" | "bpe";

/**
 * The optional files beside the vocabulary, parsed; `{}` / null when absent. As in transformers
 * 4.x, a config with `added_tokens_decoder` (saved by 4.34 and later) is the whole story:
 * special_tokens_map.json and added_tokens.json are then legacy files, not read.
 */
export interface VocabSettings {
  /** tokenizer_config.json */
  config: Json;
  /** special_tokens_map.json (overrides the config's special tokens, as transformers does) */
  specialTokensMap: Json;
  /** added_tokens.json: token → id */
  addedTokens: Json | null;
}

/** File names as they appear in error messages (a directory prefix included). */
export interface VocabFileNames {
  vocab: string;
  merges?: string;
  config: string;
  specialTokensMap: string;
  addedTokens: string;
}

export interface BuiltTokenizer {
  kind: VocabFilesKind;
  /** The tokenizer.json object. */
  json: Json;
  /** Every file read, in the order read. */
  files: string[];
  /** The vocabulary file, to name in error messages. */
  source: string;
}

/** Files whose presence the search reports (the sentencepiece ones only to say they were seen). */
const KNOWN_FILES = [
  "tokenizer.json",
  "vocab.txt",
  "vocab.json",
  "merges.txt",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "sentencepiece.bpe.model",
  "spiece.model",
  "config.json",
];

/** tokenizer_config.json's tokenizer_class values whose converter is BertConverter / RobertaConverter. */
const WORDPIECE_CLASSES = ["BertTokenizer", "DistilBertTokenizer", "ElectraTokenizer"];
const BPE_CLASSES = ["RobertaTokenizer"];
/** config.json model_type values, consulted only when both sets of files are present. */
const WORDPIECE_MODEL_TYPES = ["bert", "distilbert", "electra"];
const BPE_MODEL_TYPES = ["roberta"];

const NEEDED = "tokenizer.json, or vocab.txt (BERT WordPiece), or vocab.json + merges.txt " +
  "(RoBERTa byte-level BPE)";

/** Whether `dir` holds a tokenizer: tokenizer.json or a complete set of vocabulary files. */
export async function hasTokenizerFiles(dir: string): Promise<boolean> {
  const present = await presentFiles(dir);
  return present.has("tokenizer.json") || present.has("vocab.txt") ||
    (present.has("vocab.json") && present.has("merges.txt"));
}

/**
 * The tokenizer.json of `dir` built from its vocabulary files; a UserError naming what was found
 * and what is needed when no set is complete.
 */
export async function tokenizerFromVocabFiles(dir: string): Promise<BuiltTokenizer> {
  const present = await presentFiles(dir);
  const path = (name: string) => join(dir, name);
  const files: string[] = [];
  const readText = async (name: string): Promise<string> => {
    files.push(path(name));
    try {
      return await Deno.readTextFile(path(name));
    } catch (e) {
      throw new UserError(`${path(name)}: cannot read (${e instanceof Error ? e.message : e})`);
    }
  };
  const readObject = async (name: string): Promise<Json> =>
    present.has(name) ? parseJsonObject(await readText(name), path(name)) : {};

  const wordpiece = present.has("vocab.txt");
  const bpe = present.has("vocab.json") && present.has("merges.txt");
  if (!wordpiece && !bpe) {
    const found = KNOWN_FILES.filter((f) => present.has(f));
    throw new UserError(
      `${dir}: no tokenizer (found ${found.length > 0 ? found.join(", ") : "none of its files"}; ` +
        `need ${NEEDED})`,
    );
  }
  const config = await readObject("tokenizer_config.json");
  const kind = await chooseKind(dir, config, wordpiece, bpe, readObject);
  const legacy = !hasAddedTokensDecoder(config);
  const specialTokensMap = legacy ? await readObject("special_tokens_map.json") : {};
  const addedTokens = legacy && present.has("added_tokens.json")
    ? await readObject("added_tokens.json")
    : null;
  const settings: VocabSettings = { config, specialTokensMap, addedTokens };
  const names: VocabFileNames = {
    vocab: path(kind === "wordpiece" ? "vocab.txt" : "vocab.json"),
    merges: path("merges.txt"),
    config: path("tokenizer_config.json"),
    specialTokensMap: path("special_tokens_map.json"),
    addedTokens: path("added_tokens.json"),
  };
  const json = kind === "wordpiece"
    ? wordPieceTokenizerJson(await readText("vocab.txt"), settings, names)
    : byteLevelBpeTokenizerJson(
      await readText("vocab.json"),
      await readText("merges.txt"),
      settings,
      names,
    );
  return { kind, json, files, source: names.vocab };
}

async function presentFiles(dir: string): Promise<Set<string>> {
  const present = new Set<string>();
  for (const name of KNOWN_FILES) {
    const isFile = await Deno.stat(join(dir, name)).then((s) => s.isFile, () => false);
    if (isFile) present.add(name);
  }
  return present;
}

/** tokenizer_class decides (as AutoTokenizer); else the only complete set; else model_type. */
async function chooseKind(
  dir: string,
  config: Json,
  wordpiece: boolean,
  bpe: boolean,
  readObject: (name: string) => Promise<Json>,
): Promise<VocabFilesKind> {
  const cls = config.tokenizer_class;
  if (cls !== undefined && cls !== null) {
    const base = String(cls).replace(/Fast$/, "");
    const kind = WORDPIECE_CLASSES.includes(base)
      ? "wordpiece"
      : BPE_CLASSES.includes(base)
      ? "bpe"
      : null;
    if (kind === null) {
      const known = [...WORDPIECE_CLASSES, ...BPE_CLASSES].join(", ");
      throw new UserError(
        `${join(dir, "tokenizer_config.json")}: tokenizer_class ${JSON.stringify(cls)} cannot ` +
          `be built from vocabulary files (known: ${known}); save its tokenizer.json with ` +
          `AutoTokenizer.from_pretrained(...).save_pretrained(dir)`,
      );
    }
    if (kind === "wordpiece" && !wordpiece) {
      throw new UserError(`${dir}: tokenizer_class ${cls} needs vocab.txt, which is missing`);
    }
    if (kind === "bpe" && !bpe) {
      throw new UserError(
        `${dir}: tokenizer_class ${cls} needs vocab.json and merges.txt, ` +
          `found only ${wordpiece ? "vocab.txt" : "one of them"}`,
      );
    }
    return kind;
  }
  if (wordpiece !== bpe) return wordpiece ? "wordpiece" : "bpe";
  const modelConfig = await readObject("config.json");
  const type = modelConfig.model_type;
  if (typeof type === "string" && WORDPIECE_MODEL_TYPES.includes(type)) return "wordpiece";
  if (typeof type === "string" && BPE_MODEL_TYPES.includes(type)) return "bpe";
  throw new UserError(
    `${dir}: both vocab.txt and vocab.json + merges.txt are present and neither ` +
      `tokenizer_config.json's tokenizer_class nor config.json's model_type ` +
      `(${JSON.stringify(type ?? null)}) says which to use`,
  );
}

/** One entry of tokenizer.json's added_tokens, before its id is known. */
interface TokenSpec {
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

const SPECIAL_ATTRIBUTES = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;
type SpecialAttribute = typeof SPECIAL_ATTRIBUTES[number];

/** The slow tokenizers' defaults; RoBERTa's mask token takes the space before it (lstrip). */
const DEFAULT_SPECIALS: Record<VocabFilesKind, Partial<Record<SpecialAttribute, string>>> = {
  wordpiece: {
    unk_token: "[UNK]",
    sep_token: "[SEP]",
    pad_token: "[PAD]",
    cls_token: "[CLS]",
    mask_token: "[MASK]",
  },
  bpe: {
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    sep_token: "</s>",
    pad_token: "<pad>",
    cls_token: "<s>",
    mask_token: "<mask>",
  },
};

/**
 * BertConverter's tokenizer.json: BertNormalizer, BertPreTokenizer, WordPiece (`##`, 100
 * characters), `[CLS] $A [SEP]` / `… $B:1 [SEP]:1`, WordPiece decoder.
 */
export function wordPieceTokenizerJson(
  vocabText: string,
  settings: VocabSettings,
  names: VocabFileNames,
): Json {
  settings = effectiveSettings(settings);
  const vocab = parseVocabTxt(vocabText, names.vocab);
  const c = settings.config;
  const lowercase = optionalBoolean(c, "do_lower_case", names.config) ?? true;
  const chinese = optionalBoolean(c, "tokenize_chinese_chars", names.config) ?? true;
  const stripAccents = optionalBoolean(c, "strip_accents", names.config) ?? null;
  const specials = resolveSpecials("wordpiece", settings, names);
  const unk = specials.get("unk_token")!.content;
  if (!vocab.has(unk)) {
    throw new UserError(
      `${names.vocab}: the unknown token ${unk} (unk_token) is not in the vocabulary; ` +
        `WordPiece needs it`,
    );
  }
  const added = addedTokens(vocab, specials, settings, names);
  const idOf = tokenIds(vocab, added);
  const cls = specials.get("cls_token")!.content, sep = specials.get("sep_token")!.content;
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const specialTokens: Json = {};
  for (const t of [cls, sep]) specialTokens[t] = { id: t, ids: [idOf(t)], tokens: [t] };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: chinese,
      strip_accents: stripAccents,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [special(cls, 0), sequence("A", 0), special(sep, 0)],
      pair: [
        special(cls, 0),
        sequence("A", 0),
        special(sep, 0),
        sequence("B", 1),
        special(sep, 1),
      ],
      special_tokens: specialTokens,
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/**
 * RobertaConverter's tokenizer.json: no normalizer, ByteLevel pre-tokenizer, BPE without an
 * unknown token, RobertaProcessing `<s> $A </s>` / `… </s></s> $B </s>`, ByteLevel decoder.
 */
export function byteLevelBpeTokenizerJson(
  vocabText: string,
  mergesText: string,
  settings: VocabSettings,
  names: VocabFileNames,
): Json {
  settings = effectiveSettings(settings);
  const vocab = parseVocabJson(vocabText, names.vocab);
  const merges = parseMerges(mergesText, vocab, names.merges ?? "merges.txt", names.vocab);
  const c = settings.config;
  const addPrefixSpace = optionalBoolean(c, "add_prefix_space", names.config) ?? false;
  const trimOffsets = optionalBoolean(c, "trim_offsets", names.config) ?? true;
  const specials = resolveSpecials("bpe", settings, names);
  const added = addedTokens(vocab, specials, settings, names);
  const idOf = tokenIds(vocab, added);
  const cls = specials.get("cls_token")!.content, sep = specials.get("sep_token")!.content;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: addPrefixSpace,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: [sep, idOf(sep)],
      cls: [cls, idOf(cls)],
      trim_offsets: trimOffsets,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Any Unicode White_Space character (what BertPreTokenizer splits on). */
const WHITESPACE = /[\s\u0085]/u;

/**
 * vocab.txt as BertTokenizer's load_vocab reads it: one token per line (universal newlines), id =
 * line index; a repeated token keeps its last line. A token with whitespace in it could never be
 * produced, so it means a file of another format: an error naming the line.
 */
export function parseVocabTxt(text: string, file: string): Map<string, number> {
  const lines = universalNewlines(text).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new UserError(`${file}: empty vocabulary`);
  const vocab = new Map<string, number>();
  lines.forEach((token, i) => {
    if (WHITESPACE.test(token)) {
      throw new UserError(
        `${file}:${i + 1}: token ${JSON.stringify(token)} contains whitespace ` +
          `(vocab.txt holds one token per line and nothing else)`,
      );
    }
    vocab.set(token, i);
  });
  return vocab;
}

/** vocab.json: an object token → non-negative integer id. */
export function parseVocabJson(text: string, file: string): Map<string, number> {
  const json = parseJson(text, file);
  if (!isObject(json)) {
    throw new UserError(`${file}: expected a JSON object token → id, got ${jsonKind(json)}`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new UserError(
        `${file}: the id of ${JSON.stringify(token)} is ${JSON.stringify(id)}, ` +
          `not a non-negative integer`,
      );
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new UserError(`${file}: empty vocabulary`);
  return vocab;
}

/** Python's str.split() separators (\x1c-\x1f among them): the merges file is read with it. */
const PY_WHITESPACE =
  // deno-lint-ignore no-control-regex
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/**
 * merges.txt as the slow GPT-2/RoBERTa tokenizer reads it: `read().split("\n")[1:-1]`, so the
 * first line (`#version: …`) and the last element are skipped (the empty string after the final
 * newline; a last line without a newline is dropped, as there); each line is two tokens split on
 * whitespace; a repeated merge keeps its first rank. tokenizers then requires both tokens and
 * their concatenation in the vocabulary.
 */
export function parseMerges(
  text: string,
  vocab: Map<string, number>,
  file: string,
  vocabFile: string,
): [string, string][] {
  const lines = universalNewlines(text).split("\n");
  if (!lines[0].startsWith("#version")) {
    throw new UserError(
      `${file}:1: expected the "#version: …" header line (the first line is skipped as a ` +
        `header), got ${JSON.stringify(lines[0])}`,
    );
  }
  const merges: [string, string][] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i];
    const parts = line.split(PY_WHITESPACE).filter((p) => p.length > 0);
    if (parts.length !== 2) {
      throw new UserError(
        `${file}:${i + 1}: expected two tokens separated by a space, got ${JSON.stringify(line)}`,
      );
    }
    const [a, b] = parts;
    for (const t of [a, b, a + b]) {
      if (!vocab.has(t)) {
        throw new UserError(
          `${file}:${i + 1}: ${JSON.stringify(t)}${
            t === a + b ? ` (the merge of ${a} and ${b})` : ""
          } ` +
            `is not in ${vocabFile}`,
        );
      }
    }
    const key = `${a} ${b}`;
    if (seen.has(key)) continue;
    seen.add(key);
    merges.push([a, b]);
  }
  return merges;
}

/** Whether the config carries added_tokens_decoder (then the legacy files are not read). */
function hasAddedTokensDecoder(config: Json): boolean {
  return config.added_tokens_decoder !== undefined && config.added_tokens_decoder !== null;
}

/** The settings transformers reads: the legacy files dropped when the config has a decoder. */
function effectiveSettings(settings: VocabSettings): VocabSettings {
  return hasAddedTokensDecoder(settings.config)
    ? { config: settings.config, specialTokensMap: {}, addedTokens: null }
    : settings;
}

/**
 * Each special token: special_tokens_map.json over tokenizer_config.json over the slow
 * tokenizer's default; a string takes the class's flags, an AddedToken object its own.
 */
function resolveSpecials(
  kind: VocabFilesKind,
  settings: VocabSettings,
  names: VocabFileNames,
): Map<SpecialAttribute, TokenSpec> {
  const out = new Map<SpecialAttribute, TokenSpec>();
  for (const attr of SPECIAL_ATTRIBUTES) {
    const fromMap = settings.specialTokensMap[attr];
    const fromConfig = settings.config[attr];
    const [value, file, isMap] = fromMap !== undefined && fromMap !== null
      ? [fromMap, names.specialTokensMap, true]
      : fromConfig !== undefined && fromConfig !== null
      ? [fromConfig, names.config, false]
      : [DEFAULT_SPECIALS[kind][attr], "", false];
    if (value === undefined) continue;
    const stringFlags = kind === "bpe" && attr === "mask_token" ? { lstrip: true } : {};
    out.set(attr, { ...tokenSpec(value, `${file}: ${attr}`, isMap, stringFlags), special: true });
  }
  return out;
}

/** A special token given as a string or as an AddedToken object ({"content": …, flags}). */
function tokenSpec(
  value: unknown,
  where: string,
  specialByDefault: boolean,
  stringFlags: Partial<TokenSpec> = {},
): TokenSpec {
  if (typeof value === "string") {
    return {
      content: value,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
      ...stringFlags,
    };
  }
  if (!isObject(value) || typeof value.content !== "string") {
    throw new UserError(`${where} is neither a string nor an object with a string "content"`);
  }
  const flag = (key: string, dflt: boolean): boolean => {
    const v = value[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "boolean") throw new UserError(`${where}.${key} is not true or false`);
    return v;
  };
  // tokenizers' AddedToken: normalized defaults to the opposite of special.
  const special = flag("special", specialByDefault);
  return {
    content: value.content,
    single_word: flag("single_word", false),
    lstrip: flag("lstrip", false),
    rstrip: flag("rstrip", false),
    normalized: flag("normalized", !special),
    special,
  };
}

/**
 * tokenizer.json's added_tokens as PreTrainedTokenizerFast's constructor makes them: the
 * config's added_tokens_decoder (else added_tokens.json) by id, then every special token not yet
 * added; a token in the vocabulary keeps its id, any other gets the next id after the vocabulary
 * (tokenizers' AddedVocabulary rule). Sorted by id, as tokenizers writes them.
 */
function addedTokens(
  vocab: Map<string, number>,
  specials: Map<SpecialAttribute, TokenSpec>,
  settings: VocabSettings,
  names: VocabFileNames,
): Json[] {
  // The config's additional special tokens, then the map's that are not among them.
  const additional: TokenSpec[] = [];
  for (
    const [source, file, isMap] of [
      [settings.config, names.config, false],
      [settings.specialTokensMap, names.specialTokensMap, true],
    ] as const
  ) {
    const list = source.additional_special_tokens ?? [];
    if (!Array.isArray(list)) {
      throw new UserError(`${file}: additional_special_tokens is not a list`);
    }
    list.forEach((v, i) => {
      const spec = tokenSpec(v, `${file}: additional_special_tokens[${i}]`, isMap);
      if (!additional.some((a) => a.content === spec.content)) {
        additional.push({ ...spec, special: true });
      }
    });
  }
  const allSpecials = [...specials.values(), ...additional];
  const specialContents = new Set(allSpecials.map((s) => s.content));

  const listed: TokenSpec[] = [];
  const decoder = settings.config.added_tokens_decoder;
  if (hasAddedTokensDecoder(settings.config)) {
    if (!isObject(decoder)) {
      throw new UserError(`${names.config}: added_tokens_decoder is not an object id → token`);
    }
    const entries = Object.entries(decoder).map(([id, v]) => {
      if (!/^\d+$/.test(id)) {
        throw new UserError(`${names.config}: added_tokens_decoder key ${id} is not an id`);
      }
      return [
        Number(id),
        tokenSpec(v, `${names.config}: added_tokens_decoder.${id}`, false),
      ] as const;
    });
    entries.sort((a, b) => a[0] - b[0]);
    for (const [, spec] of entries) listed.push(spec);
  } else if (settings.addedTokens !== null) {
    const entries = Object.entries(settings.addedTokens).map(([content, id]) => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
        throw new UserError(
          `${names.addedTokens}: the id of ${JSON.stringify(content)} is ${JSON.stringify(id)}`,
        );
      }
      return [id, content] as const;
    });
    entries.sort((a, b) => a[0] - b[0]);
    for (const [, content] of entries) {
      const special = specialContents.has(content);
      listed.push({
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: !special,
        special,
      });
    }
  }

  const added = new Map<string, Json>();
  let maxId = -1;
  for (const spec of [...listed, ...allSpecials]) {
    // tokenizers ignores an empty token.
    if (spec.content === "" || added.has(spec.content)) continue;
    const id = vocab.get(spec.content) ??
      (added.size > 0 && maxId >= vocab.size ? maxId + 1 : vocab.size);
    maxId = Math.max(maxId, id);
    const special = spec.special || specialContents.has(spec.content);
    added.set(spec.content, { id, ...spec, special });
  }
  return [...added.values()].sort((a, b) => (a.id as number) - (b.id as number));
}

function tokenIds(vocab: Map<string, number>, added: Json[]): (t: string) => number {
  const byContent = new Map(added.map((t) => [t.content as string, t.id as number]));
  return (t) => byContent.get(t) ?? vocab.get(t)!;
}

function optionalBoolean(c: Json, key: string, file: string): boolean | undefined {
  const v = c[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") {
    throw new UserError(`${file}: ${key} is ${JSON.stringify(v)}, not true or false`);
  }
  return v;
}

function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new UserError(`${file}: malformed JSON (${e instanceof Error ? e.message : e})`);
  }
}

function parseJsonObject(text: string, file: string): Json {
  const json = parseJson(text, file);
  if (!isObject(json)) {
    throw new UserError(`${file}: expected a JSON object, got ${jsonKind(json)}`);
  }
  return json;
}

function jsonKind(v: unknown): string {
  return Array.isArray(v) ? "a list" : v === null ? "null" : `a ${typeof v}`;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
