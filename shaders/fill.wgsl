// fill: out[i] = value for i < n.
// Buffers: out (n). Dispatch: grid1d(n, 256), flat index gid.x + gid.y * num_workgroups.x * 256.
// Overwrites.
struct Params { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n) { out[i] = p.value; }
}
