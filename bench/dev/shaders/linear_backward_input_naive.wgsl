// linear_backward_input_naive: dinp[m, k] (= or +=) sum_n dout[m, col + n] * w[n, k] — the simple
// baseline (variant "naive"): one invocation per element of dinp, n ascending.
// Buffers: dinp (M, K) overwritten (accumulate == 0) or accumulated (accumulate == 1; the
// vocabulary projection sums its chunks); dout (M, ldo), columns [col, col + N) read; w (N, K).
// Dispatch: grid1d(M * K, WG). Measurements: docs/KERNELS.md.
struct Params { M: u32, K: u32, N: u32, ldo: u32, col: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.M * p.K) {
    return;
  }
  let m = i / p.K;
  let k = i % p.K;
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) {
    s = fma(dout[m * p.ldo + p.col + n], w[n * p.K + k], s);
  }
  if (p.accumulate == 1u) {
    s += dinp[i];
  }
  dinp[i] = s;
}
