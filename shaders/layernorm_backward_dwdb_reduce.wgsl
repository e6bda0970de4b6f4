// layernorm_backward_dwdb_reduce: second pass of the dw/db reduction. For column c < C,
//   dw[c] += sum_k parts[0, k, c],  db[c] += sum_k parts[1, k, c]   (k = 0..K-1 in order).
// Buffers: dw (C) accumulated, db (C) accumulated, parts (2, K, C).
// Dispatch: grid1d(C, WG), c = gid.x + gid.y * nwg.x * WG.
struct Params { C: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
@group(0) @binding(3) var<storage, read> parts: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * WG;
  if (c >= p.C) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var k = 0u; k < p.K; k++) {
    sw += parts[k * p.C + c];
    sb += parts[(p.K + k) * p.C + c];
  }
  dw[c] += sw;
  db[c] += sb;
}
