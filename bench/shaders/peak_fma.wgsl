// Arithmetic-peak probes (bench/peak_bench.ts): independent FMA chains per invocation, no memory
// traffic in the loop. Each invocation runs `iters` rounds of N chains and writes one value so the
// work is not dead. On llvmpipe every invocation-private value is one SIMD register across the
// lanes, so N vec4 chains need 4N registers: the entry points span 2..8 vec4 chains (8..32
// registers) and 4..16 scalar chains, and the bench takes the best of each kind.
//   main_vec4_N:   N vec4 chains -> 8N flop per round;  main_scalar_N: N f32 chains -> 2N flop
// Dispatch: (groups) workgroups of WG; out (groups * WG) f32, overwritten.
struct Params {
  iters: u32,
  seed: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
override WG: u32 = 64u;


@compute @workgroup_size(WG)
fn main_vec4_2(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s + 0.0);
  var a1 = vec4f(s + 1.0);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
  }
  let t = a0 + a1;
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_vec4_3(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s + 0.0);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
  }
  let t = a0 + a1 + a2;
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_vec4_4(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s + 0.0);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  var a3 = vec4f(s + 3.0);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
  }
  let t = a0 + a1 + a2 + a3;
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_vec4_6(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s + 0.0);
  var a1 = vec4f(s + 1.0);
  var a2 = vec4f(s + 2.0);
  var a3 = vec4f(s + 3.0);
  var a4 = vec4f(s + 4.0);
  var a5 = vec4f(s + 5.0);
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
  }
  let t = a0 + a1 + a2 + a3 + a4 + a5;
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_vec4_8(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  let c = vec4f(1e-3);
  var a0 = vec4f(s + 0.0);
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
  let t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  out[gid.x] = t.x + t.y + t.z + t.w;
}

@compute @workgroup_size(WG)
fn main_scalar_4(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = 0.999;
  let c = 1e-3;
  var a0 = s + 0.0;
  var a1 = s + 1.0;
  var a2 = s + 2.0;
  var a3 = s + 3.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
  }
  out[gid.x] = a0 + a1 + a2 + a3;
}

@compute @workgroup_size(WG)
fn main_scalar_8(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = 0.999;
  let c = 1e-3;
  var a0 = s + 0.0;
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
  out[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

@compute @workgroup_size(WG)
fn main_scalar_12(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = 0.999;
  let c = 1e-3;
  var a0 = s + 0.0;
  var a1 = s + 1.0;
  var a2 = s + 2.0;
  var a3 = s + 3.0;
  var a4 = s + 4.0;
  var a5 = s + 5.0;
  var a6 = s + 6.0;
  var a7 = s + 7.0;
  var a8 = s + 8.0;
  var a9 = s + 9.0;
  var a10 = s + 10.0;
  var a11 = s + 11.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
    a8 = fma(a8, m, c);
    a9 = fma(a9, m, c);
    a10 = fma(a10, m, c);
    a11 = fma(a11, m, c);
  }
  out[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
}

@compute @workgroup_size(WG)
fn main_scalar_16(@builtin(global_invocation_id) gid: vec3u) {
  let s = p.seed + f32(gid.x) * 1e-7;
  let m = 0.999;
  let c = 1e-3;
  var a0 = s + 0.0;
  var a1 = s + 1.0;
  var a2 = s + 2.0;
  var a3 = s + 3.0;
  var a4 = s + 4.0;
  var a5 = s + 5.0;
  var a6 = s + 6.0;
  var a7 = s + 7.0;
  var a8 = s + 8.0;
  var a9 = s + 9.0;
  var a10 = s + 10.0;
  var a11 = s + 11.0;
  var a12 = s + 12.0;
  var a13 = s + 13.0;
  var a14 = s + 14.0;
  var a15 = s + 15.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
    a8 = fma(a8, m, c);
    a9 = fma(a9, m, c);
    a10 = fma(a10, m, c);
    a11 = fma(a11, m, c);
    a12 = fma(a12, m, c);
    a13 = fma(a13, m, c);
    a14 = fma(a14, m, c);
    a15 = fma(a15, m, c);
  }
  out[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
}
