/**
 * Input embeddings (SPEC §1): out = wte[ids] + wpe[pos] + tte[0], with the word embedding split
 * across bindings (ChunkedTensor), and a deterministic backward that scatter-adds token
 * gradients through host-built buckets instead of float atomics.
 */
import { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import {
  type EmbeddingDims,
  type PositionDims,
  positionIds as hostPositionIds,
} from "../cpu/embedding.ts";

export type { EmbeddingDims, PositionDims };

// Forward: one workgroup per token; backward: one per token group. Threads loop over C.
const WG = 64;

/** A (rows, cols) matrix as chunks: a ChunkedTensor as is, a plain tensor as one chunk. */
function asChunked(t: ChunkedTensor | GpuTensor): ChunkedTensor {
  if (t instanceof ChunkedTensor) return t;
  if (t.shape.length !== 2) throw new Error(`'${t.label}': expected a matrix, shape ${t.shape}`);
  const [rows, cols] = t.shape;
  return new ChunkedTensor(rows, cols, [{ tensor: t, rowStart: 0, rows }], t.label);
}

/**
 * Position ids on the host (for the backward's buckets): BERT 0..T-1, RoBERTa
 * cumsum(mask) * mask + padId.
 */
export function positionIdsHost(ids: Uint32Array, dims: PositionDims): Uint32Array {
  if (ids.length !== dims.B * dims.T) {
    throw new Error(`positionIdsHost: ${ids.length} ids for B=${dims.B} T=${dims.T}`);
  }
  const pos = new Uint32Array(ids.length);
  hostPositionIds(pos, ids, dims);
  return pos;
}

/**
 * out = (wpe[pos] + tte[0]) + wte[ids]: one dispatch for the position and token-type rows plus
 * the first chunk of wte, then one per further chunk adding the rows whose id falls in it. A wte
 * that fits one binding may also be passed as a plain (V, C) tensor.
 */
export function embeddingForward(
  ctx: GpuContext,
  out: GpuTensor, // (B, T, C)
  ids: GpuTensor, // (B, T) u32
  pos: GpuTensor, // (B, T) u32
  wteIn: ChunkedTensor | GpuTensor, // (V, C)
  wpe: GpuTensor, // (P, C)
  tte: GpuTensor, // (types, C)
  dims: EmbeddingDims,
): void {
  const { B, T, C } = dims;
  const N = B * T;
  const wte = asChunked(wteIn);
  if (wte.cols !== C) throw new Error(`embeddingForward: wte has ${wte.cols} columns, C=${C}`);
  const workgroups = ctx.grid1d(N, 1);
  // One workgroup per token: no wider than the row (C = 32 left half of 64 lanes idle).
  const wg = Math.min(WG, Math.max(8, 2 ** Math.ceil(Math.log2(C))));
  const [first, ...rest] = wte.chunks;
  ctx.run("embedding_forward", {
    buffers: [out, ids, pos, first.tensor, wpe, tte],
    u32: [N, C, first.rowStart, first.rows],
    workgroups,
    overrides: { WG: wg },
  });
  for (const chunk of rest) {
    ctx.run("embedding_forward_chunk", {
      buffers: [out, ids, chunk.tensor],
      u32: [N, C, chunk.rowStart, chunk.rows],
      workgroups,
      overrides: { WG: wg },
    });
  }
}

/** Tokens grouped by a key, on the host (keys) and the device (the kernel's three buffers). */
export interface TokenGroups {
  /** Distinct keys, ascending. */
  keys: Uint32Array;
  keysT: GpuTensor; // (U) u32
  offsetsT: GpuTensor; // (U + 1) u32
  tokensT: GpuTensor; // (N) u32
}

/** The token indices grouped by word id, by position id, and all together (token type 0). */
export class EmbeddingBuckets {
  constructor(
    readonly numTokens: number,
    readonly byId: TokenGroups,
    readonly byPos: TokenGroups,
    readonly all: TokenGroups,
  ) {}

  release(ctx: GpuContext): void {
    for (const g of [this.byId, this.byPos, this.all]) ctx.release(g.keysT, g.offsetsT, g.tokensT);
  }
}

function groupTokens(ctx: GpuContext, keyOf: Uint32Array, label: string): TokenGroups {
  const N = keyOf.length;
  // Token indices sorted by key, ties in token order: the fixed summation order.
  const tokens = new Uint32Array(N);
  for (let n = 0; n < N; n++) tokens[n] = n;
  tokens.sort((a, b) => keyOf[a] - keyOf[b] || a - b);
  const keys: number[] = [];
  const offsets: number[] = [];
  for (let k = 0; k < N; k++) {
    if (k === 0 || keyOf[tokens[k]] !== keyOf[tokens[k - 1]]) {
      keys.push(keyOf[tokens[k]]);
      offsets.push(k);
    }
  }
  offsets.push(N);
  const keysHost = Uint32Array.from(keys);
  return {
    keys: keysHost,
    keysT: ctx.upload(keysHost, [keys.length], `${label}.keys`),
    offsetsT: ctx.upload(Uint32Array.from(offsets), [offsets.length], `${label}.offsets`),
    tokensT: ctx.upload(tokens, [N], `${label}.tokens`),
  };
}

/** Host-side grouping of a batch's tokens for embeddingBackward (upload once per batch). */
export function makeEmbeddingBuckets(
  ctx: GpuContext,
  ids: Uint32Array, // (B, T)
  pos: Uint32Array, // (B, T)
): EmbeddingBuckets {
  if (ids.length !== pos.length || ids.length === 0) {
    throw new Error(`makeEmbeddingBuckets: ${ids.length} ids and ${pos.length} positions`);
  }
  return new EmbeddingBuckets(
    ids.length,
    groupTokens(ctx, ids, "buckets.byId"),
    groupTokens(ctx, pos, "buckets.byPos"),
    groupTokens(ctx, new Uint32Array(ids.length), "buckets.all"),
  );
}

/** First index in the ascending `keys` with keys[i] >= x. */
function lowerBound(keys: Uint32Array, x: number): number {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function scatterAdd(
  ctx: GpuContext,
  dparam: GpuTensor, // (rows, C)
  dout: GpuTensor, // (N, C)
  groups: TokenGroups,
  uBegin: number,
  uEnd: number,
  rowStart: number,
  C: number,
): void {
  const count = uEnd - uBegin;
  if (count <= 0) return;
  ctx.run("embedding_backward", {
    buffers: [dparam, dout, groups.keysT, groups.offsetsT, groups.tokensT],
    u32: [C, uBegin, count, rowStart],
    workgroups: ctx.grid1d(count, 1),
    overrides: { WG },
  });
}

/**
 * dwte[ids[n]] += dout[n]; dwpe[pos[n]] += dout[n]; dtte[0] += sum_n dout[n]. Parameter
 * gradients accumulate. One dispatch per chunk of dwte holding some id, one for dwpe, one for
 * dtte; each (distinct row, channel) is summed by one thread in a fixed token order. A dwte
 * that fits one binding may also be passed as a plain (V, C) tensor.
 */
export function embeddingBackward(
  ctx: GpuContext,
  dwteIn: ChunkedTensor | GpuTensor, // (V, C)
  dwpe: GpuTensor, // (P, C)
  dtte: GpuTensor, // (types, C)
  dout: GpuTensor, // (B, T, C)
  buckets: EmbeddingBuckets,
  dims: EmbeddingDims,
): void {
  const { B, T, C } = dims;
  if (buckets.numTokens !== B * T) {
    throw new Error(`embeddingBackward: buckets hold ${buckets.numTokens} tokens, B*T=${B * T}`);
  }
  const dwte = asChunked(dwteIn);
  const ids = buckets.byId.keys, pos = buckets.byPos.keys;
  if (ids[ids.length - 1] >= dwte.rows) {
    throw new Error(`embeddingBackward: token id ${ids[ids.length - 1]} >= V=${dwte.rows}`);
  }
  const P = dwpe.numel / C;
  if (pos[pos.length - 1] >= P) {
    throw new Error(`embeddingBackward: position id ${pos[pos.length - 1]} >= P=${P}`);
  }
  for (const chunk of dwte.chunks) {
    const u0 = lowerBound(ids, chunk.rowStart);
    const u1 = lowerBound(ids, chunk.rowStart + chunk.rows);
    scatterAdd(ctx, chunk.tensor, dout, buckets.byId, u0, u1, chunk.rowStart, C);
  }
  scatterAdd(ctx, dwpe, dout, buckets.byPos, 0, pos.length, 0, C);
  scatterAdd(ctx, dtte, dout, buckets.all, 0, 1, 0, C);
}
