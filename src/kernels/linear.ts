/**
 * Linear layer (Hugging Face layout: w is (N, K) = (out, in); y = x wᵀ + b), forward and both
 * backward products. Encode only: every function records dispatches into the context's batch.
 *
 * Column windows: `out` / `dout` may be wider than N (row stride `ldo`), with this layer owning
 * columns [colOffset, colOffset + N), so the vocabulary projection runs per chunk of a row-split
 * word-embedding matrix (src/gpu/chunked.ts) into one logits buffer.
 *
 * Variants (`dims.variant`): "slab" (the default for large products, see SLAB_MIN_MACS, on adapters
 * with 32 KiB of workgroup memory), "tiled" (forward only; the default otherwise) and "naive" (the
 * simple baseline; the backward default otherwise). The slab variant maps all three products onto
 * shaders/linear_slab.wgsl, one pipeline, with small helper passes: odd shapes (K or a window not
 * vec4-aligned) go through zero-padded dense temporaries (linear_pack), and backward-weight reads
 * dout transposed (linear_transpose, which also sums the bias gradient). Temporaries larger than
 * one storage binding are processed in column blocks.
 *
 * Measured with bench/matmul_bench.ts on llvmpipe (Mesa 22.3, LLVM 15, 256-bit; 2 AMD EPYC cores
 * shared with other jobs, load average 3-4.5), GFLOP/s wall clock / per 2 CPU-seconds; the peer is
 * PyTorch 1.13 on the CPU with 2 threads in the same conditions (its wall clock varied 34-82):
 *
 *   (M x K) . (N x K)ᵀ        forward: slab  tiled     naive*     bwd-input  bwd-weight
 *   8192 x 768 . 768 x 768   19.7 / 44      4.6 / 9.5  0.6 / 1.2  21.0 / 44  20.2 / 42
 *   8192 x 768 . 3072 x 768  21.7 / 44      5.1 / 10   0.6 / 1.2  21.6 / 45  21.4 / 42
 *   (backward: slab; * naive and the naive backward kernels (0.5-0.65) timed on 512 rows)
 *
 * Under heavier load (5-6) the slab numbers fell to 7-15 wall (24-43 per 2 CPU-s).
 */
import type { GpuContext } from "../gpu/context.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { forcedFromEnv, MatmulPolicy } from "./linear_tune.ts";

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
  forward: ["slab", "tile", "tiled", "naive"],
  backwardInput: ["slab", "tile", "tiled", "naive"],
  backwardWeight: ["slab", "tile", "tiled", "naive"],
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
 * When the default is linear_slab: a product of at least 2^24 multiply-adds (below, its one-off
 * compile of 10-20 s costs more than it saves, and tiny models never compile it) whose output has
 * enough rows P for the 512-row workgroups (P rows cost like ceil(P / 512) * 512): the tiled
 * forward kernel is ~4x slower per useful flop, the naive backward kernels ~40x.
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
  const variant = pickVariant(ctx, "forward", dims.variant, d, d.M, "tile");
  need(out, (d.M - 1) * d.ldo + d.col + d.N, "linearForward out");
  need(inp, d.M * d.K, "linearForward inp");
  need(w, d.N * d.K, "linearForward w");
  if (b) need(b, d.N, "linearForward b");
  if (variant === "naive") {
    ctx.run("linear_forward_naive", {
      buffers: [out, inp, w, b ?? w],
      u32: [d.M, d.K, d.N, d.ldo, d.col, b ? 1 : 0],
      workgroups: ctx.grid1d(d.M * d.N, 64),
    });
    return;
  }
  // vec4 rows need K % 4 == 0; otherwise zero-padded copies (K4 columns) of both operands.
  const K4 = ceil4(d.K);
  const padded = d.K % 4 !== 0;
  const a = padded ? packWindow(ctx, inp, d.M, d.K, d.K, 0, "linear.inp_padded") : inp;
  const wk = padded ? packWindow(ctx, w, d.N, d.K, d.K, 0, "linear.w_padded") : w;
  if (variant === "tiled") {
    // Aligned windows: the 8 x 8 tile with vec4 stores; otherwise 4 x 4 with scalar stores.
    const vec4 = d.N % 4 === 0 && d.ldo % 4 === 0 && d.col % 4 === 0;
    const span = vec4 ? 64 : 32; // rows (and columns) per 8 x 8 workgroup
    ctx.run("linear_forward_v2_tiled", {
      entryPoint: vec4 ? "main_vec4" : "main",
      buffers: [out, a, wk, b ?? wk],
      u32: [d.M, K4 / 4, d.N, d.ldo, d.col, b ? 1 : 0],
      workgroups: [Math.ceil(d.N / span), Math.ceil(d.M / span)],
    });
  } else if (d.ldo % 4 === 0 && d.col % 4 === 0 && d.N % 4 === 0) {
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
  const variant = pickVariant(ctx, "backwardInput", dims.variant, d, d.M, "tile");
  need(dinp, d.M * d.K, "linearBackwardInput dinp");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "linearBackwardInput dout");
  need(w, d.N * d.K, "linearBackwardInput w");
  if (variant === "naive" || variant === "tiled") {
    const tiled = variant === "tiled";
    const vec4 = tiled && aligned4(d); // main_vec4: tiles of 2 * TILE_ROWS rows
    ctx.run(`linear_backward_input_${variant}`, {
      entryPoint: vec4 ? "main_vec4" : "main",
      buffers: [dinp, dout, w],
      u32: [d.M, d.K, d.N, d.ldo, d.col, accumulate ? 1 : 0],
      workgroups: ctx.grid1d(
        tiled
          ? Math.ceil(d.M / (vec4 ? 2 * TILE_ROWS : TILE_ROWS)) * Math.ceil(d.K / TILE_COLS)
          : d.M * d.K,
        64,
      ),
    });
    return;
  }
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
  const variant = pickVariant(ctx, "backwardWeight", dims.variant, d, d.N, "tile");
  need(dw, d.N * d.K, "linearBackwardWeight dw");
  if (db) need(db, d.N, "linearBackwardWeight db");
  need(dout, (d.M - 1) * d.ldo + d.col + d.N, "linearBackwardWeight dout");
  need(inp, d.M * d.K, "linearBackwardWeight inp");
  if (variant === "naive" || variant === "tiled") {
    if (variant === "naive") {
      ctx.run("linear_backward_weight_naive", {
        buffers: [dw, dout, inp],
        u32: [d.M, d.K, d.N, d.ldo, d.col],
        workgroups: ctx.grid1d(d.N * d.K, 64),
      });
    } else if (backwardWeightTiled(ctx, dw, db, dout, inp, d)) {
      return; // the bias gradient was summed in the same dispatch
    }
    if (db) {
      ctx.run("linear_bias_grad", {
        buffers: [db, dout],
        u32: [d.M, d.N, d.ldo, d.col],
        workgroups: ctx.grid1d(d.N, 64),
      });
    }
    return;
  }
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
      u32: [d.M, n, M4, d.ldo, d.col + n0, n0],
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

interface Resolved {
  M: number;
  K: number;
  N: number;
  ldo: number;
  col: number;
}

function resolve(d: LinearDims): Resolved {
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

/**
 * The requested variant, checked; by default slab, or `small` for small products (P: rows of the
 * slab kernel's output) and for adapters without the workgroup memory.
 */
function pickVariant(
  ctx: GpuContext,
  op: keyof typeof LINEAR_VARIANTS,
  requested: string | undefined,
  d: Resolved,
  P: number,
  small: string,
): string {
  const allowed: readonly string[] = LINEAR_VARIANTS[op];
  if (requested === undefined) {
    const macs = d.M * d.N * d.K;
    const big = macs >= SLAB_MIN_MACS && P >= SLAB_MIN_ROWS[op];
    return big ? matmulPolicy(ctx).choose(d.K, d.N, macs) : small;
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

function need(t: GpuTensor, numel: number, what: string): void {
  if (t.numel < numel) {
    throw new Error(`${what} ('${t.label}', ${t.numel} elements) needs at least ${numel}`);
  }
}

const ceil4 = (n: number) => Math.ceil(n / 4) * 4;
/** Rows of dout's window and of the (N, K) weight start on 16-byte boundaries: vec4 loads. */
const aligned4 = (d: Resolved) =>
  d.K % 4 === 0 && d.N % 4 === 0 && d.ldo % 4 === 0 && d.col % 4 === 0;

// The register tile of the "tiled" backward kernels (rows x columns per invocation).
const TILE_ROWS = 4;
const TILE_COLS = 8;
/**
 * Invocations the tiled backward-weight kernel aims for: dw has only N K / 32 tiles (32 for a
 * 32 x 32 weight), too few to occupy a device, so the reduction over M is split into up to this
 * many / tiles parts (each at least MIN_SPLIT_ROWS rows) summed by a second pass.
 */
const TARGET_INVOCATIONS = 2048;
const MIN_SPLIT_ROWS = 32;

/**
 * dw += dout[:, window]ᵀ · inp with linear_backward_weight_tiled (+ linear_split_reduce). On the
 * vec4 path db (if any) is summed in the same dispatch and the result is true; otherwise false
 * and the caller sums db.
 */
function backwardWeightTiled(
  ctx: GpuContext,
  dw: GpuTensor,
  db: GpuTensor | null,
  dout: GpuTensor,
  inp: GpuTensor,
  d: Resolved,
): boolean {
  const tiles = Math.ceil(d.N / TILE_ROWS) * Math.ceil(d.K / TILE_COLS);
  const fit = Math.floor(ctx.maxBindingBytes / (4 * d.N * d.K));
  const want = Math.min(
    Math.ceil(TARGET_INVOCATIONS / tiles),
    Math.floor(d.M / MIN_SPLIT_ROWS),
    fit,
    ctx.limits.maxComputeWorkgroupsPerDimension,
  );
  const mChunk = Math.ceil(d.M / Math.max(1, want));
  const splits = Math.ceil(d.M / mChunk);
  const part = splits > 1 ? ctx.empty([splits, d.N, d.K], "linear.dw_splits") : dw;
  const vec4 = aligned4(d);
  // main_vec4's tiles have twice the rows; the splits stay those of the 4-row tiles.
  const [x, y] = ctx.grid1d(
    vec4 ? Math.ceil(d.N / (2 * TILE_ROWS)) * Math.ceil(d.K / TILE_COLS) : tiles,
    64,
  );
  const bias = vec4 && db !== null;
  // main_vec4 binds db (a scratch one when there is no bias); `main` has no such binding.
  const dbBinding = vec4 && !bias ? ctx.empty([4], "linear.no_bias") : db;
  ctx.run("linear_backward_weight_tiled", {
    entryPoint: vec4 ? "main_vec4" : "main",
    buffers: vec4 ? [part, dout, inp, dbBinding!] : [part, dout, inp],
    u32: [d.M, d.K, d.N, d.ldo, d.col, mChunk, splits > 1 ? 0 : 1, bias ? 1 : 0],
    workgroups: [x, y, splits + (bias ? 1 : 0)],
  });
  if (vec4 && !bias) ctx.release(dbBinding!);
  if (splits > 1) {
    ctx.run("linear_split_reduce", {
      buffers: [dw, part],
      u32: [d.N * d.K, splits],
      workgroups: ctx.grid1d(d.N * d.K, 256),
    });
    ctx.release(part);
  }
  return bias;
}

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
  const uniforms = (r0: number, overwrite: boolean) => [
    s.P,
    s.Q,
    s.R,
    a.ld4,
    a.off4,
    b.ld4,
    c.ld4,
    c.off4,
    r0,
    overwrite ? 0 : 1,
    overwrite && bias ? 1 : 0,
    s.bRQ ? 1 : 0,
  ];
  if (variant === "tile") {
    ctx.run("linear_tile", {
      buffers: [c.t, a.t, b.t, bias ?? b.t],
      u32: uniforms(0, !s.accumulate),
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
      u32: uniforms(r0, overwrite),
      workgroups,
      overrides: { WG: SLAB_WG },
    });
  }
}

/** A dense (rows, ceil4(cols)) copy of a column window of `src`, zero-padded. */
function packWindow(
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
    u32: [rows, cols, cols4, ld, off, 0],
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
    u32: [rows, cols, ceil4(cols), ld, off, accumulate ? 1 : 0],
    workgroups: ctx.grid1d(rows * cols, 256),
  });
}
