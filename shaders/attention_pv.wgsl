// attention_pv: out[b, r, h*HS + d] = alpha * sum_s w[(b*NH + h)*T*T + r*sr + s*ss] * y[b, s, h*HS + d]
// A per-head weighted sum of rows of y. With (sr, ss) = (T, 1) the weights are w[b,h,r,s] (the
// attention context out = att v, and dq = dS k); with (1, T) they are transposed, w[b,h,s,r]
// (dv = attᵀ dout, dk = dSᵀ q). The weights may be any values (dropped-out probabilities too).
// Summation order: each output adds its terms one at a time, s ascending, in every variant.
// Overwrites out.
// Buffers: out (B, T, C) as vec4 read_write; w (B, NH, T, T), bound twice: as f32 (w) and as vec4
// (wv), the same buffer in both; y (B, T, C) as vec4. C = NH * HS with HS % 4 == 0.
// Overrides: VEC4 (T % 4 == 0: rows of w are 16-byte aligned, weights are read as vec4) and, with
// it, TRANSPOSED ((sr, ss) = (1, T); otherwise (T, 1)); WIDE (below).
// Dispatch: grid1d(B * NH * ceil(T / 16) * ceil(HS / (WIDE ? 32 : 16)), WG). Each thread owns a
// register tile of 16 rows r by 32 columns d (8 vec4, held as two mat4x4 per row; 16 columns, one
// mat4x4, without WIDE) of one head; per step s (wide tile) it loads
// 16 weights and 8 vec4 of y for 512 FMAs. On a CPU adapter every global load is a per-lane loop,
// far dearer than an FMA or a register spill, so the tile is large and spelled out (see
// docs/KERNELS.md), and weights come as vec4 where rows are aligned: four steps s at a
// time per row, or four rows at a time per step when transposed. Rows past T and columns past HS
// are clamped for loads and never stored. No barriers.
struct Params { T: u32, NH: u32, HS: u32, sr: u32, ss: u32, B: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<vec4f>;
@group(0) @binding(4) var<storage, read> wv: array<vec4f>;
override WG: u32 = 8u;
override VEC4: bool = false;
override TRANSPOSED: bool = false;
// WIDE: the tile's columns are 8 vec4 (lo and hi); otherwise 4 (lo only, hi stays zero and is
// never loaded), for heads of at most 16 values where half the wide tile would be clamped copies.
override WIDE: bool = true;

// Eight vec4 columns of y for four consecutive steps s (lo: columns d0..d0+3, hi: d0+4..d0+7).
struct Y4 { lo0: mat4x4f, hi0: mat4x4f, lo1: mat4x4f, hi1: mat4x4f,
            lo2: mat4x4f, hi2: mat4x4f, lo3: mat4x4f, hi3: mat4x4f }

// One row's update from four steps: a holds the row's weights for those steps.
// Four steps s..s+3 added one at a time, s ascending: the same order as the scalar path, so a
// row's sum does not depend on whether T % 4 == 0 (a text scores the same in any batch).
fn step4(lo: ptr<function, mat4x4f>, hi: ptr<function, mat4x4f>, a: vec4f, ys: Y4) {
  *lo += a.x * ys.lo0;
  *lo += a.y * ys.lo1;
  *lo += a.z * ys.lo2;
  *lo += a.w * ys.lo3;
  if (WIDE) {
    *hi += a.x * ys.hi0;
    *hi += a.y * ys.hi1;
    *hi += a.z * ys.hi2;
    *hi += a.w * ys.hi3;
  }
}

fn y_row(b: u32, s: u32, c0: u32, c1: u32, c2: u32, c3: u32) -> mat4x4f {
  let yr = (b * p.T + s) * p.NH * (p.HS / 4u);
  return mat4x4f(y[yr + c0], y[yr + c1], y[yr + c2], y[yr + c3]);
}

// Writes row r's 8 vec4 columns d0..d0+7 (lo: first four, hi: last four) of head column `head`.
fn store_row(lo: mat4x4f, hi: mat4x4f, b: u32, r: u32, head: u32, d0: u32) {
  let T = p.T;
  if (r >= T) { return; }
  let HS4 = p.HS / 4u;
  let o = (b * T + r) * p.NH * HS4 + head + d0;
  for (var e = 0u; e < 4u; e++) {
    if (d0 + e < HS4) { out[o + e] = p.alpha * lo[e]; }
    if (d0 + 4u + e < HS4) { out[o + 4u + e] = p.alpha * hi[e]; }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let T = p.T;
  let HS4 = p.HS / 4u;
  let C4 = p.NH * HS4;
  let cw = select(4u, 8u, WIDE); // vec4 columns per tile
  let nd = (HS4 + cw - 1u) / cw;
  let nr = (T + 15u) / 16u;
  // Threads are numbered across (b, h) so that small heads fill whole workgroups.
  let g = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let bh = g / (nr * nd);
  if (bh >= p.B * p.NH) { return; }
  let h = bh % p.NH;
  let b = bh / p.NH;
  let t = g % (nr * nd);
  let r0 = (t / nd) * 16u;
  let d0 = (t % nd) * cw;
  let head = h * HS4;
  let wb = (b * p.NH + h) * T * T;
  let sr = p.sr;
  let last = T - 1u;
  let w0 = wb + min(r0 + 0u, last) * sr;
  let w1 = wb + min(r0 + 1u, last) * sr;
  let w2 = wb + min(r0 + 2u, last) * sr;
  let w3 = wb + min(r0 + 3u, last) * sr;
  let w4 = wb + min(r0 + 4u, last) * sr;
  let w5 = wb + min(r0 + 5u, last) * sr;
  let w6 = wb + min(r0 + 6u, last) * sr;
  let w7 = wb + min(r0 + 7u, last) * sr;
  let w8 = wb + min(r0 + 8u, last) * sr;
  let w9 = wb + min(r0 + 9u, last) * sr;
  let w10 = wb + min(r0 + 10u, last) * sr;
  let w11 = wb + min(r0 + 11u, last) * sr;
  let w12 = wb + min(r0 + 12u, last) * sr;
  let w13 = wb + min(r0 + 13u, last) * sr;
  let w14 = wb + min(r0 + 14u, last) * sr;
  let w15 = wb + min(r0 + 15u, last) * sr;
  let lastd = head + HS4 - 1u;
  let dc0 = min(head + d0 + 0u, lastd);
  let dc1 = min(head + d0 + 1u, lastd);
  let dc2 = min(head + d0 + 2u, lastd);
  let dc3 = min(head + d0 + 3u, lastd);
  let dc4 = min(head + d0 + 4u, lastd);
  let dc5 = min(head + d0 + 5u, lastd);
  let dc6 = min(head + d0 + 6u, lastd);
  let dc7 = min(head + d0 + 7u, lastd);

  // lo_u[e] accumulates row r0+u's vec4 column d0+e; hi_u[e] column d0+4+e.
  var lo0 = mat4x4f();
  var hi0 = mat4x4f();
  var lo1 = mat4x4f();
  var hi1 = mat4x4f();
  var lo2 = mat4x4f();
  var hi2 = mat4x4f();
  var lo3 = mat4x4f();
  var hi3 = mat4x4f();
  var lo4 = mat4x4f();
  var hi4 = mat4x4f();
  var lo5 = mat4x4f();
  var hi5 = mat4x4f();
  var lo6 = mat4x4f();
  var hi6 = mat4x4f();
  var lo7 = mat4x4f();
  var hi7 = mat4x4f();
  var lo8 = mat4x4f();
  var hi8 = mat4x4f();
  var lo9 = mat4x4f();
  var hi9 = mat4x4f();
  var lo10 = mat4x4f();
  var hi10 = mat4x4f();
  var lo11 = mat4x4f();
  var hi11 = mat4x4f();
  var lo12 = mat4x4f();
  var hi12 = mat4x4f();
  var lo13 = mat4x4f();
  var hi13 = mat4x4f();
  var lo14 = mat4x4f();
  var hi14 = mat4x4f();
  var lo15 = mat4x4f();
  var hi15 = mat4x4f();
  if (VEC4 && !TRANSPOSED) {
    // w[r, s..s+3] is one vec4 (T % 4 == 0).
    for (var s = 0u; s < T; s += 4u) {
      var ys: Y4;
      ys.lo0 = y_row(b, s, dc0, dc1, dc2, dc3);
      if (WIDE) { ys.hi0 = y_row(b, s, dc4, dc5, dc6, dc7); }
      ys.lo1 = y_row(b, s + 1u, dc0, dc1, dc2, dc3);
      if (WIDE) { ys.hi1 = y_row(b, s + 1u, dc4, dc5, dc6, dc7); }
      ys.lo2 = y_row(b, s + 2u, dc0, dc1, dc2, dc3);
      if (WIDE) { ys.hi2 = y_row(b, s + 2u, dc4, dc5, dc6, dc7); }
      ys.lo3 = y_row(b, s + 3u, dc0, dc1, dc2, dc3);
      if (WIDE) { ys.hi3 = y_row(b, s + 3u, dc4, dc5, dc6, dc7); }
      step4(&lo0, &hi0, wv[(w0 + s) / 4u], ys);
      step4(&lo1, &hi1, wv[(w1 + s) / 4u], ys);
      step4(&lo2, &hi2, wv[(w2 + s) / 4u], ys);
      step4(&lo3, &hi3, wv[(w3 + s) / 4u], ys);
      step4(&lo4, &hi4, wv[(w4 + s) / 4u], ys);
      step4(&lo5, &hi5, wv[(w5 + s) / 4u], ys);
      step4(&lo6, &hi6, wv[(w6 + s) / 4u], ys);
      step4(&lo7, &hi7, wv[(w7 + s) / 4u], ys);
      step4(&lo8, &hi8, wv[(w8 + s) / 4u], ys);
      step4(&lo9, &hi9, wv[(w9 + s) / 4u], ys);
      step4(&lo10, &hi10, wv[(w10 + s) / 4u], ys);
      step4(&lo11, &hi11, wv[(w11 + s) / 4u], ys);
      step4(&lo12, &hi12, wv[(w12 + s) / 4u], ys);
      step4(&lo13, &hi13, wv[(w13 + s) / 4u], ys);
      step4(&lo14, &hi14, wv[(w14 + s) / 4u], ys);
      step4(&lo15, &hi15, wv[(w15 + s) / 4u], ys);
    }
  } else if (VEC4) {
    // w[s, r0..r0+15] is four vec4; chunks past T (rows never stored) reread the last one.
    let q0 = min(r0, T - 4u);
    let q1 = min(r0 + 4u, T - 4u);
    let q2 = min(r0 + 8u, T - 4u);
    let q3 = min(r0 + 12u, T - 4u);
    for (var s = 0u; s < T; s++) {
      let ylo = y_row(b, s, dc0, dc1, dc2, dc3);
      var yhi = mat4x4f();
      if (WIDE) { yhi = y_row(b, s, dc4, dc5, dc6, dc7); }
      let ws = wb + s * T;
      let a0 = wv[(ws + q0) / 4u];
      let a1 = wv[(ws + q1) / 4u];
      let a2 = wv[(ws + q2) / 4u];
      let a3 = wv[(ws + q3) / 4u];
      lo0 += a0.x * ylo;
      lo1 += a0.y * ylo;
      lo2 += a0.z * ylo;
      lo3 += a0.w * ylo;
      lo4 += a1.x * ylo;
      lo5 += a1.y * ylo;
      lo6 += a1.z * ylo;
      lo7 += a1.w * ylo;
      lo8 += a2.x * ylo;
      lo9 += a2.y * ylo;
      lo10 += a2.z * ylo;
      lo11 += a2.w * ylo;
      lo12 += a3.x * ylo;
      lo13 += a3.y * ylo;
      lo14 += a3.z * ylo;
      lo15 += a3.w * ylo;
      if (WIDE) {
        hi0 += a0.x * yhi;
        hi1 += a0.y * yhi;
        hi2 += a0.z * yhi;
        hi3 += a0.w * yhi;
        hi4 += a1.x * yhi;
        hi5 += a1.y * yhi;
        hi6 += a1.z * yhi;
        hi7 += a1.w * yhi;
        hi8 += a2.x * yhi;
        hi9 += a2.y * yhi;
        hi10 += a2.z * yhi;
        hi11 += a2.w * yhi;
        hi12 += a3.x * yhi;
        hi13 += a3.y * yhi;
        hi14 += a3.z * yhi;
        hi15 += a3.w * yhi;
      }
    }
  } else {
      for (var s = 0u; s < T; s++) {
      let yr = (b * T + s) * C4;
      let ylo = mat4x4f(y[yr + dc0], y[yr + dc1], y[yr + dc2], y[yr + dc3]);
      var yhi = mat4x4f();
      if (WIDE) { yhi = mat4x4f(y[yr + dc4], y[yr + dc5], y[yr + dc6], y[yr + dc7]); }
      let ws = s * p.ss;
      let a0 = w[w0 + ws];
      lo0 += a0 * ylo;
      let a1 = w[w1 + ws];
      lo1 += a1 * ylo;
      let a2 = w[w2 + ws];
      lo2 += a2 * ylo;
      let a3 = w[w3 + ws];
      lo3 += a3 * ylo;
      let a4 = w[w4 + ws];
      lo4 += a4 * ylo;
      let a5 = w[w5 + ws];
      lo5 += a5 * ylo;
      let a6 = w[w6 + ws];
      lo6 += a6 * ylo;
      let a7 = w[w7 + ws];
      lo7 += a7 * ylo;
      let a8 = w[w8 + ws];
      lo8 += a8 * ylo;
      let a9 = w[w9 + ws];
      lo9 += a9 * ylo;
      let a10 = w[w10 + ws];
      lo10 += a10 * ylo;
      let a11 = w[w11 + ws];
      lo11 += a11 * ylo;
      let a12 = w[w12 + ws];
      lo12 += a12 * ylo;
      let a13 = w[w13 + ws];
      lo13 += a13 * ylo;
      let a14 = w[w14 + ws];
      lo14 += a14 * ylo;
      let a15 = w[w15 + ws];
      lo15 += a15 * ylo;
      if (WIDE) {
        hi0 += a0 * yhi;
        hi1 += a1 * yhi;
        hi2 += a2 * yhi;
        hi3 += a3 * yhi;
        hi4 += a4 * yhi;
        hi5 += a5 * yhi;
        hi6 += a6 * yhi;
        hi7 += a7 * yhi;
        hi8 += a8 * yhi;
        hi9 += a9 * yhi;
        hi10 += a10 * yhi;
        hi11 += a11 * yhi;
        hi12 += a12 * yhi;
        hi13 += a13 * yhi;
        hi14 += a14 * yhi;
        hi15 += a15 * yhi;
      }
    }
  }

  store_row(lo0, hi0, b, r0 + 0u, head, d0);
  store_row(lo1, hi1, b, r0 + 1u, head, d0);
  store_row(lo2, hi2, b, r0 + 2u, head, d0);
  store_row(lo3, hi3, b, r0 + 3u, head, d0);
  store_row(lo4, hi4, b, r0 + 4u, head, d0);
  store_row(lo5, hi5, b, r0 + 5u, head, d0);
  store_row(lo6, hi6, b, r0 + 6u, head, d0);
  store_row(lo7, hi7, b, r0 + 7u, head, d0);
  store_row(lo8, hi8, b, r0 + 8u, head, d0);
  store_row(lo9, hi9, b, r0 + 9u, head, d0);
  store_row(lo10, hi10, b, r0 + 10u, head, d0);
  store_row(lo11, hi11, b, r0 + 11u, head, d0);
  store_row(lo12, hi12, b, r0 + 12u, head, d0);
  store_row(lo13, hi13, b, r0 + 13u, head, d0);
  store_row(lo14, hi14, b, r0 + 14u, head, d0);
  store_row(lo15, hi15, b, r0 + 15u, head, d0);
}
