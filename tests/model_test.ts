/**
 * The composed encoder (embeddings → 2 layers → MLM head + classification head), forward and
 * backward with dropout on, on the GPU kernels vs the same composition on the CPU references:
 * losses and every parameter gradient. Also: two GPU runs with one seed are bit-identical, and a
 * tiny binding limit (word embedding split into many chunks) gives the same result.
 */
import assert from "node:assert/strict";
import type { ModelConfig } from "../src/model/config.ts";
import { type Batch, Encoder, type ForwardOptions } from "../src/model/encoder.ts";
import { CpuBackend } from "../src/model/cpu_backend.ts";
import { GpuBackend } from "../src/model/gpu_backend.ts";
import { paramSpecs } from "../src/model/params.ts";
import {
  cpuStore,
  cpuZerosLike,
  gpuStore,
  gpuZerosLike,
  type HostParams,
  initParams,
  readGpuStore,
  releaseGpuStore,
} from "../src/model/weights.ts";
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import { assertClose, gpuTest, rng } from "./util.ts";

function tinyConfig(kind: "bert" | "roberta"): ModelConfig {
  return {
    modelType: kind,
    vocabSize: 97,
    hidden: 32,
    layers: 2,
    heads: 4,
    intermediate: 40,
    maxPositions: 20,
    typeVocabSize: kind === "bert" ? 2 : 1,
    layerNormEps: kind === "bert" ? 1e-12 : 1e-5,
    padTokenId: kind === "bert" ? 0 : 1,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    numLabels: 3,
  };
}

/** 3 sequences of lengths 9, 5, 7 padded to T=9; 4 MLM rows; labels. */
function tinyBatch(cfg: ModelConfig): { batch: Batch; opts: ForwardOptions } {
  const B = 3, T = 9;
  const lengths = [9, 5, 7];
  const r = rng(42);
  const ids = new Uint32Array(B * T).fill(cfg.padTokenId);
  const mask = new Uint32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      ids[b * T + t] = 3 + Math.floor(r() * (cfg.vocabSize - 3));
      mask[b * T + t] = 1;
    }
  }
  const rows = new Uint32Array([1, 4, T + 2, 2 * T + 6]);
  const targets = new Uint32Array([5, 17, 96, 40]);
  return {
    batch: { B, T, ids, mask },
    opts: { mlm: { rows, targets }, labels: new Uint32Array([2, 0, 1]), train: true, seed: 1234 },
  };
}

interface RunResult {
  logp: Float32Array;
  clsLosses: Float32Array;
  grads: HostParams;
}

async function runGpu(ctx: GpuContext, cfg: ModelConfig, params: HostParams): Promise<RunResult> {
  const be = new GpuBackend(ctx);
  const store = gpuStore(ctx, cfg, params);
  const grads = gpuZerosLike(ctx, cfg, params, "grad");
  const model = new Encoder(be, cfg, store, { mlm: true, classifier: true });
  const { batch, opts } = tinyBatch(cfg);
  const pass = model.forward(batch, opts);
  model.backward(pass, grads, { mlm: 1, cls: 1 });
  const [logp, clsLosses] = await ctx.readMany([pass.mlm!.logp, pass.cls!.losses]);
  const g = await readGpuStore(ctx, cfg, grads);
  model.releasePass(pass);
  releaseGpuStore(ctx, store);
  releaseGpuStore(ctx, grads);
  return { logp: logp.slice(0, 4), clsLosses: clsLosses.slice(0, 3), grads: g };
}

function runCpu(cfg: ModelConfig, params: HostParams): RunResult {
  const be = new CpuBackend();
  const grads = cpuZerosLike(cfg, params);
  const model = new Encoder(be, cfg, cpuStore(cfg, params), { mlm: true, classifier: true });
  const { batch, opts } = tinyBatch(cfg);
  const pass = model.forward(batch, opts);
  model.backward(pass, grads, { mlm: 1, cls: 1 });
  const out: HostParams = new Map([[model.names.wte, grads.wte]]);
  for (const [k, v] of grads.t) out.set(k, v);
  return {
    logp: pass.mlm!.logp as Float32Array,
    clsLosses: pass.cls!.losses as Float32Array,
    grads: out,
  };
}

function compare(gpu: RunResult, cpu: RunResult, label: string): void {
  assertClose(gpu.logp, cpu.logp, {
    atol: 1e-5,
    rtol: 1e-4,
    label: `${label} MLM log-probabilities`,
  });
  assertClose(gpu.clsLosses, cpu.clsLosses, {
    atol: 1e-5,
    rtol: 1e-4,
    label: `${label} classification losses`,
  });
  assert.equal(gpu.grads.size, cpu.grads.size);
  for (const [name, want] of cpu.grads) {
    const got = gpu.grads.get(name)!;
    let scale = 0;
    for (const x of want) scale = Math.max(scale, Math.abs(x));
    assert.ok(
      scale > 0 || name.endsWith("token_type_embeddings.weight"),
      `${name}: CPU gradient is all zero`,
    );
    assertClose(got, want, {
      atol: 1e-4 * scale + 1e-7,
      rtol: 1e-3,
      label: `${label} grad ${name}`,
    });
  }
}

for (const kind of ["bert", "roberta"] as const) {
  const cfg = tinyConfig(kind);
  const params = initParams(paramSpecs(cfg, { mlm: true, classifier: true }), 7, 0.2);

  gpuTest(
    `${kind}: composed model forward+backward (dropout on), GPU vs CPU, every gradient`,
    async (ctx) => {
      compare(await runGpu(ctx, cfg, params), runCpu(cfg, params), kind);
    },
  );

  gpuTest(`${kind}: two GPU runs with the same seed are bit-identical`, async (ctx) => {
    const a = await runGpu(ctx, cfg, params);
    const b = await runGpu(ctx, cfg, params);
    assert.deepEqual(a.logp, b.logp);
    assert.deepEqual(a.clsLosses, b.clsLosses);
    for (const [name, g] of a.grads) assert.deepEqual(g, b.grads.get(name), name);
  });

  Deno.test({
    name: `${kind}: word embedding split over many bindings gives the same gradients`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      // 6144 bytes: every other tensor fits; the 97x32 word embedding splits into 48 + 48 + 1 rows.
      const small = await createContext({ maxBindingBytes: 6144 });
      try {
        const got = await runGpu(small, cfg, params);
        compare(got, runCpu(cfg, params), `${kind} (chunked)`);
      } finally {
        small.destroy();
      }
    },
  });
}

/**
 * Inference forwards whose heads need only some rows (any number per sequence) compute only
 * those in the last layer (attentionQuery, Encoder.keptRows); the head outputs must equal a full
 * forward's.
 */
for (const kind of ["bert", "roberta"] as const) {
  const cfg = tinyConfig(kind);
  const params = initParams(paramSpecs(cfg, { mlm: true, classifier: true }), 11, 0.2);
  gpuTest(
    `${kind}: inference forward with the last layer at kept rows equals a full forward`,
    async (ctx) => {
      const { batch } = tinyBatch(cfg);
      const T = batch.T;
      // Masked rows: none in sequence 0, two in sequence 1, one in sequence 2 (as --copies K
      // scores several targets per copy); then the classifier alone (row 0 of each sequence).
      const mlm = {
        rows: new Uint32Array([T + 2, T + 5, 2 * T + 6]),
        targets: new Uint32Array([96, 17, 40]),
      };
      const labels = new Uint32Array([2, 0, 1]);
      const gpu = new Encoder(new GpuBackend(ctx), cfg, gpuStore(ctx, cfg, params), {
        mlm: true,
        classifier: true,
      });
      const cpuModel = new Encoder(new CpuBackend(), cfg, cpuStore(cfg, params), {
        mlm: true,
        classifier: true,
      });
      for (const heads of [{ mlm }, { labels }]) {
        const what = heads.mlm ? "MLM" : "classifier";
        const results: Float32Array[] = [];
        for (const inference of [false, true]) {
          const opts = { ...heads, train: false, seed: 0, inference };
          const pass = gpu.forward(batch, opts);
          const out = heads.mlm ? pass.mlm!.logp : pass.cls!.probs;
          const shape = await ctx.read(pass.hidden);
          // Kept rows: hidden is (B, C); otherwise (B, T, C).
          assert.equal(shape.length, (inference ? 3 : 3 * T) * cfg.hidden, `${what} hidden size`);
          results.push(await ctx.read(out));
          gpu.releasePass(pass);
          const cpuPass = cpuModel.forward(batch, opts);
          const cpuOut = (heads.mlm ? cpuPass.mlm!.logp : cpuPass.cls!.probs) as Float32Array;
          assertClose(results.at(-1)!, cpuOut, {
            atol: 1e-6,
            rtol: 1e-5,
            label: `${kind} ${what} GPU vs CPU (inference ${inference})`,
          });
        }
        assertClose(results[1], results[0], {
          atol: 1e-6,
          rtol: 1e-5,
          label: `${kind} ${what}: kept rows vs full forward`,
        });
      }
      releaseGpuStore(ctx, gpu.params);
    },
  );
}
