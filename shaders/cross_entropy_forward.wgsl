// cross_entropy_forward: per-row softmax cross-entropy over K classes (K small: heads).
//   mx = max_k logits[b, k];  s = sum_k exp(logits[b, k] - mx)
//   probs[b, k] = exp(logits[b, k] - mx) / s;  losses[b] = log(s) - (logits[b, labels[b]] - mx)
// (the loss is formed from the max-shifted logit, which keeps it exact-ish when it is tiny).
// The mean over the batch is the caller's (it reads B values); the backward's `scale` (1/B)
// makes its gradient that of the mean. One thread per row b.
// Buffers: losses (B) overwritten, probs (B, K) overwritten, logits (B, K), labels (B) u32.
// Dispatch: ceil(B / WG) workgroups.
struct Params { B: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> losses: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read> logits: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<u32>;
override WG: u32 = 64u;

const NEG_BIG: f32 = -3.4028235e38;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.B) { return; }
  let row = b * p.K;
  var mx = NEG_BIG;
  for (var k = 0u; k < p.K; k++) { mx = max(mx, logits[row + k]); }
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s += exp(logits[row + k] - mx); }
  for (var k = 0u; k < p.K; k++) { probs[row + k] = exp(logits[row + k] - mx) / s; }
  losses[b] = log(s) - (logits[row + labels[b]] - mx);
}
