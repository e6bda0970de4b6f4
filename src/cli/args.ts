/** Thin wrapper over node:util parseArgs that turns its errors into UserErrors with the fix. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../errors.ts";

export type Options = NonNullable<ParseArgsConfig["options"]>;

export function parse<T extends Options>(command: string, args: string[], options: T, usage: string) {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      console.log(usage);
      Deno.exit(0);
    }
    return parsed;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${(e as Error).message}. See 'l3mask ${command} --help'.`);
  }
}
