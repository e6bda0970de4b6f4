/**
 * What an option accepts: a zod schema, the words for it, and how a flag's text becomes a value.
 * Each check reads a value two ways with the same schema: from a config layer (a YAML value, or
 * the command line through `flagValue`), and from a single flag of a command without config
 * files (`readFlag`, whose errors read "--batch must be a positive integer, got '-2'").
 */
import { z } from "zod";
import { UserError } from "../errors.ts";

/**
 * How a flag's text becomes a value: kept, several kept (a repeatable flag), a number, a comma list
 * of numbers, or a number or a word.
 */
export type FlagKind = "string" | "strings" | "boolean" | "number" | "numbers" | "number-or-word";

export interface Check<S extends z.ZodType> {
  schema: S;
  /** What the value must be, for config-layer messages: "an integer >= 1". */
  expects: string;
  /** The same for single-flag messages, where it differs: "a positive integer". */
  flagExpects?: string;
  flag: FlagKind;
}

export function text(): Check<z.ZodString> {
  return { schema: z.string().min(1), expects: "a non-empty string", flag: "string" };
}

export function bool(): Check<z.ZodBoolean> {
  return { schema: z.boolean(), expects: "true or false", flag: "boolean" };
}

export function int(min: number, max?: number): Check<z.ZodInt> {
  const schema = max === undefined ? z.int().min(min) : z.int().min(min).max(max);
  const expects = max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
  return {
    schema,
    expects,
    flag: "number",
    flagExpects: min === 1 ? "a positive integer" : expects,
  };
}

/** A finite number in an interval; `(` / `)` mark open ends, as in "(0, 1]". */
export function real(lo: number, loOpen: boolean, hi?: number, hiOpen = false): Check<z.ZodNumber> {
  let schema = loOpen ? z.number().gt(lo) : z.number().gte(lo);
  if (hi !== undefined) schema = hiOpen ? schema.lt(hi) : schema.lte(hi);
  const expects = hi === undefined
    ? `a number ${loOpen ? ">" : ">="} ${lo}`
    : `a number in ${loOpen ? "(" : "["}${lo}, ${hi}${hiOpen ? ")" : "]"}`;
  return { schema, expects, flag: "number" };
}

export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): Check<z.ZodEnum<{ [K in T[number]]: K }>> {
  return { schema: z.enum(values), expects: `one of ${values.join(", ")}`, flag: "string" };
}

export function betas(): Check<z.ZodTuple<[z.ZodNumber, z.ZodNumber], null>> {
  const beta = z.number().gte(0).lt(1);
  return {
    schema: z.tuple([beta, beta]),
    expects: "two numbers in [0, 1), e.g. 0.9,0.98",
    flag: "numbers",
  };
}

/** One or more file names (a flag given several times, or followed by more names). */
export function strings(): Check<z.ZodArray<z.ZodString>> {
  return {
    schema: z.array(z.string().min(1)).min(1),
    expects: "one or more names",
    flag: "strings",
  };
}

/** `I/N`: shard I of N, 1 <= I <= N (`score --shard`); parseShard reads the checked text. */
export function shard(): Check<z.ZodString> {
  const schema = z.string().refine((s) => {
    const m = /^(\d+)\/(\d+)$/.exec(s.trim());
    return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= Number(m[2]);
  });
  return { schema, expects: "I/N with 1 <= I <= N, e.g. 3/8", flag: "string" };
}

/** The shard of a text checked by `shard()`: index 0 .. count - 1. */
export function parseShard(s: string): { index: number; count: number } {
  const [i, n] = s.trim().split("/").map(Number);
  return { index: i - 1, count: n };
}

/** `word` or an integer >= `min` (e.g. eval_every: 'epoch' or steps; limit_alphabet: 'none'). */
export function intOrWord<const W extends string>(
  word: W,
  min: number,
  expects: string,
): Check<z.ZodUnion<[z.ZodLiteral<W>, z.ZodInt]>> {
  return {
    schema: z.union([z.literal(word), z.int().min(min)]),
    expects,
    flag: "number-or-word",
  };
}

/** A flag's text as a number when it reads as one; otherwise the text, for the check to reject. */
function flagNumber(s: string): number | string {
  const n = Number(s);
  return s.trim() !== "" && Number.isFinite(n) ? n : s;
}

/** A string flag's text as the value its check reads (numbers, lists, number-or-word). */
export function flagValue(kind: FlagKind, s: string): unknown {
  if (kind === "number") return flagNumber(s);
  if (kind === "numbers") return s.split(",").map((part) => flagNumber(part.trim()));
  if (kind === "number-or-word") return /^\s*[-+]?[\d.]/.test(s) ? flagNumber(s) : s;
  return s;
}

/** One flag's text checked on its own: the value, or a UserError naming the flag. */
export function readFlag<S extends z.ZodType>(
  check: Check<S>,
  s: string,
  flag: string,
): z.output<S> {
  const parsed = check.schema.safeParse(flagValue(check.flag, s));
  if (parsed.success) return parsed.data;
  const words = check.flagExpects ?? check.expects;
  throw new UserError(
    words.startsWith("one of")
      ? `${flag} must be ${words}; got '${s}'`
      : `${flag} must be ${words}, got '${s}'`,
  );
}
