// layernorm_backward_scalar: the input gradient of layernorm_backward.wgsl for any C. Per row n,
//   xhat = (x - mean[n]) * rstd[n],  g = dout * w,
//   dinp[n, c] = rstd[n] * (g[c] - mean_c(g) - xhat[c] * mean_c(g * xhat)).
// Buffers: dinp (N, C) overwritten, dout (N, C), inp (N, C), w (C), mean (N), rstd (N).
// Dispatch: one thread per row, grid1d(N, WG), row = gid.x + gid.y * nwg.x * WG.
struct Params { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> rstd: array<f32>;
override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let base = row * p.C;
  let m = mean[row];
  let rs = rstd[row];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let g = dout[base + c] * w[c];
    sg += g;
    sgx += g * ((inp[base + c] - m) * rs);
  }
  let mg = sg / f32(p.C);
  let mgx = sgx / f32(p.C);
  for (var c = 0u; c < p.C; c++) {
    let g = dout[base + c] * w[c];
    let xhat = (inp[base + c] - m) * rs;
    dinp[base + c] = (g - mg - xhat * mgx) * rs;
  }
}
