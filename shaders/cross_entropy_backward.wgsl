// cross_entropy_backward: dlogits[b, k] = scale * (probs[b, k] - onehot(labels[b])[k]).
// With scale = 1/B this is the gradient of the mean loss. Overwrites dlogits.
// Buffers: dlogits (B, K) overwritten, probs (B, K), labels (B) u32.
// Dispatch: grid1d(B * K, WG); flat index gid.x + gid.y * nwg.x * WG.
struct Params { B: u32, K: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.B * p.K) { return; }
  let b = i / p.K;
  let k = i - b * p.K;
  let onehot = select(0.0, 1.0, k == labels[b]);
  dlogits[i] = p.scale * (probs[i] - onehot);
}
