/**
 * Linear layer (Hugging Face layout: w is (N, K) = (out, in); y = x wᵀ + b), forward and both
 * backward products. Encode only: every function records dispatches into the context's batch.
 *
 * Column windows: `out` / `dout` may be wider than N (row stride `ldo`), with this layer owning
 * columns [colOffset, colOffset + N), so the vocabulary projection runs per chunk of a row-split
 * word-embedding matrix (src/gpu/chunked.ts) into one logits buffer.
 *
 * Variants (`dims.variant`; the default is MatmulPolicy's choice, src/kernels/linear_tune.ts):
 * "slab" (shaders/linear_slab.wgsl, the CPU adapters' fast kernel; large products only, on
 * adapters with 32 KiB of workgroup memory) and "tile" (shaders/linear_tile.wgsl, the GPU-style
 * shared-memory tile; every small product). Both sum each output in the same order, so they give
 * identical bits. Each maps all three products onto its one pipeline, with small helper passes:
 * odd shapes (K or a window not vec4-aligned) go through zero-padded dense temporaries
 * (linear_pack), and backward-weight reads dout transposed (linear_transpose, which also sums the
 * bias gradient). Temporaries larger than one storage binding are processed in column blocks.
 * Kernels no adapter chooses (the register-tiled and naive ones) live in bench/dev/.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { forcedFromEnv, MATMUL_VARIANTS, MatmulPolicy } from "./linear_tune.ts";

export interface LinearDims {
  M: number;
  K: number;
  N: number;
  /** Row stride of out / dout (default N). */
  ldo?: number;
  /** First column of out / dout owned by this layer (default 0). */
  colOffset?: number;
  /** Kernel variant, for benchmarks and tests; the default is the fastest correct one. */
  variant?: string;
}

export const LINEAR_VARIANTS = {
  forward: MATMUL_VARIANTS,
  backwardInput: MATMUL_VARIANTS,
  backwardWeight: MATMUL_VARIANTS,
} as const;

// linear_slab's compile-time tile: rows per invocation, columns per workgroup, reduction depth of
// one slab (two per dispatch), invocations per workgroup.
const SLAB_TM = 2;
const SLAB_TN = 64;
const SLAB_KB = 128;
const SLAB_DEPTH = 2 * SLAB_KB;
const SLAB_WG = 256;
/** linear_tile's rows and columns of C per workgroup (8 x 8 invocations, 4 x 4 each). */
const TILE = 32;
const SLAB_WORKGROUP_BYTES = SLAB_TN * SLAB_KB * 4;
/**
 * A large product, where MatmulPolicy chooses: at least 2^24 multiply-adds (below, slab's one-off
 * compile of 10-20 s costs more than it saves, and tiny models never compile it) and enough rows P
 * of the output for slab's 512-row workgroups (P rows cost like ceil(P / 512) * 512). Smaller
 * products run on tile.
 */
const SLAB_MIN_MACS = 1 << 24;
const SLAB_MIN_ROWS = { forward: 96, backwardInput: 16, backwardWeight: 16 };

const policies = new WeakMap<GpuContext, MatmulPolicy>();

/** This context's choice between slab and tile for large products (src/kernels/linear_tune.ts). */
export function matmulPolicy(ctx: GpuContext): MatmulPolicy {
  let p = policies.get(ctx);
  if (!p) {
    p = new MatmulPolicy(ctx, forcedFromEnv(), slabSupported(ctx));
    policies.set(ctx, p);
  }
  return p;
}

/** Whether this adapter can run linear_slab (32 KiB workgroup memory, 256 invocations). */
export function slabSupported(ctx: GpuContext): boolean {
  const l = ctx.limits;
  return l.maxComputeWorkgroupStorageSize >= SLAB_WORKGROUP_BYTES &&
    l.maxComputeInvocationsPerWorkgroup >= SLAB_WG && l.maxComputeWorkgroupSizeX >= SLAB_WG;
}

/** out[m, col + n] = sum_k inp[m, k] w[n, k] + b[n]; other columns of out are untouched. */
export function linearForward(
  ctx: GpuContext,
  out: GpuTensor, // (M, ldo)
  inp: GpuTensor, // (M, K)
  w: GpuTensor, // (N, K)
  b: GpuTensor | null, // (N)
  dims: LinearDims,
): void {
  const d = resolve(dims);
  const variant = pickVariant(ctx, "forward", dims.variant, d, d.M);
  need(out, (d.M - 1) * d.ldo + d.col + d.N, "linearForward out");
  need(inp, d.M * d.K, "linearForward inp");
  need(w, d.N * d.K, "linearForward w");
  if (b) need(b, d.N, "linearForward b");
  // vec4 rows need K % 4 == 0; otherwise zero-padded copies (K4 columns) of both operands.
  const K4 = ceil4(d.K);
  const padded = d.K % 4 !== 0;
  const a = padded ? packWindow(ctx, inp, d.M, d.K, d.K, 0, "linear.inp_padded") : inp;
  const wk = padded ? packWindow(ctx, w, d.N, d.K, d.K, 0, "linear.w_padded") : w;
  if (d.ldo % 4 === 0 && d.col % 4 === 0 && d.N % 4 === 0) {
    const c = { t: out, ld4: d.ldo / 4, off4: d.col / 4 };
    const s = { P: d.M, Q: d.N, R: K4, bRQ: false, accumulate: false };
    slab(ctx, variant, c, { t: a, ld4: K4 / 4, off4: 0 }, { t: wk, ld4: K4 / 4 }, b, s);
  } else {
    // The window is not vec4-aligned (the vocabulary projection: ldo = V): dense column blocks,
    // then copied into the window.
    const nb = blockSize(ctx, d.M * 4, d.N);
    for (let n0 = 0; n0 < d.N; n0 += nb) {
      const n = Math.min(nb, d.N - n0);
      const tmp = ctx.empty([d.M, ceil4(n)], "linear.out_block");
      const c = { t: tmp, ld4: ceil4(n) / 4, off4: 0 };
      const bw = { t: rowsView(wk, n0, n, K4), ld4: K4 / 4 };
      const s = { P: d.M, Q: n, R: K4, bRQ: false, accumulate: false };
      slab(ctx, variant, c, { t: a, ld4: K4 / 4, off4: 0 }, bw, b && rowsView(b, n0, n, 1), s);
      unpackWindow(ctx, out, tmp, d.M, n, d.ldo, d.col + n0, false);
      ctx.release(tmp);
    }
  }
  if (padded) ctx.release(a, wk);
}

/** dinp = dout[:, col:col+N] · w, overwriting dinp, or adding to it when `accumulate`. */
export function linearBackwardInput(
  ctx: GpuContext,
  dinp: GpuTensor, // (M, K)
  dout: GpuTensor, // (M, ldo)
  w: GpuTensor, // (N, K)
  dims: LinearDims & { accumulate?: boolean },
): void {
  const d = resolve(dims);
  const accumulate = dims.accumulate ?? false;
  const variant = pickVariant(ctx, "backwardInput", dims.variant, d, d.M);
  need(dinp, d.M * d.K, "linearBackwardInput dinp");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "linearBackwardInput dout");
  need(w, d.N * d.K, "linearBackwardInput w");
  // C = dinp (M, K), A = dout window (M, N), B = w read as B[r = n][q = k].
  const K4 = ceil4(d.K);
  const padded = d.K % 4 !== 0;
  const wk = padded ? packWindow(ctx, w, d.N, d.K, d.K, 0, "linear.w_padded") : w;
  const cTmp = padded ? ctx.empty([d.M, K4], "linear.dinp_padded") : null;
  const c = { t: cTmp ?? dinp, ld4: K4 / 4, off4: 0 };
  const acc = cTmp ? false : accumulate;
  const bw = { t: wk, ld4: K4 / 4 };
  if (d.ldo % 4 === 0 && d.col % 4 === 0 && d.N % 4 === 0) {
    const a = { t: dout, ld4: d.ldo / 4, off4: d.col / 4 };
    slab(ctx, variant, c, a, bw, null, { P: d.M, Q: K4, R: d.N, bRQ: true, accumulate: acc });
  } else {
    // Unaligned window: dense zero-padded copies of column blocks of dout, summed block by block.
    const nb = blockSize(ctx, d.M * 4, d.N);
    for (let n0 = 0; n0 < d.N; n0 += nb) {
      const n = Math.min(nb, d.N - n0);
      const a = packWindow(ctx, dout, d.M, n, d.ldo, d.col + n0, "linear.dout_block");
      const ab = { t: a, ld4: ceil4(n) / 4, off4: 0 };
      const bb = { t: rowsView(wk, n0, n, K4), ld4: K4 / 4 };
      slab(ctx, variant, c, ab, bb, null, {
        P: d.M,
        Q: K4,
        R: n,
        bRQ: true,
        accumulate: acc || n0 > 0,
      });
      ctx.release(a);
    }
  }
  if (cTmp) {
    unpackWindow(ctx, dinp, cTmp, d.M, d.K, d.K, 0, accumulate);
    ctx.release(cTmp, wk);
  }
}

/** dw += dout[:, col:col+N]ᵀ · inp; db += sum over rows of the window (both accumulate). */
export function linearBackwardWeight(
  ctx: GpuContext,
  dw: GpuTensor, // (N, K)
  db: GpuTensor | null, // (N)
  dout: GpuTensor, // (M, ldo)
  inp: GpuTensor, // (M, K)
  dims: LinearDims,
): void {
  const d = resolve(dims);
  const variant = pickVariant(ctx, "backwardWeight", dims.variant, d, d.N);
  need(dw, d.N * d.K, "linearBackwardWeight dw");
  if (db) need(db, d.N, "linearBackwardWeight db");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "linearBackwardWeight dout");
  need(inp, d.M * d.K, "linearBackwardWeight inp");
  // C = dw (N, K), A = doutᵀ (N, M4: a transposed copy, which also sums db), B = inp as
  // B[r = m][q = k].
  const K4 = ceil4(d.K), M4 = ceil4(d.M);
  const padded = d.K % 4 !== 0;
  const b = padded ? packWindow(ctx, inp, d.M, d.K, d.K, 0, "linear.inp_padded") : inp;
  const nb = blockSize(ctx, Math.max(M4, K4) * 4, d.N);
  for (let n0 = 0; n0 < d.N; n0 += nb) {
    const n = Math.min(nb, d.N - n0);
    const at = ctx.empty([n, M4], "linear.doutT");
    ctx.run("linear_transpose", {
      entryPoint: db ? "colsum" : "main",
      buffers: db ? [at, dout, db] : [at, dout],
      params: { rows: d.M, cols: n, rows4: M4, ld: d.ldo, off: d.col + n0, dboff: n0 },
      workgroups: ctx.grid1d(n, 64),
    });
    const a = { t: at, ld4: M4 / 4, off4: 0 };
    const bi = { t: b, ld4: K4 / 4 };
    if (!padded) {
      const c = { t: dw, ld4: d.K / 4, off4: (n0 * d.K) / 4 };
      slab(ctx, variant, c, a, bi, null, { P: n, Q: K4, R: d.M, bRQ: true, accumulate: true });
    } else {
      const ct = ctx.empty([n, K4], "linear.dw_padded");
      const c = { t: ct, ld4: K4 / 4, off4: 0 };
      slab(ctx, variant, c, a, bi, null, { P: n, Q: K4, R: d.M, bRQ: true, accumulate: false });
      unpackWindow(ctx, dw, ct, n, d.K, d.K, n0 * d.K, true);
      ctx.release(ct);
    }
    ctx.release(at);
  }
  if (padded) ctx.release(b);
}

export interface Resolved {
  M: number;
  K: number;
  N: number;
  ldo: number;
  col: number;
}

export function resolve(d: LinearDims): Resolved {
  const r = { M: d.M, K: d.K, N: d.N, ldo: d.ldo ?? d.N, col: d.colOffset ?? 0 };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isInteger(v) || v < (k === "col" ? 0 : 1)) {
      throw new Error(
        `linear: ${k} = ${v} must be a ${k === "col" ? "non-negative" : "positive"} integer`,
      );
    }
  }
  if (r.col + r.N > r.ldo) {
    throw new Error(`linear: window [${r.col}, ${r.col + r.N}) does not fit rows of ${r.ldo}`);
  }
  return r;
}

/** The requested variant, checked; by default MatmulPolicy's for large products, else tile. */
function pickVariant(
  ctx: GpuContext,
  op: keyof typeof LINEAR_VARIANTS,
  requested: string | undefined,
  d: Resolved,
  P: number,
): string {
  const allowed: readonly string[] = LINEAR_VARIANTS[op];
  if (requested === undefined) {
    const macs = d.M * d.N * d.K;
    const big = macs >= SLAB_MIN_MACS && P >= SLAB_MIN_ROWS[op];
    return big ? matmulPolicy(ctx).choose(d.K, d.N, macs) : "tile";
  }
  if (!allowed.includes(requested)) {
    throw new Error(`linear ${op}: unknown variant '${requested}' (one of ${allowed.join(", ")})`);
  }
  if (requested === "slab" && !slabSupported(ctx)) {
    throw new Error(
      `linear ${op}: variant 'slab' needs ${SLAB_WORKGROUP_BYTES} bytes of workgroup memory and ` +
        `${SLAB_WG} invocations per workgroup; this adapter allows ` +
        `${ctx.limits.maxComputeWorkgroupStorageSize} and ` +
        `${ctx.limits.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  return requested;
}

export function need(t: GpuTensor, numel: number, what: string): void {
  if (t.numel < numel) {
    throw new Error(`${what} ('${t.label}', ${t.numel} elements) needs at least ${numel}`);
  }
}

export const ceil4 = (n: number) => Math.ceil(n / 4) * 4;

/** Rows of `cols` f32 starting at row `row0` (views start on multiples of 64 rows: aligned). */
function rowsView(t: GpuTensor, row0: number, rows: number, cols: number): GpuTensor {
  return row0 === 0 && t.numel === rows * cols ? t : t.view(row0 * cols, [rows, cols]);
}

/**
 * Columns of the window per block so that temporaries of `bytesPerColumn` per (padded) column fit
 * one storage binding: all `total`, or a multiple of 64 (which keeps row views offset-aligned).
 */
function blockSize(ctx: GpuContext, bytesPerColumn: number, total: number): number {
  if (ceil4(total) * bytesPerColumn <= ctx.maxBindingBytes) return total;
  const fit = Math.floor(ctx.maxBindingBytes / bytesPerColumn);
  if (fit < 64) {
    throw new Error(`linear: ${bytesPerColumn} bytes per column leave no room for a block`);
  }
  return fit - (fit % 64);
}

interface Operand {
  t: GpuTensor;
  ld4: number;
  off4: number;
}

/** Records linear_slab over all slabs of the reduction (see the shader header for the roles). */
function slab(
  ctx: GpuContext,
  variant: string,
  c: Operand,
  a: Operand,
  b: { t: GpuTensor; ld4: number },
  bias: GpuTensor | null,
  s: { P: number; Q: number; R: number; bRQ: boolean; accumulate: boolean },
): void {
  const params = (r0: number, overwrite: boolean) => ({
    P: s.P,
    Q: s.Q,
    R: s.R,
    lda4: a.ld4,
    aoff4: a.off4,
    ldb4: b.ld4,
    ldc4: c.ld4,
    coff4: c.off4,
    r0,
    mode: overwrite ? 0 : 1,
    has_bias: overwrite && bias ? 1 : 0,
    b_rq: s.bRQ ? 1 : 0,
  });
  if (variant === "tile") {
    ctx.run("linear_tile", {
      buffers: [c.t, a.t, b.t, bias ?? b.t],
      params: params(0, !s.accumulate),
      workgroups: [Math.ceil(s.Q / TILE), Math.ceil(s.P / TILE)],
    });
    return;
  }
  const workgroups: [number, number] = [
    Math.ceil(s.P / (SLAB_TM * SLAB_WG)),
    Math.ceil(s.Q / SLAB_TN),
  ];
  for (let r0 = 0; r0 < s.R; r0 += SLAB_DEPTH) {
    const overwrite = !s.accumulate && r0 === 0;
    ctx.run("linear_slab", {
      buffers: [c.t, a.t, b.t, bias ?? b.t],
      params: params(r0, overwrite),
      workgroups,
      overrides: { WG: SLAB_WG },
    });
  }
}

/** A dense (rows, ceil4(cols)) copy of a column window of `src`, zero-padded. */
export function packWindow(
  ctx: GpuContext,
  src: GpuTensor,
  rows: number,
  cols: number,
  ld: number,
  off: number,
  label: string,
): GpuTensor {
  const cols4 = ceil4(cols);
  const t = ctx.empty([rows, cols4], label);
  ctx.run("linear_pack", {
    buffers: [t, src],
    params: { rows, cols, cols4, ld, off, accumulate: 0 },
    workgroups: ctx.grid1d(rows * cols4, 256),
  });
  return t;
}

/** Copies (or adds) a dense (rows, ceil4(cols)) block into a column window of `dst`. */
function unpackWindow(
  ctx: GpuContext,
  dst: GpuTensor,
  dense: GpuTensor,
  rows: number,
  cols: number,
  ld: number,
  off: number,
  accumulate: boolean,
): void {
  ctx.run("linear_pack", {
    entryPoint: "unpack",
    buffers: [dst, dense],
    params: { rows, cols, cols4: ceil4(cols), ld, off, accumulate: accumulate ? 1 : 0 },
    workgroups: ctx.grid1d(rows * cols, 256),
  });
}
