// linear_forward_v2_tiled: out[m, col + n] = sum_k inp[m, k] * w[n, k] (+ bias[n]) with a 4 x 4
// register tile per invocation (main_vec4: 8 x 8) and vec4 loads along K (dev variant "tiled",
// bench/dev/linear_dev.ts; no adapter chooses it since linear_tile exists). No
// workgroup memory and no barriers. Each output: k ascending in vec4 steps, x, y, z, w summed as
// dot() then added.
// Buffers: out (M, ldo) overwritten in columns [col, col + N) only; inp (M, K4 vec4); w (N, K4
// vec4) (K padded to a multiple of 4 with zeros by the wrapper when needed); bias (N), read only when
// has_bias == 1. Entry points: `main` (any N, ldo, col; scalar stores), dispatch (ceil(N / 32),
// ceil(M / 32)) workgroups of 8 x 8; `main_vec4` (N, ldo and col multiples of 4) an 8 x 8 tile per
// invocation with vec4 stores and bias loads, dispatch (ceil(N / 64), ceil(M / 64)).
// Measurements and the larger tiles tried: docs/KERNELS.md.
struct Params { M: u32, K4: u32, N: u32, ldo: u32, col: u32, has_bias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<vec4f>;
@group(0) @binding(3) var<storage, read> w: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// main_vec4's views of out and bias.
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias4: array<vec4f>;

fn store(m: u32, n: u32, v: f32) {
  if (m < p.M && n < p.N) {
    var s = v;
    if (p.has_bias == 1u) {
      s += bias[n];
    }
    out[m * p.ldo + p.col + n] = s;
  }
}

fn store_row(m: u32, n0: u32, v: vec4f) {
  store(m, n0, v.x);
  store(m, n0 + 1u, v.y);
  store(m, n0 + 2u, v.z);
  store(m, n0 + 3u, v.w);
}

// The 4 x 4 tile at rows m0.., columns n0..: row u of the result is column u of the matrix.
fn tile(m0: u32, n0: u32) -> mat4x4f {
  // Rows past the end are clamped (their results are never stored).
  let a0 = min(m0, p.M - 1u) * p.K4;
  let a1 = min(m0 + 1u, p.M - 1u) * p.K4;
  let a2 = min(m0 + 2u, p.M - 1u) * p.K4;
  let a3 = min(m0 + 3u, p.M - 1u) * p.K4;
  let b0 = min(n0, p.N - 1u) * p.K4;
  let b1 = min(n0 + 1u, p.N - 1u) * p.K4;
  let b2 = min(n0 + 2u, p.N - 1u) * p.K4;
  let b3 = min(n0 + 3u, p.N - 1u) * p.K4;
  var c0 = vec4f(0.0);
  var c1 = vec4f(0.0);
  var c2 = vec4f(0.0);
  var c3 = vec4f(0.0);
  for (var k = 0u; k < p.K4; k++) {
    let x0 = inp[a0 + k];
    let x1 = inp[a1 + k];
    let x2 = inp[a2 + k];
    let x3 = inp[a3 + k];
    let y0 = w[b0 + k];
    let y1 = w[b1 + k];
    let y2 = w[b2 + k];
    let y3 = w[b3 + k];
    c0 += vec4f(dot(x0, y0), dot(x0, y1), dot(x0, y2), dot(x0, y3));
    c1 += vec4f(dot(x1, y0), dot(x1, y1), dot(x1, y2), dot(x1, y3));
    c2 += vec4f(dot(x2, y0), dot(x2, y1), dot(x2, y2), dot(x2, y3));
    c3 += vec4f(dot(x3, y0), dot(x3, y1), dot(x3, y2), dot(x3, y3));
  }
  return mat4x4f(c0, c1, c2, c3);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= p.N || m0 >= p.M) {
    return;
  }
  let c = tile(m0, n0);
  store_row(m0, n0, c[0]);
  store_row(m0 + 1u, n0, c[1]);
  store_row(m0 + 2u, n0, c[2]);
  store_row(m0 + 3u, n0, c[3]);
}

// main_vec4's 8 x 8 tile: rows m0..m0+7 (clamped to M - 1 for loads, never stored past M) and
// columns n0..n0+7 as two vec4 groups (N % 4 == 0: the second group is wholly in or out). Each
// output is the same sum as in `tile` (k ascending, dot per vec4 step): bit-identical results.
// 16 vec4 loads feed 64 dot products per step k, twice the 4 x 4 tile's ratio, and a quarter of
// the invocations (each with fixed costs on a CPU adapter; figures: docs/KERNELS.md).
// b: the bias of columns n0..n0+3, read once per invocation (unused without a bias).
fn store4(m: u32, n0: u32, v: vec4f, b: vec4f) {
  if (m < p.M && n0 < p.N) {
    var s = v;
    if (p.has_bias == 1u) {
      s += b;
    }
    out4[(m * p.ldo + p.col + n0) / 4u] = s;
  }
}

@compute @workgroup_size(8, 8)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 8u;
  let m0 = gid.y * 8u;
  if (n0 >= p.N || m0 >= p.M) {
    return;
  }
  let a0 = min(m0 + 0u, p.M - 1u) * p.K4;
  let a1 = min(m0 + 1u, p.M - 1u) * p.K4;
  let a2 = min(m0 + 2u, p.M - 1u) * p.K4;
  let a3 = min(m0 + 3u, p.M - 1u) * p.K4;
  let a4 = min(m0 + 4u, p.M - 1u) * p.K4;
  let a5 = min(m0 + 5u, p.M - 1u) * p.K4;
  let a6 = min(m0 + 6u, p.M - 1u) * p.K4;
  let a7 = min(m0 + 7u, p.M - 1u) * p.K4;
  let b0 = min(n0 + 0u, p.N - 1u) * p.K4;
  let b1 = min(n0 + 1u, p.N - 1u) * p.K4;
  let b2 = min(n0 + 2u, p.N - 1u) * p.K4;
  let b3 = min(n0 + 3u, p.N - 1u) * p.K4;
  let b4 = min(n0 + 4u, p.N - 1u) * p.K4;
  let b5 = min(n0 + 5u, p.N - 1u) * p.K4;
  let b6 = min(n0 + 6u, p.N - 1u) * p.K4;
  let b7 = min(n0 + 7u, p.N - 1u) * p.K4;
  var c0l = vec4f(0.0);
  var c0h = vec4f(0.0);
  var c1l = vec4f(0.0);
  var c1h = vec4f(0.0);
  var c2l = vec4f(0.0);
  var c2h = vec4f(0.0);
  var c3l = vec4f(0.0);
  var c3h = vec4f(0.0);
  var c4l = vec4f(0.0);
  var c4h = vec4f(0.0);
  var c5l = vec4f(0.0);
  var c5h = vec4f(0.0);
  var c6l = vec4f(0.0);
  var c6h = vec4f(0.0);
  var c7l = vec4f(0.0);
  var c7h = vec4f(0.0);
  for (var k = 0u; k < p.K4; k++) {
    let y0 = w[b0 + k];
    let y1 = w[b1 + k];
    let y2 = w[b2 + k];
    let y3 = w[b3 + k];
    let y4 = w[b4 + k];
    let y5 = w[b5 + k];
    let y6 = w[b6 + k];
    let y7 = w[b7 + k];
    let x0 = inp[a0 + k];
    c0l += vec4f(dot(x0, y0), dot(x0, y1), dot(x0, y2), dot(x0, y3));
    c0h += vec4f(dot(x0, y4), dot(x0, y5), dot(x0, y6), dot(x0, y7));
    let x1 = inp[a1 + k];
    c1l += vec4f(dot(x1, y0), dot(x1, y1), dot(x1, y2), dot(x1, y3));
    c1h += vec4f(dot(x1, y4), dot(x1, y5), dot(x1, y6), dot(x1, y7));
    let x2 = inp[a2 + k];
    c2l += vec4f(dot(x2, y0), dot(x2, y1), dot(x2, y2), dot(x2, y3));
    c2h += vec4f(dot(x2, y4), dot(x2, y5), dot(x2, y6), dot(x2, y7));
    let x3 = inp[a3 + k];
    c3l += vec4f(dot(x3, y0), dot(x3, y1), dot(x3, y2), dot(x3, y3));
    c3h += vec4f(dot(x3, y4), dot(x3, y5), dot(x3, y6), dot(x3, y7));
    let x4 = inp[a4 + k];
    c4l += vec4f(dot(x4, y0), dot(x4, y1), dot(x4, y2), dot(x4, y3));
    c4h += vec4f(dot(x4, y4), dot(x4, y5), dot(x4, y6), dot(x4, y7));
    let x5 = inp[a5 + k];
    c5l += vec4f(dot(x5, y0), dot(x5, y1), dot(x5, y2), dot(x5, y3));
    c5h += vec4f(dot(x5, y4), dot(x5, y5), dot(x5, y6), dot(x5, y7));
    let x6 = inp[a6 + k];
    c6l += vec4f(dot(x6, y0), dot(x6, y1), dot(x6, y2), dot(x6, y3));
    c6h += vec4f(dot(x6, y4), dot(x6, y5), dot(x6, y6), dot(x6, y7));
    let x7 = inp[a7 + k];
    c7l += vec4f(dot(x7, y0), dot(x7, y1), dot(x7, y2), dot(x7, y3));
    c7h += vec4f(dot(x7, y4), dot(x7, y5), dot(x7, y6), dot(x7, y7));
  }
  // N % 4 == 0: the second group is wholly in or out (then a clamped copy, never stored).
  let bl = bias4[n0 / 4u];
  let bh = bias4[min(n0 + 4u, p.N - 4u) / 4u];
  store4(m0 + 0u, n0, c0l, bl);
  store4(m0 + 0u, n0 + 4u, c0h, bh);
  store4(m0 + 1u, n0, c1l, bl);
  store4(m0 + 1u, n0 + 4u, c1h, bh);
  store4(m0 + 2u, n0, c2l, bl);
  store4(m0 + 2u, n0 + 4u, c2h, bh);
  store4(m0 + 3u, n0, c3l, bl);
  store4(m0 + 3u, n0 + 4u, c3h, bh);
  store4(m0 + 4u, n0, c4l, bl);
  store4(m0 + 4u, n0 + 4u, c4h, bh);
  store4(m0 + 5u, n0, c5l, bl);
  store4(m0 + 5u, n0 + 4u, c5h, bh);
  store4(m0 + 6u, n0, c6l, bl);
  store4(m0 + 6u, n0 + 4u, c6h, bh);
  store4(m0 + 7u, n0, c7l, bl);
  store4(m0 + 7u, n0 + 4u, c7h, bh);
}
