// Memory probes (bench/peak_bench.ts).
//   copy:   dst[i] = src[i] * scale over n vec4s, one vec4 per invocation (streaming bandwidth:
//           16 bytes read + 16 written per invocation)
//   gather: each invocation sums `iters` f32 loads from src at addresses that differ per
//           invocation, inside a small (cache-resident) window: the cost of a per-lane load
// Dispatch: copy (ceil(n / WG)) workgroups; gather (groups) workgroups. dst overwritten.
struct Params {
  n: u32,
  iters: u32,
  mask: u32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<storage, read> src: array<vec4f>;
@group(0) @binding(3) var<storage, read> flat: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { dst[i] = src[i] * p.scale; }
}

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u) {
  var acc = 0.0;
  var j = gid.x * 7u;
  for (var k = 0u; k < p.iters; k++) {
    acc += flat[j & p.mask];
    j += 13u;
  }
  dst[gid.x] = vec4f(acc);
}
