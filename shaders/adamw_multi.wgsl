// adamw_multi: adamw_step (see there for the update and its order of operations) on up to 6
// tensors in one dispatch, so an optimizer step costs ceil(tensors / slots) dispatches instead of
// one per tensor. Slot j holds tensor j: p{j}, m{j}, v{j} updated in place from g{j}; its n[j]
// elements are covered by the workgroups start[j] .. start[j + 1] - 1 (start[count] = the total;
// workgroups never straddle two tensors; starts past start[count] are 0xffffffff). Slot j's decoupled decay is lr_wd[j] (0 for biases and
// LayerNorm weights). Unused slots are bound to distinct dummy buffers and never touched.
// Entry points: `main` takes 6 slots (25 storage bindings), `main3` 3 slots (bindings 1..13, for
// adapters with 16 storage buffers per stage); a tensor's update is the same in both.
// Buffers: scale (>= 1) read (bound to g0 and ignored when use_scale = 0); then for each slot j:
// p{j} (n[j]) read_write, g{j} (n[j]) read, m{j}, v{j} (n[j]) read_write.
// slot_of and pick come from shaders/multi_slots.wgsl (prepended by src/shaders.ts).
// Dispatch: grid1d(start[count], WG); workgroup index wid.x + wid.y * num_workgroups.x.
struct Params {
  count: u32,
  use_scale: u32,
  pad0: u32,
  pad1: u32,
  start_lo: vec4u,
  start_hi: vec4u,
  n_lo: vec4u,
  n_hi: vec4u,
  lr_wd_lo: vec4f,
  lr_wd_hi: vec4f,
  step_size: f32,
  bc2_sqrt: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> p0: array<f32>;
@group(0) @binding(3) var<storage, read> g0: array<f32>;
@group(0) @binding(4) var<storage, read_write> m0: array<f32>;
@group(0) @binding(5) var<storage, read_write> v0: array<f32>;
@group(0) @binding(6) var<storage, read_write> p1: array<f32>;
@group(0) @binding(7) var<storage, read> g1: array<f32>;
@group(0) @binding(8) var<storage, read_write> m1: array<f32>;
@group(0) @binding(9) var<storage, read_write> v1: array<f32>;
@group(0) @binding(10) var<storage, read_write> p2: array<f32>;
@group(0) @binding(11) var<storage, read> g2: array<f32>;
@group(0) @binding(12) var<storage, read_write> m2: array<f32>;
@group(0) @binding(13) var<storage, read_write> v2: array<f32>;
@group(0) @binding(14) var<storage, read_write> p3: array<f32>;
@group(0) @binding(15) var<storage, read> g3: array<f32>;
@group(0) @binding(16) var<storage, read_write> m3: array<f32>;
@group(0) @binding(17) var<storage, read_write> v3: array<f32>;
@group(0) @binding(18) var<storage, read_write> p4: array<f32>;
@group(0) @binding(19) var<storage, read> g4: array<f32>;
@group(0) @binding(20) var<storage, read_write> m4: array<f32>;
@group(0) @binding(21) var<storage, read_write> v4: array<f32>;
@group(0) @binding(22) var<storage, read_write> p5: array<f32>;
@group(0) @binding(23) var<storage, read> g5: array<f32>;
@group(0) @binding(24) var<storage, read_write> m5: array<f32>;
@group(0) @binding(25) var<storage, read_write> v5: array<f32>;
override WG: u32 = 256u;

// (new param, new m, new v) from the old values and the (scaled) gradient.
fn update(w0: f32, g: f32, m0: f32, v0: f32, lr_wd: f32) -> vec3f {
  let w = w0 - lr_wd * w0;
  let m1 = p.beta1 * m0 + p.one_minus_beta1 * g;
  let v1 = p.beta2 * v0 + p.one_minus_beta2 * g * g;
  return vec3f(w - p.step_size * (m1 / (sqrt(v1) / p.bc2_sqrt + p.eps)), m1, v1);
}

// Where this invocation works: (slot, element, elements of the slot), or slot 6 for none.
fn locate(lid: vec3u, wid: vec3u, nwg: vec3u) -> vec3u {
  let u = p;
  let wg = wid.x + wid.y * nwg.x;
  if (wg >= pick(u.count, u.start_lo, u.start_hi)) { return vec3u(6u, 0u, 0u); }
  let j = slot_of(wg, u.start_lo, u.start_hi);
  let first = (wg - pick(j, u.start_lo, u.start_hi)) * WG + lid.x;
  return vec3u(j, first, pick(j, u.n_lo, u.n_hi));
}

fn grad_scale() -> f32 {
  if (p.use_scale != 0u) { return scale[0]; }
  return 1.0;
}

// Slot j's update of element i (each slot has its own bindings: WGSL passes no storage pointers).
fn step0(i: u32, s: f32, lr_wd: f32) {
  let r = update(p0[i], g0[i] * s, m0[i], v0[i], lr_wd);
  p0[i] = r.x;
  m0[i] = r.y;
  v0[i] = r.z;
}

fn step1(i: u32, s: f32, lr_wd: f32) {
  let r = update(p1[i], g1[i] * s, m1[i], v1[i], lr_wd);
  p1[i] = r.x;
  m1[i] = r.y;
  v1[i] = r.z;
}

fn step2(i: u32, s: f32, lr_wd: f32) {
  let r = update(p2[i], g2[i] * s, m2[i], v2[i], lr_wd);
  p2[i] = r.x;
  m2[i] = r.y;
  v2[i] = r.z;
}

fn step3(i: u32, s: f32, lr_wd: f32) {
  let r = update(p3[i], g3[i] * s, m3[i], v3[i], lr_wd);
  p3[i] = r.x;
  m3[i] = r.y;
  v3[i] = r.z;
}

fn step4(i: u32, s: f32, lr_wd: f32) {
  let r = update(p4[i], g4[i] * s, m4[i], v4[i], lr_wd);
  p4[i] = r.x;
  m4[i] = r.y;
  v4[i] = r.z;
}

fn step5(i: u32, s: f32, lr_wd: f32) {
  let r = update(p5[i], g5[i] * s, m5[i], v5[i], lr_wd);
  p5[i] = r.x;
  m5[i] = r.y;
  v5[i] = r.z;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let at = locate(lid, wid, nwg);
  if (at.x >= 6u || at.y >= at.z) { return; }
  let s = grad_scale();
  let lr_wd = bitcast<f32>(pick(at.x, bitcast<vec4u>(p.lr_wd_lo), bitcast<vec4u>(p.lr_wd_hi)));
  switch at.x {
    case 0u: { step0(at.y, s, lr_wd); }
    case 1u: { step1(at.y, s, lr_wd); }
    case 2u: { step2(at.y, s, lr_wd); }
    case 3u: { step3(at.y, s, lr_wd); }
    case 4u: { step4(at.y, s, lr_wd); }
    case 5u: { step5(at.y, s, lr_wd); }
    default: {}
  }
}

@compute @workgroup_size(WG)
fn main3(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let at = locate(lid, wid, nwg);
  if (at.x >= 3u || at.y >= at.z) { return; }
  let s = grad_scale();
  let lr_wd = bitcast<f32>(pick(at.x, bitcast<vec4u>(p.lr_wd_lo), bitcast<vec4u>(p.lr_wd_hi)));
  switch at.x {
    case 0u: { step0(at.y, s, lr_wd); }
    case 1u: { step1(at.y, s, lr_wd); }
    case 2u: { step2(at.y, s, lr_wd); }
    default: {}
  }
}
