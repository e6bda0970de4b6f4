// layernorm_forward_scalar: the same computation as layernorm_forward.wgsl for any C (used when
// C % 4 != 0).
//   mean[n] = sum_c x / C,  rstd[n] = 1 / sqrt(sum_c (x - mean)^2 / C + eps),
//   out[n, c] = (x[n, c] - mean[n]) * rstd[n] * w[c] + b[c].
// Buffers: out (N, C) overwritten, mean (N) overwritten, rstd (N) overwritten, inp (N, C),
// w (C), b (C). Dispatch: one thread per row, grid1d(N, WG), row = gid.x + gid.y * nwg.x * WG.
struct Params { N: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> inp: array<f32>;
@group(0) @binding(5) var<storage, read> w: array<f32>;
@group(0) @binding(6) var<storage, read> b: array<f32>;
override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += inp[base + c]; }
  let m = s / f32(p.C);
  var v = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let d = inp[base + c] - m;
    v += d * d;
  }
  let rs = inverseSqrt(v / f32(p.C) + p.eps);
  for (var c = 0u; c < p.C; c++) { out[base + c] = (inp[base + c] - m) * rs * w[c] + b[c]; }
  mean[row] = m;
  rstd[row] = rs;
}
