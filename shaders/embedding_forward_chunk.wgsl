// embedding_forward_chunk: out[n, c] += wte[ids[n] - rowStart, c] for the tokens whose id falls
// in the bound chunk of the word embedding (rows rowStart .. rowStart + rows - 1); other tokens
// are left alone. Runs after embedding_forward, once per further chunk of wte.
// Buffers: out (N, C) accumulated, ids (N) u32, wte chunk (rows, C).
// Dispatch: one workgroup per token, grid1d(N, 1) (n = wid.x + wid.y * nwg.x); its threads loop
// over c with stride WG (see embedding_forward).
struct Params { N: u32, C: u32, rowStart: u32, rows: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> wte: array<f32>;
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
  if (id < p.rowStart || id - p.rowStart >= p.rows) { return; }
  let wrow = (id - p.rowStart) * p.C;
  let orow = n * p.C;
  for (var c = lid.x; c < p.C; c += WG) { out[orow + c] += wte[wrow + c]; }
}
