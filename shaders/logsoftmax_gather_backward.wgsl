// logsoftmax_gather_backward: gradient of logp[m] = logits[m, targets[m]] - lse[m]:
//   dlogits[m, v] = dlogp[m] * (onehot(targets[m])[v] - exp(logits[m, v] - lse[m]))
// Overwrites dlogits. Buffers: dlogits (M, V) overwritten, dlogp (M), logits (M, V), lse (M),
// targets (M) u32.
// Dispatch: (ceil(V / (WG * E)), M) workgroups; workgroup (x, m) covers v in [x*WG*E, (x+1)*WG*E)
// with each thread looping over E values strided by WG, so there are few workgroups (on llvmpipe
// each has a fixed cost; one element per thread is slower: docs/KERNELS.md).
struct Params { M: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> dlogp: array<f32>;
@group(0) @binding(3) var<storage, read> logits: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<u32>;
override WG: u32 = 64u;
override E: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let m = wid.y;
  if (m >= p.M) { return; }
  let g = dlogp[m];
  let l = lse[m];
  let t = targets[m];
  let row = m * p.V;
  let end = min(p.V, (wid.x + 1u) * WG * E);
  for (var v = wid.x * WG * E + lid.x; v < end; v += WG) {
    let onehot = select(0.0, 1.0, v == t);
    dlogits[row + v] = g * (onehot - exp(logits[row + v] - l));
  }
}
