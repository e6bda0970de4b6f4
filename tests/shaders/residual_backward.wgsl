// residual_backward: da[i] += dout[i]; db[i] += dout[i] for i < n.
// Gradients on the residual stream accumulate (see src/model/README.md's gradient rule).
// Buffers: da (n) accumulated, db (n) accumulated, dout (n). Dispatch: grid1d(n, WG).
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> da: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) {
    let g = dout[i];
    da[i] += g;
    db[i] += g;
  }
}
