/**
 * Parameters on the host (name → Float32Array), from a checkpoint or a seeded initialisation,
 * and their GPU / CPU stores. The word embedding becomes a row-split ChunkedTensor on the GPU.
 */
import { join } from "node:path";
import type { GpuContext } from "../gpu/context.ts";
import { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import {
  type HeadRequest,
  type HfConfigExtras,
  matchCheckpoint,
  readHfConfig,
  toHfConfig,
} from "./hf_config.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { hasTokenizerFiles } from "../io/tokenizer_files.ts";
import { findWeightsFile, openWeights } from "../io/weights_file.ts";
import { type L3Tokenizer, loadTokenizer } from "../io/tokenizer.ts";
import { UserError } from "../errors.ts";
import { philoxUniforms } from "../cpu/philox.ts";
import type { ModelConfig } from "./config.ts";
import type { Store } from "./encoder.ts";
import { modelNames, type ParamSpec, paramSpecs } from "./params.ts";

export type HostParams = Map<string, Float32Array>;

/** Normal(0, std) weights (biases 0, LayerNorm weights 1), reproducible from the seed. */
export function initParam(spec: ParamSpec, seed: number, index: number, std = 0.02): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.init === "zeros") return new Float32Array(n);
  if (spec.init === "ones") return new Float32Array(n).fill(1);
  // Box-Muller on Philox uniforms; each parameter its own stream (counter base index * 2^32).
  const u = philoxUniforms(seed, index * 2 ** 32, 2 * n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(Math.max(u[2 * i], 1e-12)));
    out[i] = std * r * Math.cos(2 * Math.PI * u[2 * i + 1]);
  }
  return out;
}

export function initParams(specs: ParamSpec[], seed: number, std = 0.02): HostParams {
  const out: HostParams = new Map();
  specs.forEach((s, i) => out.set(s.name, initParam(s, seed, i, std)));
  return out;
}

export interface LoadedModel {
  dir: string;
  config: ModelConfig;
  labels?: string[];
  raw: Record<string, unknown>;
  params: HostParams;
  /** Head parameters the checkpoint lacked, initialised fresh (e.g. a new classifier). */
  initialised: string[];
}

/**
 * The tokenizer must emit only ids the word embedding has rows for: a larger id would read past
 * the table (clamped on the GPU: wrong scores) or crash the embedding backward in training.
 */
export function checkTokenizerFits(tok: L3Tokenizer, cfg: ModelConfig, configFile: string): void {
  if (tok.vocabSize <= cfg.vocabSize) return;
  const { id, token } = tok.largestId;
  throw new UserError(
    `${tok.source} emits token ids up to ${id} (${JSON.stringify(token)}) but ${configFile} ` +
      `says vocab_size ${cfg.vocabSize} (embedding rows 0..${cfg.vocabSize - 1}); use the ` +
      `tokenizer the model was trained with, or a checkpoint whose vocab_size is at least ${
        id + 1
      }`,
  );
}

/**
 * Reads config.json and the weights of `dir` (model.safetensors, else pytorch_model.bin). With
 * `numLabels`, a classifier of that size is required: taken from the file when it has one of that
 * shape, initialised otherwise.
 * The tokenizer (`tokenizer`, else `dir`/tokenizer.json when there is one) is checked against
 * the embedding (checkTokenizerFits).
 */
export async function loadCheckpoint(
  dir: string,
  heads: { mlm: HeadRequest; classifier: HeadRequest },
  opts: { numLabels?: number; seed?: number; tokenizer?: L3Tokenizer } = {},
): Promise<LoadedModel> {
  const configFile = join(dir, "config.json");
  const info = await readHfConfig(configFile);
  const config = { ...info.config };
  const tok = opts.tokenizer ?? await loadTokenizerIfPresent(dir);
  if (tok) checkTokenizerFits(tok, config, configFile);
  if (opts.numLabels !== undefined) config.numLabels = opts.numLabels;
  const file = await findWeightsFile(dir);
  using reader = await openWeights(file);
  // A classifier trained for another label set is re-initialised (transformers'
  // ignore_mismatched_sizes): its output layer is dropped from the match.
  const out = modelNames(config).clsOut;
  const entries = [...reader.entries.values()].filter((e) =>
    !(opts.numLabels !== undefined && (e.name === `${out}.weight` || e.name === `${out}.bias`) &&
      e.shape[0] !== opts.numLabels)
  );
  const match = matchCheckpoint(file, entries, config, heads, configFile);
  const specs = paramSpecs(config, {
    mlm: heads.mlm !== false,
    classifier: heads.classifier !== false,
  });
  const params: HostParams = new Map();
  const initialised: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const fileName = match.names.get(spec.name);
    if (fileName) {
      params.set(spec.name, await reader.read(fileName));
    } else {
      params.set(spec.name, initParam(spec, opts.seed ?? 0, i));
      initialised.push(spec.name);
    }
  }
  return { dir, config, labels: info.labels, raw: info.raw, params, initialised };
}

/** The directory's tokenizer (tokenizer.json, or built from vocabulary files), if it has one. */
async function loadTokenizerIfPresent(dir: string): Promise<L3Tokenizer | null> {
  return await hasTokenizerFiles(dir) ? await loadTokenizer(dir) : null;
}

/** What a Hugging Face checkpoint is written from. */
export interface Checkpoint {
  cfg: ModelConfig;
  params: HostParams;
  /** The heads whose parameters are saved (paramSpecs order). */
  heads: { mlm: boolean; classifier: boolean };
  /** config.json: toHfConfig's extras, then `extraConfig`'s keys on top. */
  hf: HfConfigExtras;
  extraConfig?: Record<string, unknown>;
  tokenizerJson: Uint8Array;
}

/**
 * Writes a Hugging Face checkpoint into `dir` (created if missing): model.safetensors,
 * config.json and tokenizer.json, each atomically, weights first.
 */
export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeSafetensors(
    join(dir, "model.safetensors"),
    paramSpecs(c.cfg, c.heads).map((p) => ({
      name: p.name,
      shape: p.shape,
      data: c.params.get(p.name)!,
    })),
    { format: "pt" },
  );
  await writeFileAtomic(
    join(dir, "config.json"),
    JSON.stringify({ ...toHfConfig(c.cfg, c.hf), ...c.extraConfig }, null, 2) + "\n",
  );
  await writeFileAtomic(join(dir, "tokenizer.json"), c.tokenizerJson);
}

/** The parameters `specs` names from `dir`'s weights file (every one must be there). */
export async function readCheckpointParams(dir: string, specs: ParamSpec[]): Promise<HostParams> {
  using reader = await openWeights(await findWeightsFile(dir));
  const host: HostParams = new Map();
  for (const p of specs) {
    if (!reader.entries.has(p.name)) throw new Error(`${dir}: checkpoint lacks '${p.name}'`);
    host.set(p.name, await reader.read(p.name));
  }
  return host;
}

/** Upload host parameters; the word embedding is split across bindings when needed. */
export function gpuStore(
  ctx: GpuContext,
  cfg: ModelConfig,
  params: HostParams,
): Store<GpuTensor, ChunkedTensor> {
  const wteName = modelNames(cfg).wte;
  const t = new Map<string, GpuTensor>();
  let wte: ChunkedTensor | null = null;
  for (const [name, data] of params) {
    if (name === wteName) wte = ChunkedTensor.upload(ctx, data, cfg.vocabSize, cfg.hidden, name);
    else t.set(name, ctx.upload(data, [data.length], name));
  }
  if (!wte) throw new Error(`parameter '${wteName}' is missing`);
  return { wte, t };
}

/** A zero-filled store shaped like `params` (gradients, optimizer moments). */
export function gpuZerosLike(
  ctx: GpuContext,
  cfg: ModelConfig,
  params: HostParams,
  tag: string,
): Store<GpuTensor, ChunkedTensor> {
  const wteName = modelNames(cfg).wte;
  const t = new Map<string, GpuTensor>();
  for (const [name, data] of params) {
    if (name !== wteName) t.set(name, ctx.zeros([data.length], `${tag}:${name}`));
  }
  return { wte: ChunkedTensor.zeros(ctx, cfg.vocabSize, cfg.hidden, `${tag}:${wteName}`), t };
}

/** Every tensor of a GPU store as a flat list (word-embedding chunks included), in a fixed order. */
export function storeTensors(store: Store<GpuTensor, ChunkedTensor>): GpuTensor[] {
  return [...store.wte.chunks.map((c) => c.tensor), ...store.t.values()];
}

/** Read a GPU store back into host arrays by name. */
export async function readGpuStore(
  ctx: GpuContext,
  cfg: ModelConfig,
  store: Store<GpuTensor, ChunkedTensor>,
): Promise<HostParams> {
  const out: HostParams = new Map();
  out.set(modelNames(cfg).wte, await store.wte.read(ctx));
  const names = [...store.t.keys()];
  const values = await ctx.readMany(names.map((n) => store.t.get(n)!));
  names.forEach((n, i) => out.set(n, values[i].subarray(0, store.t.get(n)!.numel)));
  return out;
}

export function releaseGpuStore(ctx: GpuContext, store: Store<GpuTensor, ChunkedTensor>): void {
  store.wte.release(ctx);
  for (const t of store.t.values()) ctx.release(t);
}

/** CPU store: copies of the host arrays (so CPU runs never alias the source). */
export function cpuStore(cfg: ModelConfig, params: HostParams): Store<Float32Array, Float32Array> {
  const wteName = modelNames(cfg).wte;
  const t = new Map<string, Float32Array>();
  for (const [name, data] of params) if (name !== wteName) t.set(name, data.slice());
  return { wte: params.get(wteName)!.slice(), t };
}

export function cpuZerosLike(
  cfg: ModelConfig,
  params: HostParams,
): Store<Float32Array, Float32Array> {
  const wteName = modelNames(cfg).wte;
  const t = new Map<string, Float32Array>();
  for (const [name, data] of params) {
    if (name !== wteName) t.set(name, new Float32Array(data.length));
  }
  return { wte: new Float32Array(params.get(wteName)!.length), t };
}
