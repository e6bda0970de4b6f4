/**
 * Thin wrapper over node:util parseArgs that turns its errors into one-line UserErrors with the
 * fix: an unknown flag names the closest known one, a flag without its value says so, and a
 * negative number after a string flag is taken as its value (`--pbar -1`), so that it reaches the
 * flag's own range check instead of parseArgs's "argument is ambiguous".
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closestName } from "../util/names.ts";
import { UserError } from "../errors.ts";

export type Options = NonNullable<ParseArgsConfig["options"]>;

type Values<T extends Options> = {
  [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string;
};

export function parse<T extends Options>(
  command: string,
  args: string[],
  options: T,
  usage: string,
): { values: Values<T>; positionals: string[] } {
  const all: Options = { ...options, help: { type: "boolean", short: "h" } };
  const seeHelp = `See 'l3mask ${command} --help'.`;
  const prepared = prepareArgs(args, all, seeHelp);
  let parsed;
  try {
    parsed = parseArgs({ args: prepared, options: all, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`${parseArgsProblem(e as Error & { code?: string })}. ${seeHelp}`);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    console.log(usage);
    Deno.exit(0);
  }
  return { values: parsed.values as Values<T>, positionals: parsed.positionals };
}

/** A token that reads as a negative number: `-1`, `-0.5`, `-.5`, `-1e-3`. */
export function isNegativeNumber(s: string): boolean {
  return /^-\.?\d/.test(s) && Number.isFinite(Number(s));
}

/**
 * The arguments as parseArgs should see them: every flag known (else a UserError naming the
 * closest one), and `--flag -4` / `-f -4` of a string flag rewritten as `--flag=-4`.
 * Arguments after `--` are positionals and left alone.
 */
export function prepareArgs(args: string[], options: Options, seeHelp: string): string[] {
  const out: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);
  let valueDue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    // After a string flag, an unknown `-x` is most likely its value: parseArgs then asks for
    // `--flag=-x` (an unknown-flag error would mislead).
    const afterStringFlag = valueDue;
    valueDue = false;
    let name: string | undefined;
    if (afterStringFlag && arg.startsWith("-") && !isKnownFlag(arg, options)) {
      out.push(arg);
      continue;
    }
    if (arg.startsWith("--")) {
      const flag = arg.slice(2).split("=")[0];
      if (!Object.hasOwn(options, flag)) throw unknownFlag(`--${flag}`, options, seeHelp);
      if (!arg.includes("=")) name = flag;
    } else if (/^-[^-\d.]$/.test(arg)) {
      name = byShort.get(arg[1]);
      if (name === undefined) throw unknownFlag(arg, options, seeHelp);
    } else if (/^-[^-\d.]/.test(arg) && ![...arg.slice(1)].every((c) => byShort.has(c))) {
      // `-model` for `--model` (parseArgs would read it as the short flags -m -o -d -e -l).
      throw unknownFlag(arg, options, seeHelp);
    }
    const next = args[i + 1];
    if (
      name !== undefined && options[name].type === "string" && next !== undefined &&
      isNegativeNumber(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
      continue;
    }
    valueDue = name !== undefined && options[name].type === "string";
    out.push(arg);
  }
  return out;
}

function isKnownFlag(arg: string, options: Options): boolean {
  if (arg.startsWith("--")) return Object.hasOwn(options, arg.slice(2).split("=")[0]);
  return [...arg.slice(1)].every((c) => Object.values(options).some((o) => o.short === c));
}

function unknownFlag(flag: string, options: Options, seeHelp: string): UserError {
  const bare = flag.replace(/^--?/, "");
  const names = Object.keys(options);
  // `--batch_size` means `--batch-size`; `-model` means `--model`.
  const near = closestName(bare.replaceAll("_", "-"), names);
  const hint = near !== undefined ? `; did you mean --${near}?` : ".";
  return new UserError(`unknown option ${flag}${hint} ${seeHelp}`);
}

/** parseArgs's (multi-line) error as one line that says what to do. */
function parseArgsProblem(e: Error & { code?: string }): string {
  const m = e.message;
  const flag = /Option '(-[^' ]+)/.exec(m)?.[1] ?? /'(--?[^']+)'/.exec(m)?.[1];
  if (flag !== undefined) {
    if (/argument missing/.test(m)) return `${flag} needs a value`;
    if (/argument is ambiguous/.test(m)) {
      return `${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')`;
    }
    if (/does not take an argument/.test(m)) return `${flag} takes no value`;
  }
  return m.split("\n")[0].replace(/\.$/, "");
}
