/**
 * A checkpoint's tokenizer: Hugging Face `tokenizer.json` run by @huggingface/tokenizers (the
 * engine of transformers.js), with what that library does not give: word indices as Hugging
 * Face's `word_ids()` (SPEC §2), truncation that keeps the closing special token, pairs, and the
 * special ids l3mask needs.
 *
 * Words are the pre-tokenizer's units. The library exposes its normalizer, pre-tokenizer and
 * model, so a text is encoded here stage by stage, one pre-token (word) at a time, exactly as the
 * library's own encode() does; every encoding is checked against that whole-text encode(), so a
 * drift between the two is a loud error, never silently wrong word indices.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { UserError } from "../errors.ts";
import { tokenizerFromVocabFiles } from "./tokenizer_files.ts";

export type TokenizerKind = "wordpiece" | "bpe";

export interface EncodeOptions {
  /** Tokens in all, special tokens included (default 128). */
  maxLength?: number;
  /** A second text (sentence pairs): `[CLS] A [SEP] B [SEP]` / `<s> A </s></s> B </s>`. */
  pair?: string | null;
}

export interface Encoded {
  ids: number[];
  tokens: string[];
  /**
   * Word index of each token (Hugging Face `word_ids()`): null for the special tokens the
   * post-processor adds; words of a pair's second text count from 0 again.
   */
  words: (number | null)[];
  /**
   * True for the tokens the post-processor adds ([CLS]/[SEP], <s>/</s>) and for in-text
   * occurrences of a special token ([UNK] included): positions never scored nor masked.
   */
  special: boolean[];
  /** 0 (first text), 1 (pair text) or null (added special token): `sequence_ids()`. */
  sequence: (0 | 1 | null)[];
  /** Token-type ids as the post-processor assigns them (BERT pairs: 1 on the second text). */
  typeIds: number[];
}

export interface SpecialIds {
  /** [CLS] / <s> (also the BOS). */
  cls: number;
  /** [SEP] / </s> (also the EOS). */
  sep: number;
  pad: number;
  mask: number;
  unk: number;
}

/** One item of a post-processing template: special tokens or a sequence. */
type TemplateItem =
  | { kind: "special"; tokens: string[]; ids: number[]; typeId: number }
  | { kind: "sequence"; seq: 0 | 1; typeId: number };

interface Template {
  single: TemplateItem[];
  pair: TemplateItem[];
}

interface Piece {
  tokens: string[];
  words: number[];
}

/** The parts of the library's Tokenizer that encode_text() uses and that its types keep private. */
interface TokenizerInternals {
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  added_tokens_map: Map<string, { id: number; lstrip: boolean; rstrip: boolean }>;
}

type Json = Record<string, unknown>;

const CANDIDATES = {
  cls: ["[CLS]", "<s>"],
  sep: ["[SEP]", "</s>"],
  pad: ["[PAD]", "<pad>"],
  mask: ["[MASK]", "<mask>"],
  unk: ["[UNK]", "<unk>"],
};

export class L3Tokenizer {
  readonly kind: TokenizerKind;
  /**
   * Rows the embedding needs: the largest id + 1 (added tokens, the post-processor's special
   * ids and the padding id included).
   */
  readonly vocabSize: number;
  /** The largest id this tokenizer can emit, and its token (for error messages). */
  readonly largestId: { id: number; token: string };
  readonly specialIds: SpecialIds;
  /** The files this tokenizer was read from: tokenizer.json, or the vocabulary files it was built from. */
  readonly files: readonly string[];
  /**
   * The tokenizer.json this tokenizer runs, as bytes: the file's own, or the JSON built from the
   * vocabulary files (src/io/tokenizer_files.ts). What a saved checkpoint's tokenizer.json holds.
   */
  readonly jsonBytes: Uint8Array;
  private readonly tok: Tokenizer;
  private readonly internals: TokenizerInternals;
  private readonly template: Template;
  private readonly specialSet: Set<number>;
  private readonly fuseUnk: boolean;

  /**
   * `source` names the file in error messages; `from` says where the JSON came from (default:
   * the file `source`; the JSON's bytes as JSON.stringify writes them).
   */
  constructor(
    json: unknown,
    readonly source: string,
    from: { files?: readonly string[]; bytes?: Uint8Array } = {},
  ) {
    this.files = from.files ?? [source];
    this.jsonBytes = from.bytes ?? new TextEncoder().encode(JSON.stringify(json));
    if (!isObject(json)) {
      throw new UserError(`${source}: not a tokenizer.json (expected a JSON object)`);
    }
    const model = json.model;
    if (!isObject(model)) throw new UserError(`${source}: no "model" object`);
    if (model.type === "WordPiece") this.kind = "wordpiece";
    else if (model.type === "BPE") this.kind = "bpe";
    else {
      throw new UserError(
        `${source}: tokenizer model type ${
          JSON.stringify(model.type)
        } is not supported (WordPiece or BPE)`,
      );
    }
    if (!isObject(model.vocab)) throw new UserError(`${source}: model.vocab is not an object`);
    if (this.kind === "bpe" && !Array.isArray(model.merges)) {
      throw new UserError(`${source}: model.merges is not a list`);
    }
    if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) {
      throw new UserError(`${source}: added_tokens is not a list`);
    }
    // The library insists on these keys; a hand-written file may leave them out.
    const full: Json = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...json,
    };
    full.added_tokens ??= [];
    try {
      // The second argument is tokenizer_config.json; BERT/RoBERTa need nothing from it.
      this.tok = new Tokenizer(full, {});
    } catch (e) {
      throw new UserError(`${source}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.internals = this.tok as unknown as TokenizerInternals;
    if (
      typeof this.internals.splitter_unnormalized?.split !== "function" ||
      typeof this.internals.splitter_normalized?.split !== "function" ||
      !(this.internals.added_tokens_map instanceof Map)
    ) {
      throw new Error(
        "@huggingface/tokenizers changed its internals: src/io/tokenizer.ts needs updating",
      );
    }
    this.fuseUnk = this.tok.model?.fuse_unk ?? false;
    this.template = parseTemplate(full.post_processor, (t) => this.tokenToId(t), source);

    const byName = (names: string[]) =>
      names.map((n) => this.tokenToId(n)).find((id) => id !== undefined);
    const singleSpecials = this.template.single.filter((i) => i.kind === "special") as Extract<
      TemplateItem,
      { kind: "special" }
    >[];
    const first = singleSpecials.length > 0 && this.template.single[0].kind === "special"
      ? singleSpecials[0].ids[0]
      : undefined;
    const lastItem = this.template.single[this.template.single.length - 1];
    const last = lastItem?.kind === "special" ? lastItem.ids[lastItem.ids.length - 1] : undefined;
    const padding = json.padding;
    const padId = isObject(padding) && typeof padding.pad_id === "number"
      ? padding.pad_id
      : undefined;
    const unkName = typeof model.unk_token === "string" ? [model.unk_token] : [];
    const found = {
      cls: first ?? byName(CANDIDATES.cls),
      sep: last ?? byName(CANDIDATES.sep),
      pad: padId ?? byName(CANDIDATES.pad),
      mask: byName(CANDIDATES.mask),
      unk: byName([...unkName, ...CANDIDATES.unk]),
    };
    for (const [role, id] of Object.entries(found)) {
      if (id === undefined) {
        const names = CANDIDATES[role as keyof typeof CANDIDATES].join(" or ");
        throw new UserError(`${source}: no ${role} token (${names}) in the vocabulary`);
      }
    }
    this.specialIds = found as SpecialIds;

    // The library's vocabulary holds the model's tokens and the added tokens, by id.
    const vocab = this.tok.model!.vocab;
    let largest = { id: vocab.length - 1, token: String(vocab[vocab.length - 1]) };
    const consider = (id: number, token: string) => {
      if (id > largest.id) largest = { id, token };
    };
    for (const item of [...this.template.single, ...this.template.pair]) {
      if (item.kind === "special") item.ids.forEach((id, j) => consider(id, item.tokens[j]));
    }
    consider(this.specialIds.pad, "the padding token");
    this.largestId = largest;
    this.vocabSize = largest.id + 1;

    this.specialSet = new Set(Object.values(this.specialIds));
    for (const [id, t] of this.tok.get_added_tokens_decoder()) {
      if (t.special) this.specialSet.add(id);
    }
  }

  /** Special tokens the post-processor adds to a single text (2 for BERT and RoBERTa). */
  get addedSingle(): number {
    return countSpecials(this.template.single);
  }

  encode(text: string, opts: EncodeOptions = {}): Encoded {
    const maxLength = opts.maxLength ?? 128;
    const pair = opts.pair ?? null;
    const template = pair === null ? this.template.single : this.template.pair;
    const added = countSpecials(template);
    if (!Number.isInteger(maxLength) || maxLength < added + 1) {
      throw new UserError(
        `max length ${maxLength} leaves no room for text next to ${added} special tokens`,
      );
    }
    const a = this.pieces(text);
    const b = pair === null ? null : this.pieces(pair);
    const [n1, n2] = truncatedLengths(a.tokens.length, b?.tokens.length ?? null, maxLength - added);

    const out: Encoded = { ids: [], tokens: [], words: [], special: [], sequence: [], typeIds: [] };
    for (const item of template) {
      if (item.kind === "special") {
        item.tokens.forEach((t, j) => {
          out.ids.push(item.ids[j]);
          out.tokens.push(t);
          out.words.push(null);
          out.special.push(true);
          out.sequence.push(null);
          out.typeIds.push(item.typeId);
        });
        continue;
      }
      const src = item.seq === 0 ? a : b!;
      const n = item.seq === 0 ? n1 : n2;
      for (let i = 0; i < n; i++) {
        const id = this.idOf(src.tokens[i]);
        out.ids.push(id);
        out.tokens.push(src.tokens[i]);
        out.words.push(src.words[i]);
        out.special.push(this.specialSet.has(id));
        out.sequence.push(item.seq);
        out.typeIds.push(item.typeId);
      }
    }
    return out;
  }

  /** Token strings → ids; the text's pre-tokens (words) one at a time, checked whole. */
  private pieces(text: string): Piece {
    const { splitter_unnormalized, splitter_normalized, added_tokens_map } = this.internals;
    const tokens: string[] = [];
    const words: number[] = [];
    let word = 0;
    const push = (ts: string[]) => {
      for (const t of ts) {
        tokens.push(t);
        words.push(word);
      }
      word++;
    };
    // As the library's encode_text(): split out added tokens (before and after normalizing),
    // honouring their lstrip/rstrip, then normalize, pre-tokenize and run the model.
    const stripAround = (parts: string[]) => {
      parts.forEach((part, i) => {
        const t = added_tokens_map.get(part);
        if (!t) return;
        if (t.lstrip && i > 0) parts[i - 1] = parts[i - 1].trimEnd();
        if (t.rstrip && i < parts.length - 1) parts[i + 1] = parts[i + 1].trimStart();
      });
    };
    const sections = splitter_unnormalized.split(text);
    stripAround(sections);
    sections.forEach((section, sectionIndex) => {
      if (section.length === 0) return;
      if (added_tokens_map.has(section)) return push([section]);
      const normalized = this.tok.normalizer ? this.tok.normalizer(section) : section;
      if (normalized.length === 0) return;
      const subsections = splitter_normalized.split(normalized);
      stripAround(subsections);
      for (const sub of subsections) {
        if (sub.length === 0) continue;
        if (added_tokens_map.has(sub)) {
          push([sub]);
          continue;
        }
        const preTokens = this.tok.pre_tokenizer
          ? this.tok.pre_tokenizer(sub, { section_index: sectionIndex })
          : [sub];
        for (const pre of preTokens) if (pre.length > 0) push(this.tok.model!([pre]));
      }
    });
    // fuse_unk merges unknown tokens across words in the library's whole-text call only.
    if (!this.fuseUnk) {
      const whole = this.tok.tokenize(text, { add_special_tokens: false });
      if (whole.length !== tokens.length || whole.some((t, i) => t !== tokens[i])) {
        throw new Error(
          `${this.source}: word-by-word tokens [${tokens.join(" ")}] differ from the library's ` +
            `[${whole.join(" ")}] for ${JSON.stringify(text)}`,
        );
      }
    }
    return { tokens, words };
  }

  private idOf(token: string): number {
    return this.tokenToId(token) ?? this.specialIds.unk;
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** The token string of an id; throws on an id outside the vocabulary. */
  idToToken(id: number): string {
    const t = this.tok.id_to_token(id);
    if (t === undefined) {
      throw new Error(`token id ${id} is outside the vocabulary of ${this.source}`);
    }
    return t;
  }

  /** A special token: one the post-processor adds, [PAD], [MASK], [UNK] or any special added token. */
  isSpecial(id: number): boolean {
    return this.specialSet.has(id);
  }

  decode(ids: number[], opts: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecial ?? false });
  }
}

/**
 * Loads `<dir>/tokenizer.json`, or the file itself when given one. A directory without
 * tokenizer.json gets the tokenizer built from its vocabulary files (vocab.txt, or vocab.json +
 * merges.txt, with tokenizer_config.json …) as Hugging Face builds it.
 */
export async function loadTokenizer(path: string): Promise<L3Tokenizer> {
  let file = path;
  try {
    if ((await Deno.stat(path)).isDirectory) {
      const dir = path.replace(/\/+$/, "");
      file = `${dir}/tokenizer.json`;
      const found = await Deno.stat(file).then((st) => st.isFile, () => false);
      if (!found) return await tokenizerFromFiles(dir);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${file}: tokenizer file not found`);
    throw new UserError(
      `${file}: cannot read the tokenizer (${e instanceof Error ? e.message : e})`,
    );
  }
  return parseTokenizer(new TextDecoder().decode(bytes), file, bytes);
}

async function tokenizerFromFiles(dir: string): Promise<L3Tokenizer> {
  const built = await tokenizerFromVocabFiles(dir);
  return new L3Tokenizer(built.json, built.source, { files: built.files });
}

/**
 * A tokenizer from the text of a tokenizer.json; `source` names it in errors, `bytes` are the
 * file's when the text was read from one.
 */
export function parseTokenizer(text: string, source: string, bytes?: Uint8Array): L3Tokenizer {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new UserError(`${source}: malformed JSON (${e instanceof Error ? e.message : e})`);
  }
  return new L3Tokenizer(json, source, { bytes: bytes ?? new TextEncoder().encode(text) });
}

/**
 * Hugging Face's truncation (`longest_first`, right side) to `max` content tokens: a single text
 * keeps its first `max`; a pair shortens the longer text first, then both evenly.
 */
export function truncatedLengths(n1: number, n2: number | null, max: number): [number, number] {
  if (n2 === null) return [Math.min(n1, max), 0];
  if (n1 + n2 <= max) return [n1, n2];
  const swap = n1 > n2;
  let [short, long] = swap ? [n2, n1] : [n1, n2];
  long = short > max ? short : Math.max(short, max - short);
  if (short + long > max) {
    short = Math.floor(max / 2);
    long = short + (max % 2);
  }
  return swap ? [long, short] : [short, long];
}

function countSpecials(items: TemplateItem[]): number {
  return items.reduce((n, i) => n + (i.kind === "special" ? i.ids.length : 0), 0);
}

/** The post-processor's single and pair templates (which special tokens go where). */
function parseTemplate(
  pp: unknown,
  idOf: (t: string) => number | undefined,
  source: string,
): Template {
  const none: Template = { single: [{ kind: "sequence", seq: 0, typeId: 0 }], pair: [] };
  none.pair = [...none.single, { kind: "sequence", seq: 1, typeId: 1 }];
  if (pp === null || pp === undefined) return none;
  if (!isObject(pp)) throw new UserError(`${source}: post_processor is not an object`);
  const special = (token: string, typeId: number): TemplateItem => {
    const id = idOf(token);
    if (id === undefined) {
      throw new UserError(`${source}: post_processor's token ${token} is not in the vocabulary`);
    }
    return { kind: "special", tokens: [token], ids: [id], typeId };
  };
  const pairOf = (v: unknown, what: string): string => {
    if (!Array.isArray(v) || typeof v[0] !== "string") {
      throw new UserError(`${source}: post_processor.${what} is not a [token, id] pair`);
    }
    return v[0];
  };
  switch (pp.type) {
    case "RobertaProcessing": {
      const cls = pairOf(pp.cls, "cls"), sep = pairOf(pp.sep, "sep");
      const a: TemplateItem = { kind: "sequence", seq: 0, typeId: 0 };
      const b: TemplateItem = { kind: "sequence", seq: 1, typeId: 0 };
      return {
        single: [special(cls, 0), a, special(sep, 0)],
        pair: [special(cls, 0), a, special(sep, 0), special(sep, 0), b, special(sep, 0)],
      };
    }
    case "BertProcessing": {
      const cls = pairOf(pp.cls, "cls"), sep = pairOf(pp.sep, "sep");
      return {
        single: [special(cls, 0), { kind: "sequence", seq: 0, typeId: 0 }, special(sep, 0)],
        pair: [
          special(cls, 0),
          { kind: "sequence", seq: 0, typeId: 0 },
          special(sep, 0),
          { kind: "sequence", seq: 1, typeId: 1 },
          special(sep, 1),
        ],
      };
    }
    case "TemplateProcessing": {
      const specials = isObject(pp.special_tokens) ? pp.special_tokens : {};
      const items = (list: unknown, what: string): TemplateItem[] => {
        if (!Array.isArray(list)) {
          throw new UserError(`${source}: post_processor.${what} is not a list`);
        }
        return list.map((item): TemplateItem => {
          if (isObject(item) && isObject(item.SpecialToken)) {
            const name = String(item.SpecialToken.id);
            const typeId = Number(item.SpecialToken.type_id ?? 0);
            const entry = specials[name];
            if (isObject(entry) && Array.isArray(entry.ids) && Array.isArray(entry.tokens)) {
              return {
                kind: "special",
                tokens: entry.tokens.map(String),
                ids: entry.ids.map(Number),
                typeId,
              };
            }
            return special(name, typeId);
          }
          if (isObject(item) && isObject(item.Sequence)) {
            const id = item.Sequence.id;
            if (id !== "A" && id !== "B") {
              throw new UserError(`${source}: post_processor.${what}: sequence ${id}`);
            }
            return {
              kind: "sequence",
              seq: id === "A" ? 0 : 1,
              typeId: Number(item.Sequence.type_id ?? 0),
            };
          }
          throw new UserError(
            `${source}: post_processor.${what} has an item that is neither SpecialToken nor Sequence`,
          );
        });
      };
      return { single: items(pp.single, "single"), pair: items(pp.pair, "pair") };
    }
    case "Sequence": {
      // e.g. ByteLevel (offsets only) followed by a template: the one that adds tokens decides.
      const procs = Array.isArray(pp.processors) ? pp.processors : [];
      let result = none;
      for (const p of procs) {
        if (isObject(p) && p.type !== "ByteLevel") result = parseTemplate(p, idOf, source);
      }
      return result;
    }
    case "ByteLevel":
      return none;
    default:
      throw new UserError(
        `${source}: post_processor type ${JSON.stringify(pp.type)} is not supported`,
      );
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
