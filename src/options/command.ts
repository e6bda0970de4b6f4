/**
 * A command's options: a subset of the table (src/options/table.ts), in the command's order (=
 * help order = YAML order). From it come the zod schema, the parseArgs flags, the layered
 * resolution (defaults < config file < flags, every error naming the layer, key, value and what
 * the key takes), single-layer flag reading for commands without config files, the YAML of a
 * resolved configuration and the help text. The same key behaves the same in every command.
 */
import { stringify } from "yaml";
import { z } from "zod";
import { UserError } from "../errors.ts";
import { closestName } from "../util/names.ts";
import type { Options as ParseOptions } from "./args.ts";
import { flagValue, readFlag } from "./checks.ts";
import { keyLineOf } from "./config_file.ts";
import { ALIASES, option, type OptionKey, optionName, type Options } from "./table.ts";

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}`
  : S;
type NameOf<K extends string> = K extends `${infer N}@${string}` ? N : K;
/** The zod shape of keys K: camelCase names → the table's schemas (defaults applied). */
export type ShapeOf<K extends OptionKey> = {
  [k in K as Camel<NameOf<k>>]: Options[k]["schema"];
};
/** The resolved values of keys K. */
export type ValuesOf<K extends OptionKey> = z.output<z.ZodObject<ShapeOf<K>>>;

export const camel = (name: string) =>
  name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const kebab = (name: string) => name.replaceAll("_", "-");
/** The flag that sets `key`, as typed on the command line: `--encoder-lr`. */
export const flagOf = (key: OptionKey): string => `--${kebab(optionName(key))}`;
/** Flags whose `--no-NAME` form sets a boolean back to false (to undo a config file). */
const negated = (key: OptionKey) => `no-${kebab(optionName(key))}`;

/** A cross-field problem: the keys involved and the message, given how to show a key. */
export interface Problem<K extends OptionKey> {
  keys: K[];
  message: (show: (key: K) => string) => string;
}

export interface ConfigLayer {
  /** Where the values came from, for messages: a file path, "command line", "config.yaml of the run". */
  source: string;
  /** snake_case key → value; null resets a key to its default (or unset); undefined is skipped. */
  values: Record<string, unknown>;
  /** Name keys as flags (`--encoder-lr`) in messages; set for the layer built by flagsToValues. */
  flags?: boolean;
}

interface Origin {
  layer: number;
  where: string;
  flags: boolean;
}

const DEFAULT_ORIGIN: Origin = { layer: -1, where: "default", flags: false };

/** A value as it appears in messages. */
export function show(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (Array.isArray(v)) return v.map(show).join(",");
  return typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

/** Fractions as people write them: 1e-4 rather than 0.0001 (the shorter form; exact either way). */
export function formatNumber(n: number): string {
  const plain = String(n);
  if (Number.isInteger(n)) return plain;
  const exp = n.toExponential().replace("e+", "e");
  return exp.length < plain.length ? exp : plain;
}

export class CommandOptions<K extends OptionKey> {
  /** YAML key (the table key's name) → table key. */
  private readonly byName: Map<string, K>;
  readonly schema: z.ZodObject<ShapeOf<K>, z.core.$strict>;

  constructor(
    readonly command: string,
    readonly keys: readonly K[],
    private readonly rules: (get: (key: K) => unknown) => Problem<K>[] = () => [],
  ) {
    this.byName = new Map(keys.map((k) => [optionName(k), k]));
    const shape = Object.fromEntries(
      keys.map((k) => [camel(optionName(k)), option(k).schema]),
    ) as unknown as ShapeOf<K>;
    // deno-lint-ignore no-explicit-any
    this.schema = (z.strictObject(shape) as any).superRefine((c: object, ctx: z.RefinementCtx) => {
      const get = (k: K) => (c as Record<string, unknown>)[camel(optionName(k))];
      for (const p of this.rules(get)) {
        ctx.addIssue({
          code: "custom",
          path: p.keys.map((k) => camel(optionName(k))),
          message: p.message((k) => `${optionName(k)} ${show(get(k))}`),
        });
      }
    });
  }

  /** The closest key to an unknown one: its snake_case form, a known alias, or by spelling. */
  suggest(name: string): string | undefined {
    const snake = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replaceAll("-", "_").toLowerCase();
    if (this.byName.has(snake)) return snake;
    const alias = ALIASES[snake];
    if (alias !== undefined && this.byName.has(alias)) return alias;
    return closestName(snake, [...this.byName.keys()]);
  }

  /**
   * Merges layers (later ones override earlier ones) over the defaults and validates the result.
   * Throws a UserError naming the layer (file:line where known), the key, the value and what the
   * key takes. Returns the raw camelCase record for the caller's schema (`parse`). `file` names
   * the config file when the keys have no flags (a missing key is then reported against it).
   */
  resolve(layers: readonly ConfigLayer[], file?: string): Record<string, unknown> {
    const merged = new Map<K, unknown>();
    const origins = new Map<K, Origin>();
    layers.forEach((layer, index) => {
      for (const [name, value] of Object.entries(layer.values)) {
        const where = keyLineOf(layer.values, name, layer.source);
        const k = this.byName.get(name);
        if (k === undefined) {
          const near = this.suggest(name);
          const hint = near === undefined
            ? `see 'l3mask ${this.command} --help' for the keys`
            : `did you mean '${near}'?`;
          throw new UserError(`${where}: unknown key '${name}'; ${hint}`);
        }
        if (value === undefined) continue;
        origins.set(k, { layer: index, where, flags: !!layer.flags });
        if (value === null) merged.delete(k);
        else merged.set(k, this.checkValue(k, value, where, !!layer.flags));
      }
    });
    const missing = this.keys.filter((k) => option(k).required && !merged.has(k));
    if (missing.length > 0 && file !== undefined) {
      throw new UserError(`${file}: missing ${missing.map(optionName).join(", ")}`);
    }
    if (missing.length > 0) {
      const how = missing.map((k) => `${flagOf(k)} ${option(k).arg}`).join(", ");
      throw new UserError(
        `missing ${missing.map(optionName).join(", ")}: pass ${how} (or set them in the --config ` +
          `file)`,
      );
    }
    const get = (k: K) => merged.has(k) ? merged.get(k) : option(k).default;
    const problem = this.rules(get)[0];
    if (problem) this.throwProblem(problem, get, (k) => origins.get(k) ?? DEFAULT_ORIGIN);
    return Object.fromEntries([...merged].map(([k, v]) => [camel(optionName(k)), v]));
  }

  private checkValue(k: K, value: unknown, where: string, flags: boolean): unknown {
    const f = option(k);
    const parsed = f.check.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const quote = f.check.flag === "string" && !flags && typeof value !== "string" &&
        typeof value !== "object"
      ? "; quote it to keep it as text"
      : "";
    const name = flags ? flagOf(k) : optionName(k);
    throw new UserError(
      `${where}: ${name}: expected ${f.check.expects}, got ${show(value)}${quote}`,
    );
  }

  /** Blames the key set last (the user most likely just changed it). */
  private throwProblem(
    problem: Problem<K>,
    get: (k: K) => unknown,
    originOf: (k: K) => Origin,
  ): never {
    const blamed = problem.keys.reduce((a, b) => originOf(b).layer > originOf(a).layer ? b : a);
    const at = originOf(blamed).where;
    const showWithOrigin = (k: K) => {
      const o = originOf(k);
      const name = o.flags ? flagOf(k) : optionName(k);
      return `${name} ${show(get(k))}${o.where === at ? "" : ` (${o.where})`}`;
    };
    throw new UserError(`${at}: ${problem.message(showWithOrigin)}`);
  }

  /**
   * node:util parseArgs options for every key: `--encoder-lr X` (strings), `--offline` and
   * `--no-offline` (booleans), `--corpus A --corpus B` (repeatable).
   */
  flagOptions(): ParseOptions {
    const options: ParseOptions = {};
    for (const key of this.keys) {
      const kind = option(key).check.flag;
      const name = kebab(optionName(key));
      if (kind === "boolean") {
        options[name] = { type: "boolean" };
        options[negated(key)] = { type: "boolean" };
      } else if (kind === "strings") options[name] = { type: "string", multiple: true };
      else options[name] = { type: "string" };
    }
    return options;
  }

  /**
   * Parsed flag values (kebab-case strings and booleans) → a snake_case layer of typed values for
   * `resolve`: numbers, `0.9,0.98` lists, `epoch` or a number. Values of flags that are not
   * keys (`config`, `resume`, `help`) are ignored.
   */
  flagsToValues(
    values: Record<string, string | boolean | (string | boolean)[] | undefined>,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of this.keys) {
      const check = option(key).check;
      const name = optionName(key);
      const raw = values[kebab(name)];
      if (check.flag === "boolean") {
        const on = raw === true, off = values[negated(key)] === true;
        if (on && off) {
          throw new UserError(
            `${flagOf(key)} and --${negated(key)} contradict each other; pass one`,
          );
        }
        if (on || off) out[name] = on;
      } else if (raw !== undefined) {
        if (check.flag === "strings") out[name] = (Array.isArray(raw) ? raw : [raw]).map(String);
        else out[name] = flagValue(check.flag, String(Array.isArray(raw) ? raw.at(-1) : raw));
      }
    }
    return out;
  }

  /**
   * The values of a command without config files: each flag checked on its own (errors read
   * "--batch must be a positive integer, got '-2'"), defaults applied, required flags present.
   * `extra` supplies values from elsewhere (e.g. positional corpus files).
   */
  readFlags(
    values: Record<string, string | boolean | (string | boolean)[] | undefined>,
    extra: Partial<Record<K, unknown>> = {},
  ): ValuesOf<K> {
    const out: Record<string, unknown> = {};
    for (const key of this.keys) {
      const f = option(key);
      const raw = values[kebab(optionName(key))];
      let v: unknown = extra[key];
      if (f.check.flag === "boolean") v = raw === true ? true : undefined;
      else if (f.check.flag === "strings") {
        const list = [...(Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])].map(String);
        const all = [...list, ...((v as string[] | undefined) ?? [])];
        v = all.length ? all : undefined;
      } else if (raw !== undefined) v = readFlag(f.check, String(raw), flagOf(key));
      if (v === undefined && f.required) {
        throw new UserError(
          `${flagOf(key)} is required (${f.help}). See 'l3mask ${this.command} --help'.`,
        );
      }
      out[camel(optionName(key))] = v ?? f.default;
    }
    return out as ValuesOf<K>;
  }

  /**
   * The resolved values as YAML: every key in order (unset optional keys as null), one comment
   * line per group, so two runs' files diff line by line.
   */
  toYaml(config: object, header?: string): string {
    const values = config as Record<string, unknown>;
    const lines: string[] = header ? header.split("\n").map((l) => `# ${l}`.trimEnd()) : [];
    let group = "";
    for (const key of this.keys) {
      const f = option(key);
      if (f.group !== group) {
        if (lines.length > 0) lines.push("");
        lines.push(`# ${f.group}`);
        group = f.group;
      }
      lines.push(`${optionName(key)}: ${yamlValue(values[camel(optionName(key))])}`);
    }
    return lines.join("\n") + "\n";
  }

  /** `c` with some values replaced, its keys kept in the command's order. */
  withValues<C extends object>(c: C, values: Partial<C>): C {
    const merged = { ...c, ...values } as Record<string, unknown>;
    return Object.fromEntries(
      this.keys.map((k) => camel(optionName(k))).filter((k) => merged[k] !== undefined).map((
        k,
      ) => [k, merged[k]]),
    ) as C;
  }

  /** Help rows (flag with placeholder, meaning) of some keys, for another command's help. */
  helpRows(keys: readonly K[]): [string, string][] {
    return keys.map((k) => {
      const f = option(k);
      return [f.arg ? `${flagOf(k)} ${f.arg}` : flagOf(k), f.help];
    });
  }

  /**
   * The options part of `--help` (the command puts its Usage lines above it): every flag with its
   * placeholder, one-line meaning and default, grouped. `extra` rows (flag, meaning) come first.
   */
  help(extra: readonly (readonly [string, string])[] = [], keys: readonly K[] = this.keys): string {
    const rows: (readonly [string, string] | string)[] = [...extra];
    // Grouped in the order groups first appear (keys of one group need not be adjacent).
    const groups = [...new Set(keys.map((k) => option(k).group))];
    const ordered = groups.flatMap((g) => keys.filter((k) => option(k).group === g));
    let group = "";
    for (const key of ordered) {
      const f = option(key);
      if (f.group !== group) rows.push(f.group), group = f.group;
      const flag = f.arg ? `${flagOf(key)} ${f.arg}` : flagOf(key);
      const def = defaultText(key);
      // Non-breaking spaces keep "(default: X)" on one line when wrapping.
      rows.push([flag, def ? `${f.help} (${def.replaceAll(" ", "\u00a0")})` : f.help]);
    }
    const width = Math.max(...rows.filter((r) => typeof r !== "string").map((r) => r[0].length)) +
      2;
    return rows.map((r, i) =>
      typeof r === "string"
        ? `${i ? "\n" : ""}${r[0].toUpperCase()}${r.slice(1)}:`
        : wrap(`  ${r[0].padEnd(width)}`, r[1])
    ).join("\n");
  }
}

function yamlValue(v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (typeof v === "number") return formatNumber(v);
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(", ")}]`;
  return stringify(v).trimEnd();
}

function defaultText(key: OptionKey): string {
  const f = option(key);
  if (f.required) return "required";
  if (f.default === undefined) return `default: ${f.unset ?? "none"}`;
  if (typeof f.default === "boolean") return "";
  return `default: ${
    Array.isArray(f.default) ? f.default.map(show).join(",") : show(f.default).replaceAll("'", "")
  }`;
}

/** `lead` then `text`, wrapped at 100 columns under the start of `text`. */
function wrap(lead: string, text: string): string {
  const lines: string[] = [];
  let line = lead;
  for (const word of text.split(" ")) {
    if (line.length > lead.length && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = " ".repeat(lead.length) + word;
    } else {
      line += (line.length > lead.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines.join("\n").replaceAll("\u00a0", " ");
}
