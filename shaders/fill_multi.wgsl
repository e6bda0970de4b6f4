// fill_multi: t{j}[i] = value for every element of up to 8 tensors in one dispatch (zeroing
// a model's gradients costs ceil(tensors / 8) dispatches instead of one per tensor). Slot j's
// n[j] elements are covered by the workgroups start[j] .. start[j + 1] - 1 (start[count] = the
// total, also in start_end.x; starts past it are 0xffffffff); a workgroup covers WG * PER
// elements, invocation l the elements l, l + WG, ..., l + (PER - 1) WG of it. Unused slots are
// bound to distinct dummy buffers and never touched.
// slot_of and pick come from shaders/multi_slots.wgsl (prepended by src/shaders.ts).
// Buffers: t0..t7 read_write.
// Dispatch: grid1d(start[count], WG); workgroup index wid.x + wid.y * num_workgroups.x.
struct Params {
  count: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
  start_lo: vec4u,
  start_hi: vec4u,
  start_end: vec4u,
  n_lo: vec4u,
  n_hi: vec4u,
  value: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read_write> t1: array<f32>;
@group(0) @binding(3) var<storage, read_write> t2: array<f32>;
@group(0) @binding(4) var<storage, read_write> t3: array<f32>;
@group(0) @binding(5) var<storage, read_write> t4: array<f32>;
@group(0) @binding(6) var<storage, read_write> t5: array<f32>;
@group(0) @binding(7) var<storage, read_write> t6: array<f32>;
@group(0) @binding(8) var<storage, read_write> t7: array<f32>;
override WG: u32 = 256u;

const PER = 8u; // elements per invocation

fn fill_slot(j: u32, i: u32, v: f32) {
  switch j {
    case 0u: { t0[i] = v; }
    case 1u: { t1[i] = v; }
    case 2u: { t2[i] = v; }
    case 3u: { t3[i] = v; }
    case 4u: { t4[i] = v; }
    case 5u: { t5[i] = v; }
    case 6u: { t6[i] = v; }
    case 7u: { t7[i] = v; }
    default: {}
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let u = p;
  let wg = wid.x + wid.y * nwg.x;
  if (wg >= u.start_end.x) { return; }
  let j = slot_of(wg, u.start_lo, u.start_hi);
  let first = pick(j, u.start_lo, u.start_hi);
  let n = pick(j, u.n_lo, u.n_hi);
  let i0 = (wg - first) * WG * PER + lid.x;
  for (var e = 0u; e < PER; e++) {
    let i = i0 + e * WG;
    if (i < n) { fill_slot(j, i, u.value); }
  }
}
