import * as cpu from "../src/cpu/embedding.ts";
import { ChunkedTensor } from "../src/gpu/chunked.ts";
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import {
  embeddingBackward,
  type EmbeddingDims,
  embeddingForward,
  makeEmbeddingBuckets,
  type PositionDims,
  positionIdsHost,
} from "../src/kernels/embedding.ts";
import { positionIds } from "./test_kernels.ts";
import { assertClose, checkGradient, dot, f64, gpuTest, randInt, randn } from "./util.ts";

interface Case {
  name: string;
  B: number;
  T: number;
  C: number;
  V: number;
  types: number;
  kind: "bert" | "roberta";
  /** Token ids that must appear (chunk boundaries, both ends of the vocabulary). */
  special?: number[];
}

const PAD = 1; // RoBERTa's pad id

/** Ids with repeats, a few pads at the end of each RoBERTa row and the `special` ids spread in. */
function makeIds(c: Case, seed: number): Uint32Array {
  const ids = randInt(c.B * c.T, seed, Math.min(c.V, 40)); // few distinct ids: many repeats
  const wide = randInt(c.B * c.T, seed + 1, c.V);
  for (let i = 0; i < ids.length; i += 3) ids[i] = wide[i];
  (c.special ?? []).forEach((id, k) => ids[(k * 7 + 1) % ids.length] = id);
  if (c.kind === "roberta") {
    for (let b = 0; b < c.B; b++) {
      for (let t = c.T - 1 - b; t < c.T; t++) ids[b * c.T + t] = PAD;
    }
  }
  return ids;
}

/** Positions a table must hold: BERT T, RoBERTa padId + 1 + T (like max_position_embeddings). */
function numPositions(c: Case): number {
  return c.kind === "bert" ? c.T : PAD + 1 + c.T;
}

/** Forward and backward on the GPU against the CPU reference; returns nothing, asserts. */
async function checkEmbedding(
  ctx: GpuContext,
  c: Case,
  opts: { minChunks?: number; plain?: boolean } = {},
) {
  const { B, T, C, V, types, kind } = c;
  const P = numPositions(c), N = B * T;
  const dims: EmbeddingDims = { B, T, C };
  const pdims: PositionDims = { B, T, kind, padId: PAD };
  const ids = makeIds(c, 1);
  const wte = randn(V * C, 2), wpe = randn(P * C, 3), tte = randn(types * C, 4);
  const dout = randn(N * C, 5);
  const dwpe0 = randn(P * C, 6), dtte0 = randn(types * C, 7);
  const DWTE0 = 0.25; // dwte starts at a constant (cheap at V=50265), to see the accumulation

  const gIds = ctx.upload(ids, [B, T]), gPos = ctx.empty([B, T]);
  // A plain tensor is one chunk; a ChunkedTensor splits at the binding limit.
  const gWte = opts.plain ? ctx.upload(wte, [V, C], "wte") : ChunkedTensor.upload(ctx, wte, V, C);
  const chunks = gWte instanceof ChunkedTensor ? gWte.chunks.length : 1;
  if (chunks < (opts.minChunks ?? 1)) {
    throw new Error(`wte split into ${chunks} chunks, expected ${opts.minChunks}`);
  }
  const gWpe = ctx.upload(wpe, [P, C]), gTte = ctx.upload(tte, [types, C]);
  const gOut = ctx.empty([B, T, C]), gDout = ctx.upload(dout, [B, T, C]);
  const gDwte = opts.plain ? ctx.empty([V, C], "dwte") : ChunkedTensor.zeros(ctx, V, C, "dwte");
  for (const t of gDwte instanceof ChunkedTensor ? gDwte.chunks.map((ch) => ch.tensor) : [gDwte]) {
    ctx.fill(t, DWTE0);
  }
  const gDwpe = ctx.upload(dwpe0, [P, C]), gDtte = ctx.upload(dtte0, [types, C]);

  positionIds(ctx, gPos, gIds, pdims);
  embeddingForward(ctx, gOut, gIds, gPos, gWte, gWpe, gTte, dims);
  const pos = positionIdsHost(ids, pdims);
  const buckets = makeEmbeddingBuckets(ctx, ids, pos);
  embeddingBackward(ctx, gDwte, gDwpe, gDtte, gDout, buckets, dims);

  const gotPos = await ctx.readU32(gPos);
  const [out, dwpe, dtte] = await ctx.readMany([gOut, gDwpe, gDtte]);
  const dwte = gDwte instanceof ChunkedTensor ? await gDwte.read(ctx) : await ctx.read(gDwte);

  const ePos = new Uint32Array(N);
  cpu.positionIds(ePos, ids, pdims);
  assertClose(gotPos, ePos, { atol: 0, rtol: 0, label: "positions" });
  assertClose(pos, ePos, { atol: 0, rtol: 0, label: "positionIdsHost" });

  const eOut = new Float64Array(N * C);
  cpu.embeddingForward(eOut, ids, ePos, f64(wte), f64(wpe), f64(tte), dims);
  const eDwte = new Float64Array(V * C).fill(DWTE0), eDwpe = f64(dwpe0), eDtte = f64(dtte0);
  cpu.embeddingBackward(eDwte, eDwpe, eDtte, f64(dout), ids, ePos, dims);

  // Forward: two f32 roundings of a sum of three N(0,1) values.
  assertClose(out, eOut, { atol: 1e-6, rtol: 1e-6, label: "out" });
  // Backward: f32 sums in token order. A word row sums few tokens; a position row sums B; the
  // token-type row sums all N (sequential f32: error grows ~ sqrt(N) ulp of the running sum).
  assertClose(dwte, eDwte, { atol: 1e-6, rtol: 1e-6, label: "dwte (accumulated)" });
  assertClose(dwpe, eDwpe, { atol: 1e-6, rtol: 1e-6, label: "dwpe (accumulated)" });
  assertClose(dtte, eDtte, {
    atol: 2e-7 * Math.sqrt(N) * 4,
    rtol: 1e-6,
    label: "dtte (accumulated)",
  });

  buckets.release(ctx);
  for (const t of [gWte, gDwte]) t instanceof ChunkedTensor ? t.release(ctx) : ctx.release(t);
  ctx.release(gIds, gPos, gWpe, gTte, gOut, gDout, gDwpe, gDtte);
}

gpuTest(
  "embedding GPU vs CPU (tiny, BERT positions)",
  (ctx) => checkEmbedding(ctx, { name: "tiny", B: 1, T: 4, C: 8, V: 10, types: 2, kind: "bert" }),
);

gpuTest(
  "embedding GPU vs CPU (tiny, wte and dwte as plain tensors)",
  (ctx) =>
    checkEmbedding(ctx, { name: "plain", B: 2, T: 5, C: 8, V: 10, types: 2, kind: "roberta" }, {
      plain: true,
    }),
);

gpuTest(
  "embedding GPU vs CPU (odd, RoBERTa positions with pads)",
  (ctx) =>
    checkEmbedding(ctx, { name: "odd", B: 3, T: 37, C: 99, V: 1001, types: 1, kind: "roberta" }),
);

gpuTest(
  "embedding GPU vs CPU (roberta-base B=2 T=128 C=768 V=50265: wte split at 128 MiB)",
  (ctx) => {
    const per = ChunkedTensor.rowsPerChunk(ctx, 768);
    return checkEmbedding(ctx, {
      name: "roberta-base",
      B: 2,
      T: 128,
      C: 768,
      V: 50265,
      types: 1,
      kind: "roberta",
      special: [0, 2, 3, per - 1, per, per + 1, 50263, 50264, 50264],
    }, { minChunks: 2 });
  },
);

Deno.test({
  name: "embedding GPU vs CPU with a 4 KiB binding limit (wte in 5 chunks)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const ctx = await createContext({ maxBindingBytes: 4096 });
    try {
      // C=16: 64 rows per chunk, so V=300 makes chunks [0,64) [64,128) ... [256,300).
      await checkEmbedding(ctx, {
        name: "small binding",
        B: 2,
        T: 8,
        C: 16,
        V: 300,
        types: 2,
        kind: "roberta",
        special: [0, 63, 64, 65, 127, 128, 255, 256, 299, 299, 2],
      }, { minChunks: 5 });
      // Chunks that hold no id of the batch are skipped by the backward.
      await checkEmbedding(ctx, {
        name: "ids in one chunk",
        B: 1,
        T: 6,
        C: 16,
        V: 300,
        types: 1,
        kind: "bert",
        special: [130, 131, 132, 133, 134, 135],
      }, { minChunks: 5 });
    } finally {
      ctx.destroy();
    }
  },
});

gpuTest("embedding backward is deterministic (bit-identical reruns)", async (ctx) => {
  const B = 4, T = 64, C = 96, V = 500, P = 80;
  const ids = randInt(B * T, 51, 30), dout = ctx.upload(randn(B * T * C, 52));
  const pos = positionIdsHost(ids, { B, T, kind: "roberta", padId: PAD });
  const results: Float32Array[][] = [];
  for (let rep = 0; rep < 2; rep++) {
    const dwte = ChunkedTensor.zeros(ctx, V, C), dwpe = ctx.zeros([P, C]), dtte = ctx.zeros([1, C]);
    const buckets = makeEmbeddingBuckets(ctx, ids, pos);
    embeddingBackward(ctx, dwte, dwpe, dtte, dout, buckets, { B, T, C });
    results.push([await dwte.read(ctx), ...await ctx.readMany([dwpe, dtte])]);
    buckets.release(ctx);
    dwte.release(ctx);
    ctx.release(dwpe, dtte);
  }
  results[0].forEach((r, i) => assertClose(results[1][i], r, { atol: 0, rtol: 0, label: `${i}` }));
  ctx.release(dout);
});

gpuTest("embeddingBackward rejects ids outside the table", (ctx) => {
  const ids = Uint32Array.from([3, 12]), pos = Uint32Array.from([0, 1]);
  const buckets = makeEmbeddingBuckets(ctx, ids, pos);
  const dwte = ChunkedTensor.zeros(ctx, 10, 4), dwpe = ctx.zeros([2, 4]), dtte = ctx.zeros([1, 4]);
  const dout = ctx.zeros([1, 2, 4]);
  let msg = "";
  try {
    embeddingBackward(ctx, dwte, dwpe, dtte, dout, buckets, { B: 1, T: 2, C: 4 });
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!msg.includes("token id 12 >= V=10")) throw new Error(`expected a range error, got '${msg}'`);
  buckets.release(ctx);
  dwte.release(ctx);
  ctx.release(dwpe, dtte, dout);
});

Deno.test("positionIdsHost: RoBERTa positions skip pads, BERT counts from 0", () => {
  const ids = Uint32Array.from([0, 5, 6, 2, 1, 1, 0, 7, 1, 8, 2, 1]);
  const rob = positionIdsHost(ids, { B: 2, T: 6, kind: "roberta", padId: 1 });
  assertClose(rob, [2, 3, 4, 5, 1, 1, 2, 3, 1, 4, 5, 1], { atol: 0, rtol: 0, label: "roberta" });
  const bert = positionIdsHost(ids, { B: 2, T: 6, kind: "bert", padId: 0 });
  assertClose(bert, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], { atol: 0, rtol: 0, label: "bert" });
});

Deno.test("embedding CPU backward matches finite differences (dwte, dwpe, dtte)", () => {
  const B = 2, T = 5, C = 3, V = 7, types = 2;
  const dims = { B, T, C };
  const ids = Uint32Array.from([0, 4, 4, 6, 1, 3, 4, 1, 1, 1]); // repeats and RoBERTa pads (1)
  const pos = positionIdsHost(ids, { B, T, kind: "roberta", padId: PAD });
  const P = PAD + 1 + T;
  const wte = f64(randn(V * C, 61)), wpe = f64(randn(P * C, 62)), tte = f64(randn(types * C, 63));
  const w = f64(randn(B * T * C, 64));
  const forward = (a: Float64Array, b: Float64Array, c: Float64Array) => {
    const out = new Float64Array(B * T * C);
    cpu.embeddingForward(out, ids, pos, a, b, c, dims);
    return dot(out, w);
  };
  const dwte = new Float64Array(V * C), dwpe = new Float64Array(P * C);
  const dtte = new Float64Array(types * C);
  cpu.embeddingBackward(dwte, dwpe, dtte, w, ids, pos, dims);
  checkGradient((x) => forward(x, wpe, tte), wte, dwte, { label: "dwte" });
  checkGradient((x) => forward(wte, x, tte), wpe, dwpe, { label: "dwpe" });
  checkGradient((x) => forward(wte, wpe, x), tte, dtte, { label: "dtte" });
});
