// linear_forward_v2_tiled: out[m, col + n] = sum_k inp[m, k] * w[n, k] (+ bias[n]) with a 4 x 4
// register tile per invocation and vec4 loads along K (variant "tiled"; also the fallback where
// the adapter lacks the 32 KiB of workgroup memory that linear_slab needs). No workgroup memory and
// no barriers. Each output: k ascending in vec4 steps, x, y, z, w summed as dot() then added.
// Buffers: out (M, ldo) overwritten in columns [col, col + N) only; inp (M, K4 vec4); w (N, K4
// vec4) (K padded to a multiple of 4 with zeros by the wrapper when needed); bias (N), read only when
// has_bias == 1. Dispatch: (ceil(N / 32), ceil(M / 32)) workgroups of 8 x 8.
// Measured (bench/matmul_bench.ts, llvmpipe, 2 cores shared with other jobs): 3-5 GFLOP/s on
// (8192 x 768) . (768 x 768)ᵀ and . (3072 x 768)ᵀ (9-10 per 2 CPU-seconds). Bigger register tiles
// (8 x 8 .. 24 x 24, generated, with fma) reached 16-28 per 2 CPU-seconds before the 8-lane scalar
// load loops, spills and compile time dominated; see linear_slab for what it took to go beyond.
struct Params { M: u32, K4: u32, N: u32, ldo: u32, col: u32, has_bias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<vec4f>;
@group(0) @binding(3) var<storage, read> w: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
// main_vec4 (N, ldo and col multiples of 4) stores each tile row as one vec4 and reads the bias
// as vec4: the same sums (bit-identical), 4 stores and 1 bias load per row where `main` makes 8.
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

fn store_row4(m: u32, n0: u32, v: vec4f) {
  if (m < p.M) {
    out4[(m * p.ldo + p.col + n0) / 4u] = v;
  }
}

@compute @workgroup_size(8, 8)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= p.N || m0 >= p.M) {
    return;
  }
  var c = tile(m0, n0);
  if (p.has_bias == 1u) {
    let b = bias4[n0 / 4u];
    c = mat4x4f(c[0] + b, c[1] + b, c[2] + b, c[3] + b);
  }
  store_row4(m0, n0, c[0]);
  store_row4(m0 + 1u, n0, c[1]);
  store_row4(m0 + 2u, n0, c[2]);
  store_row4(m0 + 3u, n0, c[3]);
}
