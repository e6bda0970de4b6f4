// gelu_forward: out[i] = x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) for i < n, x = inp[i]
// (exact GELU, as in BERT/RoBERTa; not the tanh approximation).
// Buffers: out (n) overwritten, inp (n).
// Entry points: `main` (n % 4 == 0) binds the buffers as vec4 arrays, one thread per 4 values,
// dispatch grid1d(n / 4, WG) (docs/KERNELS.md);
// `main_scalar` (any n) one thread per value, grid1d(n, WG). Flat index
// i = gid.x + gid.y * nwg.x * WG. (The two share binding numbers; each uses only its own.)
//
// WGSL has no erf. Phi uses Norbert Juffa's single-precision erff (max error < 1 ulp with fma;
// the same coefficients MLX ships): an odd polynomial for |x/sqrt2| <= 0.9277, and
// erfc(t) = exp(r(t)) above. The lower tail takes Phi = 0.5 erfc(-x/sqrt2) directly instead of
// 1 + erf, so it has no cancellation. Measured on llvmpipe against an f64 erf on [-12, 12] in
// steps of 1e-4: |Phi error| <= 1.1e-7, so |GELU error| <= 1.1e-7 * max(1, |x|) (3.8e-7 at
// worst); tests/gelu_test.ts holds it to 2e-7 * max(1, |x|). For large |t| the polynomial r(t)
// runs to -inf (never NaN) and exp gives 0, so +-20, +-100, +-3.4e38 give x or -0 exactly.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out1: array<f32>;
@group(0) @binding(2) var<storage, read> inp1: array<f32>;
override WG: u32 = 256u;

const INV_SQRT2: f32 = 0.70710678118654752;

// Standard normal CDF.
fn normal_cdf(x: f32) -> f32 {
  let a = x * INV_SQRT2;
  let t = abs(a);
  let s = a * a;
  if (t > 0.927734375) {
    var r = fma(-1.72853470e-5, t, 3.83197126e-4);
    let u = fma(-3.88396438e-3, t, 2.42546219e-2);
    r = fma(r, s, u);
    r = fma(r, t, -1.06777877e-1);
    r = fma(r, t, -6.34846687e-1);
    r = fma(r, t, -1.28717512e-1);
    r = fma(r, t, -t);
    let half_erfc = 0.5 * exp(r);
    return select(1.0 - half_erfc, half_erfc, a < 0.0);
  }
  var r = -5.96761703e-4;
  r = fma(r, s, 4.99119423e-3);
  r = fma(r, s, -2.67681349e-2);
  r = fma(r, s, 1.12819925e-1);
  r = fma(r, s, -3.76125336e-1);
  r = fma(r, s, 1.28379166e-1);
  return 0.5 + 0.5 * fma(r, a, a);
}

fn gelu(x: f32) -> f32 {
  return x * normal_cdf(x);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n / 4u) {
    let x = inp4[i];
    out4[i] = vec4f(gelu(x.x), gelu(x.y), gelu(x.z), gelu(x.w));
  }
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out1[i] = gelu(inp1[i]); }
}
