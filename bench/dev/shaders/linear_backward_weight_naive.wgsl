// linear_backward_weight_naive: dw[n, k] += sum_m dout[m, col + n] * inp[m, k] — the simple
// baseline (variant "naive"): one invocation per element of dw, m ascending; the sum is added to
// dw once (parameter gradients accumulate).
// Buffers: dw (N, K) accumulated; dout (M, ldo), columns [col, col + N) read; inp (M, K).
// Dispatch: grid1d(N * K, WG). Measurements: docs/KERNELS.md.
struct Params { M: u32, K: u32, N: u32, ldo: u32, col: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.K) {
    return;
  }
  let n = i / p.K;
  let k = i % p.K;
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) {
    s = fma(dout[m * p.ldo + p.col + n], inp[m * p.K + k], s);
  }
  dw[i] += s;
}
