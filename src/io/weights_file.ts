/**
 * A model directory's weights file: model.safetensors, else pytorch_model.bin (torch.save), each
 * read through one interface (tensor entries with name/dtype/shape, `read` as f32). Other
 * frameworks' files (TensorFlow, Flax) and sharded checkpoints are refused by name, with the
 * conversion to do.
 */
import { basename, join } from "node:path";
import { UserError } from "../errors.ts";
import { type Dtype, openSafetensors, readSafetensorsHeader } from "./safetensors.ts";
import { openTorchBin, readTorchBinIndex } from "./torch_bin.ts";

/** The weights files l3mask reads, preferred first. */
export const WEIGHTS_FILES = ["model.safetensors", "pytorch_model.bin"] as const;

/** Weights files l3mask does not read, and what they are. */
export const FOREIGN_WEIGHTS: Readonly<Record<string, string>> = {
  "model.safetensors.index.json": "a sharded safetensors checkpoint",
  "pytorch_model.bin.index.json": "a sharded PyTorch checkpoint",
  "tf_model.h5": "TensorFlow weights",
  "flax_model.msgpack": "Flax weights",
};

export interface WeightsEntry {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  /**
   * Byte range [begin, end) of the tensor's data: relative to the data area in a safetensors
   * file, absolute in a pytorch_model.bin (where tensors may share or overlap ranges).
   */
  begin: number;
  end: number;
}

/** What loading a checkpoint needs of a weights file (SafetensorsReader and TorchBinReader). */
export interface WeightsReader {
  readonly path: string;
  readonly entries: ReadonlyMap<string, WeightsEntry>;
  read(name: string): Promise<Float32Array>;
  close(): void;
  [Symbol.dispose](): void;
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((st) => st.isFile, () => false);
}

/**
 * What to tell a user whose directory (or hub repo) has `present` files but none of
 * WEIGHTS_FILES: the foreign format it holds and the conversion, or undefined when it has none.
 */
export function foreignWeightsHint(source: string, present: Iterable<string>): string | undefined {
  const have = new Set(present);
  const found = Object.keys(FOREIGN_WEIGHTS).find((f) => have.has(f));
  if (!found) return undefined;
  const from = found === "tf_model.h5"
    ? ", from_tf=True"
    : found === "flax_model.msgpack"
    ? ", from_flax=True"
    : "";
  return `it has ${found} (${FOREIGN_WEIGHTS[found]}), which l3mask does not read; convert it ` +
    `with Python: python -c "from transformers import AutoModelForMaskedLM as M; ` +
    `M.from_pretrained('${source}'${from}).save_pretrained('OUT')" ` +
    `(AutoModelForSequenceClassification for a fine-tuned classifier), copy tokenizer.json into ` +
    `OUT and pass OUT`;
}

/** The weights file of `dir` (model.safetensors preferred), or a UserError saying what is there. */
export async function findWeightsFile(dir: string): Promise<string> {
  for (const f of WEIGHTS_FILES) {
    if (await isFile(join(dir, f))) return join(dir, f);
  }
  const present: string[] = [];
  for (const f of Object.keys(FOREIGN_WEIGHTS)) if (await isFile(join(dir, f))) present.push(f);
  const hint = foreignWeightsHint(dir, present);
  throw new UserError(
    `'${dir}' has no ${WEIGHTS_FILES.join(" or ")}${hint ? `; ${hint}` : ""}`,
  );
}

function isTorchBin(file: string): boolean {
  return basename(file).endsWith(".bin");
}

/** Opens a weights file by its kind (a .bin is a torch.save archive, anything else safetensors). */
export async function openWeights(file: string): Promise<WeightsReader> {
  return isTorchBin(file) ? await openTorchBin(file) : await openSafetensors(file);
}

/**
 * The tensors of a weights file, from its header or index only (what a checkpoint fingerprint
 * needs: for model.safetensors the same entries as readSafetensorsHeader).
 */
export async function readWeightsEntries(file: string): Promise<WeightsEntry[]> {
  return isTorchBin(file)
    ? (await readTorchBinIndex(file)).entries
    : (await readSafetensorsHeader(file)).entries;
}
