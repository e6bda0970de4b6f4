// embedding_backward: deterministic scatter-add of token gradients into embedding rows, without
// float atomics. The host groups the token indices by key (word id, position id, or one group of
// all tokens for the token type) into keys (U) ascending, offsets (U + 1) and tokens (N), tokens
// of a group in ascending order. Each (group u, channel c) is summed by one thread, over its
// tokens in that order, and the sum added to its row:
//   dparam[keys[u] - rowStart, c] += sum_{j = offsets[u]}^{offsets[u+1]-1} dout[tokens[j], c]
// for groups u = uBegin .. uBegin + uCount - 1 (those whose key lies in the bound chunk).
// Buffers: dparam (rows, C) accumulated, dout (N, C), keys (U) u32, offsets (U + 1) u32,
// tokens (N) u32.
// Dispatch: one workgroup per group, grid1d(uCount, 1) (k = wid.x + wid.y * nwg.x); its threads
// loop over c with stride WG, rather than one thread per (u, c) (docs/KERNELS.md).
// The token-type row is one group, so one workgroup: fine for N up to a few thousand tokens.
struct Params { C: u32, uBegin: u32, uCount: u32, rowStart: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dparam: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> keys: array<u32>;
@group(0) @binding(4) var<storage, read> offsets: array<u32>;
@group(0) @binding(5) var<storage, read> tokens: array<u32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let k = wid.x + wid.y * nwg.x;
  if (k >= p.uCount) { return; }
  let u = p.uBegin + k;
  let orow = (keys[u] - p.rowStart) * p.C;
  let j0 = offsets[u];
  let j1 = offsets[u + 1u];
  for (var c = lid.x; c < p.C; c += WG) {
    var s = 0.0;
    for (var j = j0; j < j1; j++) { s += dout[tokens[j] * p.C + c]; }
    dparam[orow + c] += s;
  }
}
