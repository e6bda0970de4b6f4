// gather_rows_backward: dinp[rows[m], c] += dout[m, c]. The rows must be distinct (each output
// element then has exactly one writer). Accumulates, because dinp is a residual-stream gradient.
// Buffers: dinp (N, C) accumulated, dout (M, C), rows (M) u32.
// Dispatch: one workgroup per row of dout, grid1d(M, 1) (m = wid.x + wid.y * nwg.x); its
// threads loop over c with stride WG.
struct Params { M: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
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
  let dst = rows[m] * p.C;
  let src = m * p.C;
  for (var c = lid.x; c < p.C; c += WG) { dinp[dst + c] += dout[src + c]; }
}
