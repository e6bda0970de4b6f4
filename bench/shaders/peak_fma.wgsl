// Arithmetic-peak probes (bench/peak_bench.ts): independent FMA chains per invocation, no memory
// traffic in the loop. Each invocation runs `iters` rounds of N chains and writes one value so the
// work is not dead. On llvmpipe every invocation-private value is one SIMD register across the
// lanes, so N vec4 chains need 4N registers: the entry points span 2..8 vec4 chains (8..32
// registers) and 4..16 scalar chains, and the bench takes the best of each kind.
//   main_vec4_N:   N vec4 chains -> 8N flop per round;  main_scalar_N: N f32 chains -> 2N flop
//   main_acc_N:    N f32 accumulators in a private array, each updated by one fma per round with
//                  a shared operand, as linear_slab's register tile (2 x 64 = 128 per invocation)
//                  is -> 2N flop per round. Past the CPU's 16 vector registers the accumulators
//                  live on the stack: every fma then also loads and stores its accumulator.
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

@compute @workgroup_size(WG)
fn main_acc_16(@builtin(global_invocation_id) gid: vec3u) {
  var acc: array<f32, 16>;
  for (var j = 0u; j < 16u; j++) {
    acc[j] = p.seed + f32(gid.x) * 1e-7 + f32(j);
  }
  let m = 0.999;
  var x = p.seed + f32(gid.x) * 1e-7;
  for (var i = 0u; i < p.iters; i++) {
    acc[0] = fma(x, m, acc[0]);
    acc[1] = fma(x, m, acc[1]);
    acc[2] = fma(x, m, acc[2]);
    acc[3] = fma(x, m, acc[3]);
    acc[4] = fma(x, m, acc[4]);
    acc[5] = fma(x, m, acc[5]);
    acc[6] = fma(x, m, acc[6]);
    acc[7] = fma(x, m, acc[7]);
    acc[8] = fma(x, m, acc[8]);
    acc[9] = fma(x, m, acc[9]);
    acc[10] = fma(x, m, acc[10]);
    acc[11] = fma(x, m, acc[11]);
    acc[12] = fma(x, m, acc[12]);
    acc[13] = fma(x, m, acc[13]);
    acc[14] = fma(x, m, acc[14]);
    acc[15] = fma(x, m, acc[15]);
    x = x * 1.0000001;
  }
  var t = 0.0;
  for (var j = 0u; j < 16u; j++) {
    t += acc[j];
  }
  out[gid.x] = t;
}

@compute @workgroup_size(WG)
fn main_acc_32(@builtin(global_invocation_id) gid: vec3u) {
  var acc: array<f32, 32>;
  for (var j = 0u; j < 32u; j++) {
    acc[j] = p.seed + f32(gid.x) * 1e-7 + f32(j);
  }
  let m = 0.999;
  var x = p.seed + f32(gid.x) * 1e-7;
  for (var i = 0u; i < p.iters; i++) {
    acc[0] = fma(x, m, acc[0]);
    acc[1] = fma(x, m, acc[1]);
    acc[2] = fma(x, m, acc[2]);
    acc[3] = fma(x, m, acc[3]);
    acc[4] = fma(x, m, acc[4]);
    acc[5] = fma(x, m, acc[5]);
    acc[6] = fma(x, m, acc[6]);
    acc[7] = fma(x, m, acc[7]);
    acc[8] = fma(x, m, acc[8]);
    acc[9] = fma(x, m, acc[9]);
    acc[10] = fma(x, m, acc[10]);
    acc[11] = fma(x, m, acc[11]);
    acc[12] = fma(x, m, acc[12]);
    acc[13] = fma(x, m, acc[13]);
    acc[14] = fma(x, m, acc[14]);
    acc[15] = fma(x, m, acc[15]);
    acc[16] = fma(x, m, acc[16]);
    acc[17] = fma(x, m, acc[17]);
    acc[18] = fma(x, m, acc[18]);
    acc[19] = fma(x, m, acc[19]);
    acc[20] = fma(x, m, acc[20]);
    acc[21] = fma(x, m, acc[21]);
    acc[22] = fma(x, m, acc[22]);
    acc[23] = fma(x, m, acc[23]);
    acc[24] = fma(x, m, acc[24]);
    acc[25] = fma(x, m, acc[25]);
    acc[26] = fma(x, m, acc[26]);
    acc[27] = fma(x, m, acc[27]);
    acc[28] = fma(x, m, acc[28]);
    acc[29] = fma(x, m, acc[29]);
    acc[30] = fma(x, m, acc[30]);
    acc[31] = fma(x, m, acc[31]);
    x = x * 1.0000001;
  }
  var t = 0.0;
  for (var j = 0u; j < 32u; j++) {
    t += acc[j];
  }
  out[gid.x] = t;
}

@compute @workgroup_size(WG)
fn main_acc_64(@builtin(global_invocation_id) gid: vec3u) {
  var acc: array<f32, 64>;
  for (var j = 0u; j < 64u; j++) {
    acc[j] = p.seed + f32(gid.x) * 1e-7 + f32(j);
  }
  let m = 0.999;
  var x = p.seed + f32(gid.x) * 1e-7;
  for (var i = 0u; i < p.iters; i++) {
    acc[0] = fma(x, m, acc[0]);
    acc[1] = fma(x, m, acc[1]);
    acc[2] = fma(x, m, acc[2]);
    acc[3] = fma(x, m, acc[3]);
    acc[4] = fma(x, m, acc[4]);
    acc[5] = fma(x, m, acc[5]);
    acc[6] = fma(x, m, acc[6]);
    acc[7] = fma(x, m, acc[7]);
    acc[8] = fma(x, m, acc[8]);
    acc[9] = fma(x, m, acc[9]);
    acc[10] = fma(x, m, acc[10]);
    acc[11] = fma(x, m, acc[11]);
    acc[12] = fma(x, m, acc[12]);
    acc[13] = fma(x, m, acc[13]);
    acc[14] = fma(x, m, acc[14]);
    acc[15] = fma(x, m, acc[15]);
    acc[16] = fma(x, m, acc[16]);
    acc[17] = fma(x, m, acc[17]);
    acc[18] = fma(x, m, acc[18]);
    acc[19] = fma(x, m, acc[19]);
    acc[20] = fma(x, m, acc[20]);
    acc[21] = fma(x, m, acc[21]);
    acc[22] = fma(x, m, acc[22]);
    acc[23] = fma(x, m, acc[23]);
    acc[24] = fma(x, m, acc[24]);
    acc[25] = fma(x, m, acc[25]);
    acc[26] = fma(x, m, acc[26]);
    acc[27] = fma(x, m, acc[27]);
    acc[28] = fma(x, m, acc[28]);
    acc[29] = fma(x, m, acc[29]);
    acc[30] = fma(x, m, acc[30]);
    acc[31] = fma(x, m, acc[31]);
    acc[32] = fma(x, m, acc[32]);
    acc[33] = fma(x, m, acc[33]);
    acc[34] = fma(x, m, acc[34]);
    acc[35] = fma(x, m, acc[35]);
    acc[36] = fma(x, m, acc[36]);
    acc[37] = fma(x, m, acc[37]);
    acc[38] = fma(x, m, acc[38]);
    acc[39] = fma(x, m, acc[39]);
    acc[40] = fma(x, m, acc[40]);
    acc[41] = fma(x, m, acc[41]);
    acc[42] = fma(x, m, acc[42]);
    acc[43] = fma(x, m, acc[43]);
    acc[44] = fma(x, m, acc[44]);
    acc[45] = fma(x, m, acc[45]);
    acc[46] = fma(x, m, acc[46]);
    acc[47] = fma(x, m, acc[47]);
    acc[48] = fma(x, m, acc[48]);
    acc[49] = fma(x, m, acc[49]);
    acc[50] = fma(x, m, acc[50]);
    acc[51] = fma(x, m, acc[51]);
    acc[52] = fma(x, m, acc[52]);
    acc[53] = fma(x, m, acc[53]);
    acc[54] = fma(x, m, acc[54]);
    acc[55] = fma(x, m, acc[55]);
    acc[56] = fma(x, m, acc[56]);
    acc[57] = fma(x, m, acc[57]);
    acc[58] = fma(x, m, acc[58]);
    acc[59] = fma(x, m, acc[59]);
    acc[60] = fma(x, m, acc[60]);
    acc[61] = fma(x, m, acc[61]);
    acc[62] = fma(x, m, acc[62]);
    acc[63] = fma(x, m, acc[63]);
    x = x * 1.0000001;
  }
  var t = 0.0;
  for (var j = 0u; j < 64u; j++) {
    t += acc[j];
  }
  out[gid.x] = t;
}

@compute @workgroup_size(WG)
fn main_acc_128(@builtin(global_invocation_id) gid: vec3u) {
  var acc: array<f32, 128>;
  for (var j = 0u; j < 128u; j++) {
    acc[j] = p.seed + f32(gid.x) * 1e-7 + f32(j);
  }
  let m = 0.999;
  var x = p.seed + f32(gid.x) * 1e-7;
  for (var i = 0u; i < p.iters; i++) {
    acc[0] = fma(x, m, acc[0]);
    acc[1] = fma(x, m, acc[1]);
    acc[2] = fma(x, m, acc[2]);
    acc[3] = fma(x, m, acc[3]);
    acc[4] = fma(x, m, acc[4]);
    acc[5] = fma(x, m, acc[5]);
    acc[6] = fma(x, m, acc[6]);
    acc[7] = fma(x, m, acc[7]);
    acc[8] = fma(x, m, acc[8]);
    acc[9] = fma(x, m, acc[9]);
    acc[10] = fma(x, m, acc[10]);
    acc[11] = fma(x, m, acc[11]);
    acc[12] = fma(x, m, acc[12]);
    acc[13] = fma(x, m, acc[13]);
    acc[14] = fma(x, m, acc[14]);
    acc[15] = fma(x, m, acc[15]);
    acc[16] = fma(x, m, acc[16]);
    acc[17] = fma(x, m, acc[17]);
    acc[18] = fma(x, m, acc[18]);
    acc[19] = fma(x, m, acc[19]);
    acc[20] = fma(x, m, acc[20]);
    acc[21] = fma(x, m, acc[21]);
    acc[22] = fma(x, m, acc[22]);
    acc[23] = fma(x, m, acc[23]);
    acc[24] = fma(x, m, acc[24]);
    acc[25] = fma(x, m, acc[25]);
    acc[26] = fma(x, m, acc[26]);
    acc[27] = fma(x, m, acc[27]);
    acc[28] = fma(x, m, acc[28]);
    acc[29] = fma(x, m, acc[29]);
    acc[30] = fma(x, m, acc[30]);
    acc[31] = fma(x, m, acc[31]);
    acc[32] = fma(x, m, acc[32]);
    acc[33] = fma(x, m, acc[33]);
    acc[34] = fma(x, m, acc[34]);
    acc[35] = fma(x, m, acc[35]);
    acc[36] = fma(x, m, acc[36]);
    acc[37] = fma(x, m, acc[37]);
    acc[38] = fma(x, m, acc[38]);
    acc[39] = fma(x, m, acc[39]);
    acc[40] = fma(x, m, acc[40]);
    acc[41] = fma(x, m, acc[41]);
    acc[42] = fma(x, m, acc[42]);
    acc[43] = fma(x, m, acc[43]);
    acc[44] = fma(x, m, acc[44]);
    acc[45] = fma(x, m, acc[45]);
    acc[46] = fma(x, m, acc[46]);
    acc[47] = fma(x, m, acc[47]);
    acc[48] = fma(x, m, acc[48]);
    acc[49] = fma(x, m, acc[49]);
    acc[50] = fma(x, m, acc[50]);
    acc[51] = fma(x, m, acc[51]);
    acc[52] = fma(x, m, acc[52]);
    acc[53] = fma(x, m, acc[53]);
    acc[54] = fma(x, m, acc[54]);
    acc[55] = fma(x, m, acc[55]);
    acc[56] = fma(x, m, acc[56]);
    acc[57] = fma(x, m, acc[57]);
    acc[58] = fma(x, m, acc[58]);
    acc[59] = fma(x, m, acc[59]);
    acc[60] = fma(x, m, acc[60]);
    acc[61] = fma(x, m, acc[61]);
    acc[62] = fma(x, m, acc[62]);
    acc[63] = fma(x, m, acc[63]);
    acc[64] = fma(x, m, acc[64]);
    acc[65] = fma(x, m, acc[65]);
    acc[66] = fma(x, m, acc[66]);
    acc[67] = fma(x, m, acc[67]);
    acc[68] = fma(x, m, acc[68]);
    acc[69] = fma(x, m, acc[69]);
    acc[70] = fma(x, m, acc[70]);
    acc[71] = fma(x, m, acc[71]);
    acc[72] = fma(x, m, acc[72]);
    acc[73] = fma(x, m, acc[73]);
    acc[74] = fma(x, m, acc[74]);
    acc[75] = fma(x, m, acc[75]);
    acc[76] = fma(x, m, acc[76]);
    acc[77] = fma(x, m, acc[77]);
    acc[78] = fma(x, m, acc[78]);
    acc[79] = fma(x, m, acc[79]);
    acc[80] = fma(x, m, acc[80]);
    acc[81] = fma(x, m, acc[81]);
    acc[82] = fma(x, m, acc[82]);
    acc[83] = fma(x, m, acc[83]);
    acc[84] = fma(x, m, acc[84]);
    acc[85] = fma(x, m, acc[85]);
    acc[86] = fma(x, m, acc[86]);
    acc[87] = fma(x, m, acc[87]);
    acc[88] = fma(x, m, acc[88]);
    acc[89] = fma(x, m, acc[89]);
    acc[90] = fma(x, m, acc[90]);
    acc[91] = fma(x, m, acc[91]);
    acc[92] = fma(x, m, acc[92]);
    acc[93] = fma(x, m, acc[93]);
    acc[94] = fma(x, m, acc[94]);
    acc[95] = fma(x, m, acc[95]);
    acc[96] = fma(x, m, acc[96]);
    acc[97] = fma(x, m, acc[97]);
    acc[98] = fma(x, m, acc[98]);
    acc[99] = fma(x, m, acc[99]);
    acc[100] = fma(x, m, acc[100]);
    acc[101] = fma(x, m, acc[101]);
    acc[102] = fma(x, m, acc[102]);
    acc[103] = fma(x, m, acc[103]);
    acc[104] = fma(x, m, acc[104]);
    acc[105] = fma(x, m, acc[105]);
    acc[106] = fma(x, m, acc[106]);
    acc[107] = fma(x, m, acc[107]);
    acc[108] = fma(x, m, acc[108]);
    acc[109] = fma(x, m, acc[109]);
    acc[110] = fma(x, m, acc[110]);
    acc[111] = fma(x, m, acc[111]);
    acc[112] = fma(x, m, acc[112]);
    acc[113] = fma(x, m, acc[113]);
    acc[114] = fma(x, m, acc[114]);
    acc[115] = fma(x, m, acc[115]);
    acc[116] = fma(x, m, acc[116]);
    acc[117] = fma(x, m, acc[117]);
    acc[118] = fma(x, m, acc[118]);
    acc[119] = fma(x, m, acc[119]);
    acc[120] = fma(x, m, acc[120]);
    acc[121] = fma(x, m, acc[121]);
    acc[122] = fma(x, m, acc[122]);
    acc[123] = fma(x, m, acc[123]);
    acc[124] = fma(x, m, acc[124]);
    acc[125] = fma(x, m, acc[125]);
    acc[126] = fma(x, m, acc[126]);
    acc[127] = fma(x, m, acc[127]);
    x = x * 1.0000001;
  }
  var t = 0.0;
  for (var j = 0u; j < 128u; j++) {
    t += acc[j];
  }
  out[gid.x] = t;
}
