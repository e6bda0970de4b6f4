// dropout_forward: out[i] = keep(i) ? inp[i] * scale : 0 for i < n, with element e = offset + i
// (a 64-bit value split into (lo, hi)) and
//   keep(i) = (philox4x32_10(counter, key)[e mod 4] >> 8) >= threshold,
//   counter = (e div 4 as (lo, hi), 0, 0), key = (seed_lo, seed_hi),
// i.e. one generator call serves four consecutive elements, all four output words used
// (src/cpu/philox.ts philoxElementUniform is the host copy). keep iff u >= p with
// u = (word >> 8) * 2^-24, compared as integers: threshold = ceil(p 2^24) (exactly u >= p for any
// f64 p), scale = 1 / (1 - p) (0 when p = 1); threshold 0 is a plain copy and skips the generator.
// Also the backward: dinp = dout * mask * scale is the same map, so dropoutBackward dispatches
// this shader on dout with the same (seed, offset) and gets the identical mask; nothing stored.
// Buffers: out (n) overwritten, inp (n); out must not alias inp.
// Entry points: `main` (n % 4 == 0 and offset % 4 == 0) binds the buffers as vec4 arrays, one
// thread per 4 values and one Philox call, dispatch grid1d(n / 4, WG); `main_scalar` (any n and
// offset) one thread per value, grid1d(n, WG). Flat thread index t = gid.x + gid.y * nwg.x * WG.
// The generator is the cost here (two 16-bit-limb high products per round, ten rounds), so using
// its four words makes the vec4 path about 4x cheaper than a call per element.
struct Params {
  n: u32,
  seed_lo: u32,
  seed_hi: u32,
  offset_lo: u32,
  offset_hi: u32,
  threshold: u32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out1: array<f32>;
@group(0) @binding(2) var<storage, read> inp1: array<f32>;
override WG: u32 = 256u;

const M0: u32 = 0xd2511f53u;
const M1: u32 = 0xcd9e8d57u;
const W0: u32 = 0x9e3779b9u;
const W1: u32 = 0xbb67ae85u;

// High 32 bits of a * b: WGSL has no 64-bit product, so build it from 16-bit limbs.
fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k += vec2u(W0, W1); }
    let lo0 = M0 * c.x;
    let hi0 = mulhi(M0, c.x);
    let lo1 = M1 * c.z;
    let hi1 = mulhi(M1, c.z);
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

// Element e = offset + i as (lo, hi).
fn element(i: u32) -> vec2u {
  let lo = p.offset_lo + i;
  return vec2u(lo, p.offset_hi + select(0u, 1u, lo < i)); // carry out of the low word
}

// The four words of element e's generator call (counter e div 4); element e takes word e mod 4.
fn words(e: vec2u) -> vec4u {
  let c = vec2u((e.x >> 2u) | (e.y << 30u), e.y >> 2u);
  return philox4x32_10(vec4u(c.x, c.y, 0u, 0u), vec2u(p.seed_lo, p.seed_hi));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.n / 4u) { return; }
  if (p.threshold == 0u) {
    out4[t] = inp4[t];
    return;
  }
  // offset % 4 == 0: elements 4t .. 4t + 3 are the four words of one call.
  let mask = (words(element(4u * t)) >> vec4u(8u)) >= vec4u(p.threshold);
  out4[t] = select(vec4f(0.0), inp4[t] * p.scale, mask);
}

@compute @workgroup_size(WG)
fn main_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  if (p.threshold == 0u) {
    out1[i] = inp1[i];
    return;
  }
  let e = element(i);
  let w = words(e)[e.x & 3u];
  out1[i] = select(0.0, inp1[i] * p.scale, (w >> 8u) >= p.threshold);
}
