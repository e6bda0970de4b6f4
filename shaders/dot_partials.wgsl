// dot_partials: per-workgroup partial sums of a*b, a*a and b*b over up to 7 tensor pairs bound at
// once (one read of both vectors gives the dot product and both norms, for a cosine).
// Pair j (numel n[j] each) is cut into chunks of `chunk` elements; workgroup w of this dispatch
// covers chunk (w - start[j]) of the pair j with start[j] <= w < start[j + 1], and writes
//   partials[3 (base + w) + 0] = sum a*b,  + 1 = sum a*a,  + 2 = sum b*b  over its chunk.
// Several dispatches fill disjoint slot ranges of one partials buffer; reduce_sum (stride 3)
// folds them in a fixed order, so results are deterministic.
// Buffers: partials (>= 3 (base + total_wg)) written, a0..a6 (n[j]) read, b0..b6 (n[j]) read;
// bindings past `count` repeat a0/b0 and get no workgroups.
// Dispatch: ctx.grid1d(total_wg, 1) folded into (x, y); w = wid.x + wid.y * num_workgroups.x;
// workgroups with w >= total_wg exit. WG must be a power of two.
// Overwrites partials[3 base .. 3 (base + total_wg)).
struct Params {
  count: u32,
  base: u32,
  chunk: u32,
  total_wg: u32,
  n: array<vec4u, 2>,
  start: array<vec4u, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read> a0: array<f32>;
@group(0) @binding(3) var<storage, read> a1: array<f32>;
@group(0) @binding(4) var<storage, read> a2: array<f32>;
@group(0) @binding(5) var<storage, read> a3: array<f32>;
@group(0) @binding(6) var<storage, read> a4: array<f32>;
@group(0) @binding(7) var<storage, read> a5: array<f32>;
@group(0) @binding(8) var<storage, read> a6: array<f32>;
@group(0) @binding(9) var<storage, read> b0: array<f32>;
@group(0) @binding(10) var<storage, read> b1: array<f32>;
@group(0) @binding(11) var<storage, read> b2: array<f32>;
@group(0) @binding(12) var<storage, read> b3: array<f32>;
@group(0) @binding(13) var<storage, read> b4: array<f32>;
@group(0) @binding(14) var<storage, read> b5: array<f32>;
@group(0) @binding(15) var<storage, read> b6: array<f32>;
override WG: u32 = 256u;
var<workgroup> sums: array<vec3f, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= p.total_wg) { return; }
  var j = 0u;
  for (var k = 1u; k < p.count; k++) {
    if (p.start[k / 4u][k % 4u] <= w) { j = k; }
  }
  let n = p.n[j / 4u][j % 4u];
  let first = (w - p.start[j / 4u][j % 4u]) * p.chunk;
  let end = min(first + p.chunk, n);
  var acc = vec3f(0.0);
  // One copy of the loop per binding pair: WGSL cannot index bindings, and the loop is selected
  // once per workgroup (j is uniform), not by a switch inside it (docs/KERNELS.md).
  switch j {
    case 0u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a0[i];
        let b = b0[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    case 1u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a1[i];
        let b = b1[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    case 2u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a2[i];
        let b = b2[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    case 3u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a3[i];
        let b = b3[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    case 4u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a4[i];
        let b = b4[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    case 5u: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a5[i];
        let b = b5[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
    default: {
      for (var i = first + lid; i < end; i += WG) {
        let a = a6[i];
        let b = b6[i];
        acc += vec3f(a * b, a * a, b * b);
      }
    }
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sums[lid] += sums[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let o = 3u * (p.base + w);
    partials[o] = sums[0].x;
    partials[o + 1u] = sums[0].y;
    partials[o + 2u] = sums[0].z;
  }
}
