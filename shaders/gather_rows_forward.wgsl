// gather_rows_forward: out[m, c] = inp[rows[m], c] (picks M rows of an (N, C) matrix).
// Buffers: out (M, C) overwritten, inp (N, C), rows (M) u32.
// Dispatch: one workgroup per output row, grid1d(M, 1) (m = wid.x + wid.y * nwg.x); its threads
// loop over c with stride WG (fewer workgroups and no per-element division: faster on llvmpipe).
struct Params { M: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let m = wid.x + wid.y * nwg.x;
  if (m >= p.M) { return; }
  let src = rows[m] * p.C;
  let dst = m * p.C;
  for (var c = lid.x; c < p.C; c += WG) { out[dst + c] = inp[src + c]; }
}
