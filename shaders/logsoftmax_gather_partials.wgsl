// logsoftmax_gather_partials: pass 1 of 2 of the row-wise log-sum-exp over the vocabulary.
// Thread j of row m (j < S) covers v = j, j + S, j + 2S, ... < V: it takes the max of its
// values, then the sum of exp(logit - that max), and writes the pair (max, sum) to part[m, j].
// Pass 2 (logsoftmax_gather_forward) combines a row's S pairs in a fixed order.
// Why two passes: on llvmpipe (CPU adapter) workgroup barriers are expensive, and one workgroup
// per row with a tree reduction in workgroup memory was no faster (docs/KERNELS.md). Strided
// ownership (thread j takes j, j + S, ...) keeps neighbouring lanes on neighbouring words.
// Buffers: part (M, S, 2) overwritten, logits (M, V).
// Dispatch: (S / WG, M) workgroups; S a multiple of WG.
struct Params { M: u32, V: u32, S: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
override WG: u32 = 64u;

const NEG_BIG: f32 = -3.4028235e38;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let m = gid.y;
  if (j >= p.S || m >= p.M) { return; }
  let row = m * p.V;
  var mx = NEG_BIG;
  for (var v = j; v < p.V; v += p.S) { mx = max(mx, logits[row + v]); }
  var s = 0.0;
  for (var v = j; v < p.V; v += p.S) { s += exp(logits[row + v] - mx); }
  let o = (m * p.S + j) * 2u;
  part[o] = mx;
  part[o + 1u] = s;
}
