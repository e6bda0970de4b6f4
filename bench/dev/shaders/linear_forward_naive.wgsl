// linear_forward_naive: out[m, col + n] = sum_k inp[m, k] * w[n, k] (+ bias[n]) — the simple
// baseline (variant "naive"): one invocation per output element, k ascending.
// Buffers: out (M, ldo) overwritten in columns [col, col + N) only; inp (M, K); w (N, K) (Hugging
// Face layout: out x in); bias (N), read only when has_bias == 1 (any read-only buffer otherwise).
// Dispatch: grid1d(M * N, WG). Measurements: docs/KERNELS.md.
struct Params { M: u32, K: u32, N: u32, ldo: u32, col: u32, has_bias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.M * p.N) {
    return;
  }
  let m = i / p.N;
  let n = i % p.N;
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) {
    s = fma(inp[m * p.K + k], w[n * p.K + k], s);
  }
  if (p.has_bias == 1u) {
    s += bias[n];
  }
  out[m * p.ldo + p.col + n] = s;
}
