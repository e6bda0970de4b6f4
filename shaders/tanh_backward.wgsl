// tanh_backward: dinp[i] = dout[i] * (1 - out[i]^2) for i < n, from the forward's saved output.
// Buffers: dinp (n) overwritten, dout (n), out (n).
// Entry points as in tanh_forward.wgsl: `main` (n % 4 == 0, vec4 arrays, grid1d(n / 4, WG)) and
// `main_scalar` (any n, grid1d(n, WG)); flat index i = gid.x + gid.y * nwg.x * WG.
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<storage, read> out4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dinp1: array<f32>;
@group(0) @binding(2) var<storage, read> dout1: array<f32>;
@group(0) @binding(3) var<storage, read> out1: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n / 4u) {
    let y = out4[i];
    dinp4[i] = dout4[i] * (1.0 - y * y);
  }
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) {
    let y = out1[i];
    dinp1[i] = dout1[i] * (1.0 - y * y);
  }
}
