// embedding_forward: out[n, c] = (wpe[pos[n], c] + tte[0, c]) + wte[ids[n] - rowStart, c]
// for the N = B*T tokens, where the word-embedding term is added only when ids[n] falls in the
// bound chunk of wte (rows rowStart .. rowStart + rows - 1). Tokens of later chunks get their
// word row from embedding_forward_chunk; the sum is formed in the same order either way, so the
// result does not depend on how wte is split.
// Buffers: out (N, C) overwritten, ids (N) u32, pos (N) u32, wte chunk (rows, C), wpe (P, C),
// tte (types, C).
// Dispatch: one workgroup per token, grid1d(N, 1) (n = wid.x + wid.y * nwg.x); its threads loop
// over c with stride WG: fewer workgroups than one thread per element, and no per-element
// integer division (docs/KERNELS.md).
struct Params { N: u32, C: u32, rowStart: u32, rows: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> pos: array<u32>;
@group(0) @binding(4) var<storage, read> wte: array<f32>;
@group(0) @binding(5) var<storage, read> wpe: array<f32>;
@group(0) @binding(6) var<storage, read> tte: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.N) { return; }
  let id = ids[n];
  let inChunk = id >= p.rowStart && id - p.rowStart < p.rows;
  let wrow = (id - p.rowStart) * p.C;
  let prow = pos[n] * p.C;
  let orow = n * p.C;
  for (var c = lid.x; c < p.C; c += WG) {
    var v = wpe[prow + c] + tte[c];
    if (inChunk) { v += wte[wrow + c]; }
    out[orow + c] = v;
  }
}
