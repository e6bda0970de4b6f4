// position_ids: position ids (B, T) from token ids (B, T), both u32.
//   kind 0 (BERT):    pos[b, t] = t
//   kind 1 (RoBERTa): pos[b, t] = cumsum(mask)[b, t] * mask[b, t] + padId, mask = ids != padId,
//                     so pads get padId and real tokens padId + 1, padId + 2, ... in order.
// One thread per sequence b: the cumulative sum runs along t in order (T <= 512, cheap).
// Buffers: pos (B, T) u32 overwritten, ids (B, T) u32. Dispatch: ceil(B / WG) workgroups.
struct Params { B: u32, T: u32, kind: u32, padId: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> pos: array<u32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.B) { return; }
  let row = b * p.T;
  var count = 0u;
  for (var t = 0u; t < p.T; t++) {
    if (p.kind == 0u) {
      pos[row + t] = t;
    } else if (ids[row + t] == p.padId) {
      pos[row + t] = p.padId;
    } else {
      count += 1u;
      pos[row + t] = p.padId + count;
    }
  }
}
