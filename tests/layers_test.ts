/**
 * Layers look down: every relative import (static, re-export or dynamic) of every TypeScript file
 * under src/ and of main.ts points into the importing file's own layer or a lower one, as the
 * layer table in ARCHITECTURE.md orders them. A file no row places is an error too, so a new
 * folder has to be given its layer.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));

/** Layer rows of ARCHITECTURE.md: `| N | `path` `path` | ... |` → [path prefix, N]. */
export function layerTable(markdown: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of markdown.split("\n")) {
    const m = /^\|\s*(\d+)\s*\|([^|]*)\|/.exec(line);
    if (!m) continue;
    for (const p of m[2].matchAll(/`([^`]+)`/g)) out.push([p[1], Number(m[1])]);
  }
  return out;
}

/** The layer of a repository-relative path: the longest matching row (a folder or a file). */
export function layerOf(table: [string, number][], path: string): number | undefined {
  let best: [string, number] | undefined;
  for (const row of table) {
    const [prefix] = row;
    const hit = prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix;
    if (hit && (!best || prefix.length > best[0].length)) best = row;
  }
  return best?.[1];
}

/** Relative `.ts` module specifiers a file imports (import/export ... from, import()). */
export function relativeImports(source: string): string[] {
  const specs = [
    ...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.[^"']+)["']/g),
    ...source.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.endsWith(".ts"));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sourceFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

Deno.test("layers: ARCHITECTURE.md's table places every source file", async () => {
  const table = layerTable(await Deno.readTextFile(join(ROOT, "ARCHITECTURE.md")));
  assert.ok(table.length >= 10, `ARCHITECTURE.md: only ${table.length} layer rows found`);
  const files = [...await sourceFiles("src"), "main.ts"];
  const unplaced = files.filter((f) => layerOf(table, f) === undefined);
  assert.deepEqual(unplaced, [], `files no layer row places: ${unplaced.join(", ")}`);
});

Deno.test("layers: no module imports from a layer above its own", async () => {
  const table = layerTable(await Deno.readTextFile(join(ROOT, "ARCHITECTURE.md")));
  const upward: string[] = [];
  for (const file of [...await sourceFiles("src"), "main.ts"]) {
    const own = layerOf(table, file);
    if (own === undefined) continue; // the test above names it
    for (const spec of relativeImports(await Deno.readTextFile(join(ROOT, file)))) {
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), spec)));
      const theirs = layerOf(table, target);
      if (theirs !== undefined && theirs > own) {
        upward.push(`${file} (layer ${own}) imports ${target} (layer ${theirs})`);
      }
    }
  }
  assert.deepEqual(upward, [], `imports that point up:\n  ${upward.join("\n  ")}`);
});

Deno.test("layers: the checker sees imports and layers as they are written", () => {
  const table = layerTable("| 1 | `src/util/` `src/errors.ts` | base |\n| 3 | `src/model/` | x |");
  assert.equal(layerOf(table, "src/util/names.ts"), 1);
  assert.equal(layerOf(table, "src/errors.ts"), 1);
  assert.equal(layerOf(table, "src/model/encoder.ts"), 3);
  assert.equal(layerOf(table, "src/train/run.ts"), undefined);
  const src = `import { a } from "../model/x.ts";\nimport type {\n  B,\n} from "./y.ts";\n` +
    `export { c } from "../io/z.ts";\nconst m = await import("../report/r.ts");\n` +
    `import text from "../../shaders/s.wgsl" with { type: "text" };\nimport { z } from "zod";\n`;
  assert.deepEqual(relativeImports(src), [
    "../model/x.ts",
    "./y.ts",
    "../io/z.ts",
    "../report/r.ts",
  ]);
});
