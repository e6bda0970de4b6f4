// layernorm_residual_forward (C % 4 == 0): the residual add and the LayerNorm after it, one pass:
//   x[n, c] = a[n, c] + r[n, c],  mean[n] = sum_c x / C,
//   rstd[n] = 1 / sqrt(sum_c (x - mean)^2 / C + eps),  out[n, c] = (x - mean) * rstd * w[c] + b[c],
// and, with the override SAVE_SUM, sum[n, c] = x (what the LayerNorm backward reads). The same
// arithmetic, in the same order, as residual_forward followed by layernorm_forward, so the results
// are bit-identical to those two dispatches; x is recomputed in each pass instead of stored and
// read back.
// Buffers: out (N, C), mean (N), rstd (N), sum (N, C) (a 4-value dummy without SAVE_SUM) all
// overwritten; a, r (N, C); w, b (C). The (N, C) and (C) tensors are bound as vec4 arrays.
// Dispatch: one thread per row, grid1d(N, WG) (why one thread per row: layernorm_forward.wgsl).
struct Params { N: u32, C: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> sum: array<vec4f>;
@group(0) @binding(5) var<storage, read> a: array<vec4f>;
@group(0) @binding(6) var<storage, read> r: array<vec4f>;
@group(0) @binding(7) var<storage, read> w: array<vec4f>;
@group(0) @binding(8) var<storage, read> b: array<vec4f>;
override WG: u32 = 16u;
override SAVE_SUM: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let C4 = p.C / 4u;
  let base = row * C4;
  var s = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let x = a[base + c] + r[base + c];
    if (SAVE_SUM) { sum[base + c] = x; }
    s += x;
  }
  let m = ((s.x + s.y) + (s.z + s.w)) / f32(p.C);
  var v = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let d = (a[base + c] + r[base + c]) - m;
    v += d * d;
  }
  let rs = inverseSqrt(((v.x + v.y) + (v.z + v.w)) / f32(p.C) + p.eps);
  for (var c = 0u; c < C4; c++) {
    out[base + c] = ((a[base + c] + r[base + c]) - m) * rs * w[c] + b[c];
  }
  mean[row] = m;
  rstd[row] = rs;
}
