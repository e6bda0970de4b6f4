// Arithmetic-peak probes (bench/peak_bench.ts): independent FMA chains per invocation, no memory
// traffic in the loop. Each invocation runs `iters` rounds of CHAINS chains (vec4 or f32) and
// writes one value so the work is not dead.
//   main_vec4:   8 vec4 chains  -> 64 flop per round
//   main_scalar: 8 f32 chains   -> 16 flop per round
// Dispatch: (groups) workgroups of WG; out (groups * WG) f32, overwritten.
struct Params {
  iters: u32,
  seed: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  var a3 = vec4f(s + 3.0);
  var a4 = vec4f(s + 4.0);
  var a5 = vec4f(s + 5.0);
  var a6 = vec4f(s + 6.0);
  var a7 = vec4f(s + 7.0);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  let t = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = 0.999;
  let c = 1e-3;
  var a0 = s;
  var a1 = s + 1.0;
  var a2 = s + 2.0;
  var a3 = s + 3.0;
  var a4 = s + 4.0;
  var a5 = s + 5.0;
  var a6 = s + 6.0;
  var a7 = s + 7.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  out[gid.x] = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
}
