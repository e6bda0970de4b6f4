// clip_scale: x[i] = x[i] * s[0] for i < n (scale a gradient by a device scalar, e.g. a clip
// factor, without reading it back).
// Buffers: x (n) read_write, s (>= 1) read. Dispatch: grid1d(n, WG); flat index
// gid.x + gid.y * num_workgroups.x * WG. Overwrites x in place.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { x[i] = x[i] * s[0]; }
}
