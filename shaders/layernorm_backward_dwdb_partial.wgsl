// layernorm_backward_dwdb_partial: first pass of the deterministic dw/db reduction over rows.
// Rows are cut into blocks of R rows; for block k and column c,
//   parts[0, k, c] = sum_{n in block k} dout[n, c] * (inp[n, c] - mean[n]) * rstd[n]   (dw)
//   parts[1, k, c] = sum_{n in block k} dout[n, c]                                      (db)
// summed in row order. Buffers: parts (2, K, C) overwritten (K = ceil(N / R) blocks),
// dout (N, C), inp (N, C), mean (N), rstd (N).
// Entry points: `main` (C % 4 == 0) binds the (.., C) buffers as vec4 arrays, one thread per
// 4 columns of a block, dispatch (ceil(C / 4 / WG), K) (docs/KERNELS.md);
// `main_scalar` (any C) one thread per column of a block, dispatch (ceil(C / WG), K). Adjacent
// threads read adjacent columns of the same row. (The two share binding numbers; each uses only
// its own.)
struct Params { N: u32, C: u32, R: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> parts4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> parts1: array<f32>;
@group(0) @binding(2) var<storage, read> dout1: array<f32>;
@group(0) @binding(3) var<storage, read> inp1: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C4 = p.C / 4u;
  let c = gid.x;
  let k = gid.y;
  if (c >= C4) { return; }
  let n1 = min(k * p.R + p.R, p.N);
  var sw = vec4f(0.0);
  var sb = vec4f(0.0);
  for (var n = k * p.R; n < n1; n++) {
    let g = dout4[n * C4 + c];
    sw += g * ((inp4[n * C4 + c] - mean[n]) * rstd[n]);
    sb += g;
  }
  parts4[k * C4 + c] = sw;
  parts4[(nwg.y + k) * C4 + c] = sb;
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x;
  let k = gid.y;
  if (c >= p.C) { return; }
  let n1 = min(k * p.R + p.R, p.N);
  var sw = 0.0;
  var sb = 0.0;
  for (var n = k * p.R; n < n1; n++) {
    let g = dout1[n * p.C + c];
    sw += g * ((inp1[n * p.C + c] - mean[n]) * rstd[n]);
    sb += g;
  }
  parts1[k * p.C + c] = sw;
  parts1[(nwg.y + k) * p.C + c] = sb;
}
