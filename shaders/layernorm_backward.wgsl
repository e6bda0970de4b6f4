// layernorm_backward (input gradient, vec4 path, C % 4 == 0). Per row n, with
//   xhat = (x - mean[n]) * rstd[n],  g = dout * w,
//   dinp[n, c] = rstd[n] * (g[c] - mean_c(g) - xhat[c] * mean_c(g * xhat)).
// Buffers: dinp (N, C) overwritten, dout (N, C), inp (N, C), w (C), mean (N), rstd (N); the
// (.., C) tensors are bound as vec4 arrays (layernorm_backward_scalar.wgsl covers C % 4 != 0).
// dw and db are reduced separately (layernorm_backward_dwdb_partial/_reduce.wgsl).
// Dispatch: one thread per row, grid1d(N, WG), row = gid.x + gid.y * nwg.x * WG; thread per
// row for the same reason as layernorm_forward.wgsl (barriers are costly on llvmpipe).
struct Params { N: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout: array<vec4f>;
@group(0) @binding(3) var<storage, read> inp: array<vec4f>;
@group(0) @binding(4) var<storage, read> w: array<vec4f>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> rstd: array<f32>;
override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.N) { return; }
  let C4 = p.C / 4u;
  let base = row * C4;
  let m = mean[row];
  let rs = rstd[row];
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var c = 0u; c < C4; c++) {
    let g = dout[base + c] * w[c];
    sg += g;
    sgx += g * ((inp[base + c] - m) * rs);
  }
  let mg = ((sg.x + sg.y) + (sg.z + sg.w)) / f32(p.C);
  let mgx = ((sgx.x + sgx.y) + (sgx.z + sgx.w)) / f32(p.C);
  for (var c = 0u; c < C4; c++) {
    let g = dout[base + c] * w[c];
    let xhat = (inp[base + c] - m) * rs;
    dinp[base + c] = (g - mg - xhat * mgx) * rs;
  }
}
