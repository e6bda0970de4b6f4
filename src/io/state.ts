/**
 * A resumable job's state directory: named groups of tensors (one safetensors file each) and a
 * JSON file. Written into `dir.new/` and swapped in by renames, so a kill at any moment leaves
 * either the old or the new state whole; reading falls back to `dir.old/` after a kill mid-swap.
 */
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { openSafetensors, writeSafetensors } from "./safetensors.ts";

export type TensorGroup = Map<string, Float32Array>;

export async function writeStateDir(
  dir: string,
  groups: Record<string, TensorGroup>,
  json: unknown,
): Promise<void> {
  const tmp = `${dir}.new`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  for (const [name, group] of Object.entries(groups)) {
    await writeSafetensors(
      join(tmp, `${name}.safetensors`),
      [...group].map(([n, data]) => ({ name: n, shape: [data.length], data })),
    );
  }
  await writeFileAtomic(join(tmp, "state.json"), JSON.stringify(json, null, 2) + "\n");
  await Deno.remove(`${dir}.old`, { recursive: true }).catch(() => {});
  await Deno.rename(dir, `${dir}.old`).catch(() => {});
  await Deno.rename(tmp, dir);
  await Deno.remove(`${dir}.old`, { recursive: true }).catch(() => {});
}

export async function readStateDir(
  dir: string,
  groups: string[],
): Promise<{ json: unknown; groups: Record<string, TensorGroup> } | null> {
  for (const d of [dir, `${dir}.old`]) {
    let json: unknown;
    try {
      json = JSON.parse(await Deno.readTextFile(join(d, "state.json")));
    } catch {
      continue;
    }
    const out: Record<string, TensorGroup> = {};
    for (const g of groups) {
      using r = await openSafetensors(join(d, `${g}.safetensors`));
      const m: TensorGroup = new Map();
      for (const name of r.entries.keys()) m.set(name, await r.read(name));
      out[g] = m;
    }
    return { json, groups: out };
  }
  return null;
}
