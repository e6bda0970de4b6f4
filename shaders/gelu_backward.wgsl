// gelu_backward: dinp[i] = dout[i] * GELU'(x), x = inp[i], where
//   GELU'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
// Buffers: dinp (n) overwritten, dout (n), inp (n) (the forward's input, saved).
// Entry points as in gelu_forward.wgsl: `main` (n % 4 == 0, vec4 arrays, grid1d(n / 4, WG)) and
// `main_scalar` (any n, grid1d(n, WG)); flat index i = gid.x + gid.y * nwg.x * WG.
// normal_cdf is the same function as in gelu_forward.wgsl (Juffa's erff; see the error notes
// there): |GELU' error| <= 1.6e-7 measured on [-12, 12]; +-20, +-100, +-3.4e38 give exactly 1 or
// 0 with no NaN (exp(-x^2 / 2) -> 0 and x * 0 = 0, also when x^2 overflows to inf).
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dinp1: array<f32>;
@group(0) @binding(2) var<storage, read> dout1: array<f32>;
@group(0) @binding(3) var<storage, read> inp1: array<f32>;
override WG: u32 = 256u;

const INV_SQRT2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

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

fn gelu_grad(x: f32) -> f32 {
  return normal_cdf(x) + x * (INV_SQRT_2PI * exp(-0.5 * x * x));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n / 4u) {
    let x = inp4[i];
    dinp4[i] = dout4[i] * vec4f(gelu_grad(x.x), gelu_grad(x.y), gelu_grad(x.z), gelu_grad(x.w));
  }
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { dinp1[i] = dout1[i] * gelu_grad(inp1[i]); }
}
