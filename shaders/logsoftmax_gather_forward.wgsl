// logsoftmax_gather_forward: pass 2 of 2. For each row m, combine the S partial pairs
// (max_j, sum_j) from logsoftmax_gather_partials in order j = 0..S-1:
//   mx = max_j max_j;  lse[m] = mx + log(sum_j sum_j * exp(max_j - mx))
//   logp[m] = (logits[m, targets[m]] - mx) - log(sum) (= logits[m, target] - lse[m], formed from
//   the max-shifted logit so a near-zero logp keeps its relative precision)
// All in f32; the max subtraction keeps exp from overflowing. One thread per row.
// Buffers: logp (M) overwritten, lse (M) overwritten, part (M, S, 2), logits (M, V),
// targets (M) u32. Dispatch: ceil(M / WG) workgroups.
struct Params { M: u32, V: u32, S: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> logp: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read> part: array<f32>;
@group(0) @binding(4) var<storage, read> logits: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<u32>;
override WG: u32 = 64u;

const NEG_BIG: f32 = -3.4028235e38;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let m = gid.x;
  if (m >= p.M) { return; }
  let base = m * p.S * 2u;
  var mx = NEG_BIG;
  for (var j = 0u; j < p.S; j++) { mx = max(mx, part[base + 2u * j]); }
  var s = 0.0;
  for (var j = 0u; j < p.S; j++) {
    s += part[base + 2u * j + 1u] * exp(part[base + 2u * j] - mx);
  }
  let logS = log(s);
  lse[m] = mx + logS;
  logp[m] = (logits[m * p.V + targets[m]] - mx) - logS;
}
