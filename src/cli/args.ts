/** Thin wrapper over node:util parseArgs that turns its errors into UserErrors with the fix. */
import { parseArgs, type ParseArgsConfig } from "node:util";
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
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UserError(`${(e as Error).message}. See 'l3mask ${command} --help'.`);
  }
  if ((parsed.values as Record<string, unknown>).help) {
    console.log(usage);
    Deno.exit(0);
  }
  return { values: parsed.values as Values<T>, positionals: parsed.positionals };
}
