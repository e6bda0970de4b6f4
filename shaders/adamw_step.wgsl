// adamw_step: one AdamW step (PyTorch torch.optim.AdamW, amsgrad=False, maximize=False) on n
// elements, in place:
//   g = grad[i] * scale[0]   (scale only when use_scale = 1, e.g. a global-norm clip factor)
//   p = p - lr_wd * p                                  (decoupled weight decay, lr_wd = lr * wd)
//   m = beta1 * m + one_minus_beta1 * g
//   v = beta2 * v + one_minus_beta2 * g * g
//   p = p - step_size * m / (sqrt(v) / bc2_sqrt + eps) (step_size = lr / (1 - beta1^t),
//                                                       bc2_sqrt = sqrt(1 - beta2^t))
// Host-side f64 constants arrive as f32; lr_wd * p is subtracted rather than multiplying by
// (1 - lr_wd), because 1 - 1e-6 rounds to f32 with a 3% error in the decay itself.
// Buffers: param (n) read_write, grad (n) read, m (n) read_write, v (n) read_write,
//          scale (>= 1) read (bound to grad and ignored when use_scale = 0).
// Dispatch: grid1d(n, WG); flat index gid.x + gid.y * num_workgroups.x * WG. Overwrites
// param, m, v in place (each element is read then written by the same invocation).
struct Params {
  n: u32,
  use_scale: u32,
  lr_wd: f32,
  step_size: f32,
  bc2_sqrt: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> scale: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var g = grad[i];
  if (p.use_scale != 0u) { g = g * scale[0]; }
  var w = param[i];
  w = w - p.lr_wd * w;
  let m1 = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let v1 = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  param[i] = w - p.step_size * (m1 / (sqrt(v1) / p.bc2_sqrt + p.eps));
}
