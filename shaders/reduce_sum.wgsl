// reduce_sum: the second pass of the deterministic two-pass reductions (sumsq_partials,
// dot_partials): out[c] = sum over s < count of partials[s * stride + c], one channel c per
// workgroup (dispatching fewer than `stride` workgroups reduces only the first channels).
// One workgroup per channel c: invocation t sums slots t, t + WG, t + 2 WG, ... in order, then a
// fixed tree folds the WG running sums, so the result is identical on every run.
// Buffers: out (channels) written, partials (count * stride) read.
// Dispatch: (channels, 1, 1) workgroups, channels <= stride. WG must be a power of two.
// Overwrites out[0 .. channels).
struct Params { count: u32, stride: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> partials: array<f32>;
override WG: u32 = 256u;
var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  var acc = 0.0;
  for (var s = lid; s < p.count; s += WG) { acc += partials[s * p.stride + c]; }
  sums[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { sums[lid] += sums[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[c] = sums[0]; }
}
