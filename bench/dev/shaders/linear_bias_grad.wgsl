// linear_bias_grad: db[n] += sum_m dout[m, col + n] — the bias gradient of the naive variant (the
// slab variant fuses it into linear_transpose's colsum entry). One invocation per n, m ascending;
// the sum is added to db once (parameter gradients accumulate).
// Buffers: db (N) accumulated; dout (M, ldo), columns [col, col + N) read. Dispatch: grid1d(N, WG).
struct Params { M: u32, N: u32, ldo: u32, col: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * WG;
  if (n >= p.N) {
    return;
  }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) {
    s += dout[m * p.ldo + p.col + n];
  }
  db[n] += s;
}
