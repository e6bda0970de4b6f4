// attention_scores: att[b,h,i,j] = softmax_j(scale * q[b,i,h*HS:(h+1)*HS] . k[b,j,h*HS:(h+1)*HS]
//                                           + mask_add[b,j])
// Overwrites att. Scores are clamped to the lowest finite f32, so a -inf mask never makes NaN (a
// row whose keys are all masked comes out uniform).
// Buffers: att (B, NH, T, T) read_write, bound twice: as f32 (att) and as vec4 (att4); the override
// VEC4 (T % 4 == 0) picks the view the pipeline uses and the other binding gets a dummy buffer;
// q, k (B, T, C) as vec4 (C = NH * HS, HS % 4 == 0); mask_add (B, T).
// Dispatch: grid1d(B * NH * ceil(T / 16), WG). Each thread owns 16 query rows of one (b, h). It walks
// the keys in blocks of 16, computing a 16 x 16 register tile of dot products (q and k read as vec4
// along the head dimension: 32 vec4 loads feed 1024 FMAs), writes the scaled, masked scores and
// folds them into a running max and sum per row (online softmax); a second pass walks each of its
// rows from left to right turning scores into probabilities. On a CPU adapter every global load
// is a per-lane loop, far dearer than an FMA or a register spill, so the tile is large and spelled
// out (see docs/KERNELS.md), and att moves as vec4 where rows are 16-byte
// aligned (scalar stores of scores cost as much as the whole product). Rows and keys past T are
// clamped to T - 1: they recompute row/key T - 1, their stores rewrite the same values there (from
// the same thread), and they are left out of the softmax and the second pass. No barriers.
struct Params { T: u32, NH: u32, HS: u32, B: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> att: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> mask_add: array<f32>;
@group(0) @binding(5) var<storage, read_write> att4: array<vec4f>;
override WG: u32 = 8u;
override VEC4: bool = false;
const LOWEST = -3.4028235e38;

fn max4(v: vec4f) -> f32 {
  return max(max(v.x, v.y), max(v.z, v.w));
}

// One row's block of 16 keys: c holds the raw dot products, mk the mask values, `nvalid` how many
// of the 16 keys exist (keys past them repeat key T - 1), `o` the att index of the block's first
// key. Stores the scaled, masked scores and returns the row's running (max, sum of exp(score - max))
// after the block.
fn fold(st: vec2f, c: mat4x4f, mk: mat4x4f, nvalid: u32, o: u32) -> vec2f {
  let lowest = vec4f(LOWEST);
  let r0 = max(c[0] * p.scale + mk[0], lowest);
  let r1 = max(c[1] * p.scale + mk[1], lowest);
  let r2 = max(c[2] * p.scale + mk[2], lowest);
  let r3 = max(c[3] * p.scale + mk[3], lowest);
  if (VEC4) {
    // nvalid is a multiple of 4 here; a vec4 past it would spill into the next row.
    let o4 = o / 4u;
    att4[o4] = r0;
    if (nvalid > 4u) { att4[o4 + 1u] = r1; }
    if (nvalid > 8u) { att4[o4 + 2u] = r2; }
    if (nvalid > 12u) { att4[o4 + 3u] = r3; }
  } else {
    for (var x = 0u; x < 4u; x++) {
      if (x < nvalid) { att[o + x] = r0[x]; }
      if (4u + x < nvalid) { att[o + 4u + x] = r1[x]; }
      if (8u + x < nvalid) { att[o + 8u + x] = r2[x]; }
      if (12u + x < nvalid) { att[o + 12u + x] = r3[x]; }
    }
  }
  let lane = vec4u(0u, 1u, 2u, 3u);
  let n = vec4u(nvalid);
  let v0 = lane < n;
  let v1 = lane + 4u < n;
  let v2 = lane + 8u < n;
  let v3 = lane + 12u < n;
  let s0 = select(lowest, r0, v0);
  let s1 = select(lowest, r1, v1);
  let s2 = select(lowest, r2, v2);
  let s3 = select(lowest, r3, v3);
  let m = max(st.x, max(max(max4(s0), max4(s1)), max(max4(s2), max4(s3))));
  let zero = vec4f(0.0);
  let e = select(zero, exp(s0 - m), v0) + select(zero, exp(s1 - m), v1) +
    select(zero, exp(s2 - m), v2) + select(zero, exp(s3 - m), v3);
  return vec2f(m, st.y * exp(st.x - m) + dot(e, vec4f(1.0)));
}

// T, taken from the mask's binding (exactly B * T values) rather than from p.T: llvmpipe compiles
// variants with uniforms that bound loops inlined as constants, which made the vec4 path far
// slower (docs/KERNELS.md). A binding's length is never inlined. p.T still holds T (unused).
fn seq_len() -> u32 {
  return arrayLength(&mask_add) / p.B;
}

// Second pass over one row starting at att index o: score -> exp(score - max) / sum, where st is
// (max, sum). Rows past T are skipped (they alias row T - 1).
fn finish_row(o: u32, st: vec2f, row_ok: bool) {
  if (!row_ok) { return; }
  let T = seq_len();
  let inv = 1.0 / st.y; // >= 1: the row's maximum contributes exp(0)
  if (VEC4) {
    let o4 = o / 4u;
    for (var j = 0u; j < T / 4u; j++) { att4[o4 + j] = exp(att4[o4 + j] - st.x) * inv; }
  } else {
    for (var j = 0u; j < T; j++) { att[o + j] = exp(att[o + j] - st.x) * inv; }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let T = seq_len();
  // Threads are numbered across (b, h) so that small heads fill whole workgroups.
  let g = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let bh = g / ((T + 15u) / 16u);
  if (bh >= p.B * p.NH) { return; }
  let h = bh % p.NH;
  let b = bh / p.NH;
  let i0 = (g % ((T + 15u) / 16u)) * 16u;
  let HS4 = p.HS / 4u;
  let C4 = p.NH * HS4;
  let row0 = b * T;
  let head = h * HS4;
  let last = T - 1u;
  let x0 = (row0 + min(i0 + 0u, last)) * C4 + head;
  let x1 = (row0 + min(i0 + 1u, last)) * C4 + head;
  let x2 = (row0 + min(i0 + 2u, last)) * C4 + head;
  let x3 = (row0 + min(i0 + 3u, last)) * C4 + head;
  let x4 = (row0 + min(i0 + 4u, last)) * C4 + head;
  let x5 = (row0 + min(i0 + 5u, last)) * C4 + head;
  let x6 = (row0 + min(i0 + 6u, last)) * C4 + head;
  let x7 = (row0 + min(i0 + 7u, last)) * C4 + head;
  let x8 = (row0 + min(i0 + 8u, last)) * C4 + head;
  let x9 = (row0 + min(i0 + 9u, last)) * C4 + head;
  let x10 = (row0 + min(i0 + 10u, last)) * C4 + head;
  let x11 = (row0 + min(i0 + 11u, last)) * C4 + head;
  let x12 = (row0 + min(i0 + 12u, last)) * C4 + head;
  let x13 = (row0 + min(i0 + 13u, last)) * C4 + head;
  let x14 = (row0 + min(i0 + 14u, last)) * C4 + head;
  let x15 = (row0 + min(i0 + 15u, last)) * C4 + head;
  let base = (b * p.NH + h) * T * T; // att index of (0, 0) of this head
  let ok0 = i0 + 0u < T;
  let ok1 = i0 + 1u < T;
  let ok2 = i0 + 2u < T;
  let ok3 = i0 + 3u < T;
  let ok4 = i0 + 4u < T;
  let ok5 = i0 + 5u < T;
  let ok6 = i0 + 6u < T;
  let ok7 = i0 + 7u < T;
  let ok8 = i0 + 8u < T;
  let ok9 = i0 + 9u < T;
  let ok10 = i0 + 10u < T;
  let ok11 = i0 + 11u < T;
  let ok12 = i0 + 12u < T;
  let ok13 = i0 + 13u < T;
  let ok14 = i0 + 14u < T;
  let ok15 = i0 + 15u < T;

  // Per row: (running max, running sum).
  let start = vec2f(LOWEST, 0.0);
  var st0 = start;
  var st1 = start;
  var st2 = start;
  var st3 = start;
  var st4 = start;
  var st5 = start;
  var st6 = start;
  var st7 = start;
  var st8 = start;
  var st9 = start;
  var st10 = start;
  var st11 = start;
  var st12 = start;
  var st13 = start;
  var st14 = start;
  var st15 = start;

  for (var j0 = 0u; j0 < T; j0 += 16u) {
    let y0 = (row0 + min(j0 + 0u, last)) * C4 + head;
    let y1 = (row0 + min(j0 + 1u, last)) * C4 + head;
    let y2 = (row0 + min(j0 + 2u, last)) * C4 + head;
    let y3 = (row0 + min(j0 + 3u, last)) * C4 + head;
    let y4 = (row0 + min(j0 + 4u, last)) * C4 + head;
    let y5 = (row0 + min(j0 + 5u, last)) * C4 + head;
    let y6 = (row0 + min(j0 + 6u, last)) * C4 + head;
    let y7 = (row0 + min(j0 + 7u, last)) * C4 + head;
    let y8 = (row0 + min(j0 + 8u, last)) * C4 + head;
    let y9 = (row0 + min(j0 + 9u, last)) * C4 + head;
    let y10 = (row0 + min(j0 + 10u, last)) * C4 + head;
    let y11 = (row0 + min(j0 + 11u, last)) * C4 + head;
    let y12 = (row0 + min(j0 + 12u, last)) * C4 + head;
    let y13 = (row0 + min(j0 + 13u, last)) * C4 + head;
    let y14 = (row0 + min(j0 + 14u, last)) * C4 + head;
    let y15 = (row0 + min(j0 + 15u, last)) * C4 + head;
    // c_u[x][e] accumulates q_(i0+u) . k_(j0+4x+e). Zeroed explicitly on every block: an
    // implicitly zero-initialised `var` inside a loop is not re-zeroed per trip here.
    var c0 = mat4x4f();
    var c1 = mat4x4f();
    var c2 = mat4x4f();
    var c3 = mat4x4f();
    var c4 = mat4x4f();
    var c5 = mat4x4f();
    var c6 = mat4x4f();
    var c7 = mat4x4f();
    var c8 = mat4x4f();
    var c9 = mat4x4f();
    var c10 = mat4x4f();
    var c11 = mat4x4f();
    var c12 = mat4x4f();
    var c13 = mat4x4f();
    var c14 = mat4x4f();
    var c15 = mat4x4f();
    for (var d = 0u; d < HS4; d++) {
      // vec4 * mat4x4 gives the four dot products with the matrix's columns (four keys).
      let k0 = mat4x4f(k[y0 + d], k[y1 + d], k[y2 + d], k[y3 + d]);
      let k1 = mat4x4f(k[y4 + d], k[y5 + d], k[y6 + d], k[y7 + d]);
      let k2 = mat4x4f(k[y8 + d], k[y9 + d], k[y10 + d], k[y11 + d]);
      let k3 = mat4x4f(k[y12 + d], k[y13 + d], k[y14 + d], k[y15 + d]);
      { let a = q[x0 + d]; c0 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x1 + d]; c1 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x2 + d]; c2 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x3 + d]; c3 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x4 + d]; c4 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x5 + d]; c5 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x6 + d]; c6 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x7 + d]; c7 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x8 + d]; c8 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x9 + d]; c9 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x10 + d]; c10 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x11 + d]; c11 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x12 + d]; c12 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x13 + d]; c13 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x14 + d]; c14 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
      { let a = q[x15 + d]; c15 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    }
    let mk = mat4x4f(
      vec4f(mask_add[row0 + min(j0 + 0u, last)], mask_add[row0 + min(j0 + 1u, last)],
            mask_add[row0 + min(j0 + 2u, last)], mask_add[row0 + min(j0 + 3u, last)]),
      vec4f(mask_add[row0 + min(j0 + 4u, last)], mask_add[row0 + min(j0 + 5u, last)],
            mask_add[row0 + min(j0 + 6u, last)], mask_add[row0 + min(j0 + 7u, last)]),
      vec4f(mask_add[row0 + min(j0 + 8u, last)], mask_add[row0 + min(j0 + 9u, last)],
            mask_add[row0 + min(j0 + 10u, last)], mask_add[row0 + min(j0 + 11u, last)]),
      vec4f(mask_add[row0 + min(j0 + 12u, last)], mask_add[row0 + min(j0 + 13u, last)],
            mask_add[row0 + min(j0 + 14u, last)], mask_add[row0 + min(j0 + 15u, last)]),
    );
    let nv = min(16u, T - j0);
    st0 = fold(st0, c0, mk, nv, base + min(i0 + 0u, last) * T + j0);
    st1 = fold(st1, c1, mk, nv, base + min(i0 + 1u, last) * T + j0);
    st2 = fold(st2, c2, mk, nv, base + min(i0 + 2u, last) * T + j0);
    st3 = fold(st3, c3, mk, nv, base + min(i0 + 3u, last) * T + j0);
    st4 = fold(st4, c4, mk, nv, base + min(i0 + 4u, last) * T + j0);
    st5 = fold(st5, c5, mk, nv, base + min(i0 + 5u, last) * T + j0);
    st6 = fold(st6, c6, mk, nv, base + min(i0 + 6u, last) * T + j0);
    st7 = fold(st7, c7, mk, nv, base + min(i0 + 7u, last) * T + j0);
    st8 = fold(st8, c8, mk, nv, base + min(i0 + 8u, last) * T + j0);
    st9 = fold(st9, c9, mk, nv, base + min(i0 + 9u, last) * T + j0);
    st10 = fold(st10, c10, mk, nv, base + min(i0 + 10u, last) * T + j0);
    st11 = fold(st11, c11, mk, nv, base + min(i0 + 11u, last) * T + j0);
    st12 = fold(st12, c12, mk, nv, base + min(i0 + 12u, last) * T + j0);
    st13 = fold(st13, c13, mk, nv, base + min(i0 + 13u, last) * T + j0);
    st14 = fold(st14, c14, mk, nv, base + min(i0 + 14u, last) * T + j0);
    st15 = fold(st15, c15, mk, nv, base + min(i0 + 15u, last) * T + j0);
  }

  let o = base + i0 * T;
  finish_row(o, st0, ok0);
  finish_row(o + T, st1, ok1);
  finish_row(o + 2u * T, st2, ok2);
  finish_row(o + 3u * T, st3, ok3);
  finish_row(o + 4u * T, st4, ok4);
  finish_row(o + 5u * T, st5, ok5);
  finish_row(o + 6u * T, st6, ok6);
  finish_row(o + 7u * T, st7, ok7);
  finish_row(o + 8u * T, st8, ok8);
  finish_row(o + 9u * T, st9, ok9);
  finish_row(o + 10u * T, st10, ok10);
  finish_row(o + 11u * T, st11, ok11);
  finish_row(o + 12u * T, st12, ok12);
  finish_row(o + 13u * T, st13, ok13);
  finish_row(o + 14u * T, st14, ok14);
  finish_row(o + 15u * T, st15, ok15);
}
