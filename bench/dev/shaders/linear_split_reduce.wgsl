// linear_split_reduce: dw[i] += sum_{s = 0}^{splits - 1} part[s * n + i], s ascending (the second
// pass of linear_backward_weight_tiled when the rows are split).
// Buffers: dw (n) accumulated; part (splits, n).
// Dispatch: grid1d(n, 256).
struct Params { n: u32, splits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<storage, read> part: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) {
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < p.splits; j++) {
    s += part[j * p.n + i];
  }
  dw[i] += s;
}
