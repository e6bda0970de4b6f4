// linear_slab: C[p, q] (= or +=) sum over r in [r0, r0 + 2 KB) of A[p, r] * B(q, r), plus bias[q]
// when overwriting: two slabs of the reduction per dispatch. The CPU adapters' kernel for large
// products (linear_tile is its GPU-style twin, with the same result bits); src/kernels/linear.ts
// maps each op onto it:
//   forward          C = out (M, N),  A = inp (M, K),   B = w (N, K)   as B[q][r]  (b_rq = 0)
//   backward input   C = dinp (M, K), A = dout (M, N),  B = w (N, K)   as B[r][q]  (b_rq = 1)
//   backward weight  C = dw (N, K),   A = doutT (N, M), B = inp (M, K) as B[r][q]  (b_rq = 1)
// Buffers (vec4-aligned; the wrapper packs odd shapes into aligned temporaries first):
//   c    (P rows; row stride ldc4 vec4, first column coff4 vec4; Q % 4 == 0 or the columns past Q
//        are scratch): overwritten (mode 0, + bias when has_bias) or accumulated (mode 1)
//   a    (P rows; row stride lda4 vec4, first column aoff4 vec4; ceil(R / 4) vec4 per row, finite)
//   b    b_rq = 0: (Q, R), row stride ldb4 vec4, R % 4 == 0; b_rq = 1: (R, Q), Q % 4 == 0
//   bias (Q) read only when has_bias == 1; any read-only buffer otherwise
// Dispatch: (ceil(P / (TM * WG)), ceil(Q / TN)) for r0 = 0, 2 KB, 4 KB, ... in order (mode 0 only
// on the first when overwriting). Each invocation owns TM rows x TN columns of C; a workgroup owns
// TM * WG rows x TN columns.
//
// Why this shape (llvmpipe, Mesa 22.3, 8-wide SIMD across invocations): a storage load or store
// whose address differs per invocation compiles to a scalar loop over the 8 lanes (~300
// instructions per vec4; stores cost more), while a workgroup-memory load at a compile-time-
// constant index outside any loop or branch is one broadcast. So the workgroup stages a TN x KB
// tile of B in workgroup memory (a barrier per slab), each invocation loads its TM x KB values
// of A, and the TM * TN * KB multiply-adds are straight-line code reading the tile at constant
// indices.
// The helpers below take constant arguments and are inlined, which unrolls them: NIR leaves such
// loops rolled, and inside a loop every tile read becomes a per-lane loop again. Two slabs per
// dispatch halve the read-modify-writes of C. The price is compile time: ~10-20 s of LLVM for
// this one pipeline, once per process, so every op shares it (b_rq is a uniform, not an override)
// and the wrapper uses it only for large products. Measurements and what was tried:
// docs/KERNELS.md.
// Summation order per output: r ascending within a dispatch, dispatches in order; fixed, so results
// are bit-identical run to run.

// Uniforms and bindings: shaders/linear_operands.wgsl (prepended by src/shaders.ts).

const TM = 2u; // rows of C per thread
const TN = 64u; // columns of C per workgroup (and per thread)
const KB = 128u; // slab depth: KB * TN * 4 bytes = 32 KiB of workgroup memory
const KQ = KB / 4u; // vec4s of A per row per slab
const JQ = TN / 4u; // vec4s of C per row
override WG: u32 = 256u; // a power of two, at most 512

// tile[j * KQ + s] = (B(q0 + j, r0 + 4s), ..., B(q0 + j, r0 + 4s + 3)), zero past R
var<workgroup> tile: array<vec4f, TN * KQ>;
var<private> av: array<vec4f, TM * KQ>; // av[i * KQ + s] = A[p0 + i][r0 + 4s .. 4s + 3]
var<private> acc: array<f32, TM * TN>; // acc[i * TN + j] = C[p0 + i][q0 + j] of this dispatch

// Four reduction steps of column j for both rows.
fn col(j: u32, s: u32) {
  let v = tile[j * KQ + s];
  let a0 = av[s];
  let a1 = av[KQ + s];
  acc[j] = fma(a0.x, v.x, acc[j]);
  acc[TN + j] = fma(a1.x, v.x, acc[TN + j]);
  acc[j] = fma(a0.y, v.y, acc[j]);
  acc[TN + j] = fma(a1.y, v.y, acc[TN + j]);
  acc[j] = fma(a0.z, v.z, acc[j]);
  acc[TN + j] = fma(a1.z, v.z, acc[TN + j]);
  acc[j] = fma(a0.w, v.w, acc[j]);
  acc[TN + j] = fma(a1.w, v.w, acc[TN + j]);
}

// Eight columns side by side (16 independent accumulator chains keep the adders busy).
fn cols8(j0: u32, s: u32) {
  col(j0, s);
  col(j0 + 1u, s);
  col(j0 + 2u, s);
  col(j0 + 3u, s);
  col(j0 + 4u, s);
  col(j0 + 5u, s);
  col(j0 + 6u, s);
  col(j0 + 7u, s);
}

fn cols8x8(j0: u32, s0: u32) {
  cols8(j0, s0);
  cols8(j0, s0 + 1u);
  cols8(j0, s0 + 2u);
  cols8(j0, s0 + 3u);
  cols8(j0, s0 + 4u);
  cols8(j0, s0 + 5u);
  cols8(j0, s0 + 6u);
  cols8(j0, s0 + 7u);
}

// Eight columns over the whole slab (KQ = 32 vec4 steps).
fn slab8(j0: u32) {
  cols8x8(j0, 0u);
  cols8x8(j0, 8u);
  cols8x8(j0, 16u);
  cols8x8(j0, 24u);
}

fn load_a8(i: u32, row: u32, valid: u32, s0: u32) {
  load_a(i, row, valid, s0);
  load_a(i, row, valid, s0 + 1u);
  load_a(i, row, valid, s0 + 2u);
  load_a(i, row, valid, s0 + 3u);
  load_a(i, row, valid, s0 + 4u);
  load_a(i, row, valid, s0 + 5u);
  load_a(i, row, valid, s0 + 6u);
  load_a(i, row, valid, s0 + 7u);
}

// av[i * KQ + s] = A[row][4s .. 4s + 3] for s < valid, else zero (`row` is a vec4 index).
fn load_a(i: u32, row: u32, valid: u32, s: u32) {
  let v = a[row + min(s, max(valid, 1u) - 1u)];
  av[i * KQ + s] = select(vec4f(0.0), v, s < valid);
}

// Row pi of A (clamped into range) over the slab starting at r0 (zero past R).
fn load_rows(i: u32, pi: u32, r0: u32, u: Uniforms) {
  let nv = (u.R + 3u) / 4u; // vec4s per row of A
  let rv = min(r0 / 4u, nv - 1u);
  let row = min(pi, u.P - 1u) * u.lda4 + u.aoff4 + rv;
  let valid = select(0u, min(KQ, nv - rv), r0 < u.R);
  load_a8(i, row, valid, 0u);
  load_a8(i, row, valid, 8u);
  load_a8(i, row, valid, 16u);
  load_a8(i, row, valid, 24u);
}

fn store4(i: u32, pi: u32, q0: u32, t: u32, u: Uniforms) {
  if (q0 + 4u * t >= u.Q) {
    return;
  }
  let j = 4u * t;
  var v = vec4f(acc[i * TN + j], acc[i * TN + j + 1u], acc[i * TN + j + 2u], acc[i * TN + j + 3u]);
  let o = pi * u.ldc4 + u.coff4 + q0 / 4u + t;
  if (u.mode == 1u) {
    c[o] += v;
  } else {
    if (u.has_bias == 1u) {
      let q = q0 + j;
      let last = u.Q - 1u;
      let b1 = bias[min(q + 1u, last)];
      let b2 = bias[min(q + 2u, last)];
      let b3 = bias[min(q + 3u, last)];
      v += vec4f(bias[q], b1, b2, b3);
    }
    c[o] = v;
  }
}

fn store_row(i: u32, pi: u32, q0: u32, u: Uniforms) {
  if (pi >= u.P) {
    return;
  }
  store4(i, pi, q0, 0u, u);
  store4(i, pi, q0, 1u, u);
  store4(i, pi, q0, 2u, u);
  store4(i, pi, q0, 3u, u);
  store4(i, pi, q0, 4u, u);
  store4(i, pi, q0, 5u, u);
  store4(i, pi, q0, 6u, u);
  store4(i, pi, q0, 7u, u);
  store4(i, pi, q0, 8u, u);
  store4(i, pi, q0, 9u, u);
  store4(i, pi, q0, 10u, u);
  store4(i, pi, q0, 11u, u);
  store4(i, pi, q0, 12u, u);
  store4(i, pi, q0, 13u, u);
  store4(i, pi, q0, 14u, u);
  store4(i, pi, q0, 15u, u);
}

// Stage the B tile of the slab at r0 in 4 x 4 blocks (block (s, t): reduction vec4 s, column vec4
// t). Rows of B past its end are clamped; what they read is multiplied by zero or lands in
// columns that are never stored.
fn fill(lid: u32, q0: u32, r0: u32, u: Uniforms) {
  for (var f = 0u; f < KQ * JQ / WG; f++) {
    let blk = lid + f * WG;
    let s = blk / JQ;
    let t = blk % JQ;
    let r = r0 + 4u * s; // first reduction index of the block
    var v0: vec4f;
    var v1: vec4f;
    var v2: vec4f;
    var v3: vec4f;
    if (u.b_rq == 1u) {
      // B rows are r: read four rows of 4 columns and transpose.
      let col = min(q0 / 4u + t, u.Q / 4u - 1u);
      let x0 = select(vec4f(0.0), b[min(r, u.R - 1u) * u.ldb4 + col], r < u.R);
      let x1 = select(vec4f(0.0), b[min(r + 1u, u.R - 1u) * u.ldb4 + col], r + 1u < u.R);
      let x2 = select(vec4f(0.0), b[min(r + 2u, u.R - 1u) * u.ldb4 + col], r + 2u < u.R);
      let x3 = select(vec4f(0.0), b[min(r + 3u, u.R - 1u) * u.ldb4 + col], r + 3u < u.R);
      v0 = vec4f(x0.x, x1.x, x2.x, x3.x);
      v1 = vec4f(x0.y, x1.y, x2.y, x3.y);
      v2 = vec4f(x0.z, x1.z, x2.z, x3.z);
      v3 = vec4f(x0.w, x1.w, x2.w, x3.w);
    } else {
      // B rows are q: one vec4 along r from each of four rows.
      let rv = min(r / 4u, u.R / 4u - 1u);
      let j = q0 + 4u * t;
      let zero = r >= u.R;
      v0 = select(b[min(j, u.Q - 1u) * u.ldb4 + rv], vec4f(0.0), zero);
      v1 = select(b[min(j + 1u, u.Q - 1u) * u.ldb4 + rv], vec4f(0.0), zero);
      v2 = select(b[min(j + 2u, u.Q - 1u) * u.ldb4 + rv], vec4f(0.0), zero);
      v3 = select(b[min(j + 3u, u.Q - 1u) * u.ldb4 + rv], vec4f(0.0), zero);
    }
    tile[(4u * t) * KQ + s] = v0;
    tile[(4u * t + 1u) * KQ + s] = v1;
    tile[(4u * t + 2u) * KQ + s] = v2;
    tile[(4u * t + 3u) * KQ + s] = v3;
  }
}

// TM x TN multiply-adds per reduction step over the staged slab, straight-line.
fn compute() {
  slab8(0u);
  slab8(8u);
  slab8(16u);
  slab8(24u);
  slab8(32u);
  slab8(40u);
  slab8(48u);
  slab8(56u);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  // Read the uniforms once, here: a uniform read inside a branch or loop becomes an 8-lane gather.
  let u = p;
  let q0 = wid.y * TN;
  let p0 = (wid.x * WG + lid) * TM;
  fill(lid, q0, u.r0, u);
  workgroupBarrier();
  load_rows(0u, p0, u.r0, u);
  load_rows(1u, p0 + 1u, u.r0, u);
  compute();
  workgroupBarrier();
  fill(lid, q0, u.r0 + KB, u);
  workgroupBarrier();
  load_rows(0u, p0, u.r0 + KB, u);
  load_rows(1u, p0 + 1u, u.r0 + KB, u);
  compute();
  store_row(0u, p0, q0, u);
  store_row(1u, p0 + 1u, q0, u);
}
