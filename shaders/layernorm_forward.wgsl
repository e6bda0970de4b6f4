// layernorm_forward (vec4 path, C % 4 == 0): for each row n < N of inp (N, C),
//   mean[n] = sum_c x / C,  rstd[n] = 1 / sqrt(sum_c (x - mean)^2 / C + eps),
//   out[n, c] = (x[n, c] - mean[n]) * rstd[n] * w[c] + b[c].
// Buffers: out (N, C) overwritten, mean (N) overwritten, rstd (N) overwritten, inp (N, C),
// w (C), b (C); the f32 tensors are bound as vec4 arrays, so C must be a multiple of 4
// (layernorm_forward_scalar.wgsl covers the rest). Two-pass variance (no E[x^2] - mean^2
// cancellation). Params.C is the element count per row, not the vec4 count.
// Dispatch: one thread per row, grid1d(N, WG), row = gid.x + gid.y * nwg.x * WG.
// Why one thread per row: on llvmpipe (SIMD lanes across invocations, costly workgroup barriers)
// it beat every cooperative layout with barrier reductions (figures: docs/KERNELS.md).
struct Params { N: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> inp: array<vec4f>;
@group(0) @binding(5) var<storage, read> w: array<vec4f>;
@group(0) @binding(6) var<storage, read> b: array<vec4f>;
override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let C4 = p.C / 4u;
  let base = row * C4;
  var s = vec4f(0.0);
  for (var c = 0u; c < C4; c++) { s += inp[base + c]; }
  let m = ((s.x + s.y) + (s.z + s.w)) / f32(p.C);
  var v = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let d = inp[base + c] - m;
    v += d * d;
  }
  let rs = inverseSqrt(((v.x + v.y) + (v.z + v.w)) / f32(p.C) + p.eps);
  for (var c = 0u; c < C4; c++) { out[base + c] = (inp[base + c] - m) * rs * w[c] + b[c]; }
  mean[row] = m;
  rstd[row] = rs;
}
