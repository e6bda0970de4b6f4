// reduce_pack: gather up to 15 device scalars into one small tensor, so a trainer reads its
// losses, norms, clip factors and cosines with a single readback:
//   out[offset + j] = s_j[index[j]] for j < count.
// Buffers: out (>= offset + count) written, s0..s14 read (bindings past `count` repeat s0).
// Dispatch: (1, 1, 1) with 16 invocations (the wrapper issues one dispatch per 15 scalars).
// Overwrites out[offset .. offset + count); other elements of out are left as they were.
struct Params {
  count: u32,
  offset: u32,
  index: array<vec4u, 4>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> s0: array<f32>;
@group(0) @binding(3) var<storage, read> s1: array<f32>;
@group(0) @binding(4) var<storage, read> s2: array<f32>;
@group(0) @binding(5) var<storage, read> s3: array<f32>;
@group(0) @binding(6) var<storage, read> s4: array<f32>;
@group(0) @binding(7) var<storage, read> s5: array<f32>;
@group(0) @binding(8) var<storage, read> s6: array<f32>;
@group(0) @binding(9) var<storage, read> s7: array<f32>;
@group(0) @binding(10) var<storage, read> s8: array<f32>;
@group(0) @binding(11) var<storage, read> s9: array<f32>;
@group(0) @binding(12) var<storage, read> s10: array<f32>;
@group(0) @binding(13) var<storage, read> s11: array<f32>;
@group(0) @binding(14) var<storage, read> s12: array<f32>;
@group(0) @binding(15) var<storage, read> s13: array<f32>;
@group(0) @binding(16) var<storage, read> s14: array<f32>;

fn load(j: u32, k: u32) -> f32 {
  switch j {
    case 0u: { return s0[k]; }
    case 1u: { return s1[k]; }
    case 2u: { return s2[k]; }
    case 3u: { return s3[k]; }
    case 4u: { return s4[k]; }
    case 5u: { return s5[k]; }
    case 6u: { return s6[k]; }
    case 7u: { return s7[k]; }
    case 8u: { return s8[k]; }
    case 9u: { return s9[k]; }
    case 10u: { return s10[k]; }
    case 11u: { return s11[k]; }
    case 12u: { return s12[k]; }
    case 13u: { return s13[k]; }
    default: { return s14[k]; }
  }
}

@compute @workgroup_size(16)
fn main(@builtin(local_invocation_index) j: u32) {
  if (j < p.count) { out[p.offset + j] = load(j, p.index[j / 4u][j % 4u]); }
}
