// fill_multi: t{j}[i] = value for every element of up to 8 tensors in one dispatch (zeroing
// a model's gradients costs ceil(tensors / 8) dispatches instead of one per tensor). Slot j's
// n[j] elements are covered by the workgroups start[j] .. start[j + 1] - 1 (start[count] = the
// total); unused slots are bound to distinct dummy buffers and never touched.
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

fn start(j: u32) -> u32 {
  if (j < 4u) { return p.start_lo[j]; }
  if (j < 8u) { return p.start_hi[j - 4u]; }
  return p.start_end.x;
}

fn count_of(j: u32) -> u32 {
  if (j < 4u) { return p.n_lo[j]; }
  return p.n_hi[j - 4u];
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let wg = wid.x + wid.y * nwg.x;
  if (wg >= start(p.count)) { return; }
  var j = 0u;
  while (j + 1u < p.count && wg >= start(j + 1u)) { j++; }
  let i = (wg - start(j)) * WG + lid.x;
  if (i >= count_of(j)) { return; }
  switch j {
    case 0u: { t0[i] = p.value; }
    case 1u: { t1[i] = p.value; }
    case 2u: { t2[i] = p.value; }
    case 3u: { t3[i] = p.value; }
    case 4u: { t4[i] = p.value; }
    case 5u: { t5[i] = p.value; }
    case 6u: { t6[i] = p.value; }
    case 7u: { t7[i] = p.value; }
    default: {}
  }
}
