// scale_accumulate: y[i] = alpha * x[i] + beta * y[i] for i < n.
// Covers scale (x = y is not allowed: use beta only with x = zeros), accumulate (alpha 1, beta 1),
// and copy (alpha 1, beta 0: y is overwritten, never read, so NaN in old y does not leak).
// Buffers: x (n) read, y (n) read_write. Dispatch: grid1d(n, WG).
struct Params { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var v = p.alpha * x[i];
  if (p.beta != 0.0) { v += p.beta * y[i]; }
  y[i] = v;
}
