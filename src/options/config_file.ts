/**
 * Config files: YAML (or JSON) text → a key → value record, remembering each top-level key's line
 * so that errors can name `file:line`. Syntax errors name `file:line:column`.
 */
import { dirname } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type YAMLMap } from "yaml";
import { UserError } from "../errors.ts";
import { closestName } from "../util/names.ts";

/** Line of each top-level key of a parsed file, for error messages (kept off the record itself). */
const keyLines = new WeakMap<object, Map<string, number>>();

/** Parses YAML (or JSON) text into a key → value record; syntax errors name `source:line:column`. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ""), { lineCounter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    throw new UserError(`${where}: invalid YAML: ${err.message.split(/ at line \d+|\n/)[0]}`);
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return {};
  if (!isMap(contents)) {
    const line = contents.range ? lineCounter.linePos(contents.range[0]).line : 1;
    throw new UserError(
      `${source}:${line}: expected 'key: value' lines at the top level, as in configs/paper.yaml`,
    );
  }
  const values = doc.toJS() as Record<string, unknown>;
  recordLines(values, contents, lineCounter);
  return values;
}

/** Lines of a map's keys, and of the keys of maps nested in it, for keyLineOf. */
function recordLines(values: Record<string, unknown>, map: YAMLMap, lineCounter: LineCounter) {
  const lines = new Map<string, number>();
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key) || !key.range) continue;
    const name = String(key.value);
    lines.set(name, lineCounter.linePos(key.range[0]).line);
    const section = values[name];
    if (isMap(pair.value) && section && typeof section === "object" && !keyLines.has(section)) {
      recordLines(section as Record<string, unknown>, pair.value, lineCounter);
    }
  }
  keyLines.set(values, lines);
}

/**
 * Reads a YAML or JSON config file. A path that does not exist but names one of `builtins` (a
 * name → YAML text table, e.g. train's `paper`, `reference`, `tiny`) reads that text.
 */
export async function loadConfigFile(
  path: string,
  builtins: Readonly<Record<string, string>> = {},
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new UserError(`${path}: cannot read the config file: ${(e as Error).message}`);
    }
    const builtin = builtins[path];
    if (builtin !== undefined) return parseConfigText(builtin, `configs/${path}.yaml`);
    throw new UserError(`${path}: no such config file; ${await nearbyConfigs(path, builtins)}`);
  }
  return parseConfigText(text, path);
}

async function nearbyConfigs(
  path: string,
  builtinTexts: Readonly<Record<string, string>>,
): Promise<string> {
  const builtins = `built-in configs: ${Object.keys(builtinTexts).join(", ")}`;
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dirname(path))) {
      if (entry.isFile && /\.(ya?ml|json)$/i.test(entry.name)) names.push(entry.name);
    }
  } catch {
    return builtins;
  }
  const base = path.split(/[\\/]/).pop() ?? path;
  const near = closestName(base, [...names, ...Object.keys(builtinTexts)]);
  return near === undefined ? builtins : `did you mean '${near}'? (${builtins})`;
}

/** `source:line` of `key` in a record parsed by parseConfigText, else `source`. */
export function keyLineOf(values: object, key: string, source: string): string {
  const line = keyLines.get(values)?.get(key);
  return line === undefined ? source : `${source}:${line}`;
}
