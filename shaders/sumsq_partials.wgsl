// sumsq_partials: per-workgroup partial sums of squares over up to 15 tensors bound at once.
// Tensor j (numel n[j]) is cut into chunks of `chunk` elements; workgroup w of this dispatch
// covers chunk (w - start[j]) of the tensor j with start[j] <= w < start[j + 1], and writes
//   partials[base + w] = sum of x^2 over its chunk.
// So one dispatch serves up to 15 tensors (tiny bias/LayerNorm vectors and big matrices alike),
// and several dispatches fill disjoint slot ranges of one partials buffer, which reduce_sum then
// folds in a fixed order (deterministic: no atomics, same order every run).
// Buffers: partials (>= base + total_wg) written, t0..t14 (n[j]) read; bindings past `count`
// repeat t0 and get no workgroups.
// Dispatch: ctx.grid1d(total_wg, 1) folded into (x, y); w = wid.x + wid.y * num_workgroups.x;
// workgroups with w >= total_wg exit. WG must be a power of two; chunk a multiple of WG.
// Overwrites partials[base .. base + total_wg).
struct Params {
  count: u32,
  base: u32,
  chunk: u32,
  total_wg: u32,
  n: array<vec4u, 4>,
  start: array<vec4u, 4>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> t1: array<f32>;
@group(0) @binding(4) var<storage, read> t2: array<f32>;
@group(0) @binding(5) var<storage, read> t3: array<f32>;
@group(0) @binding(6) var<storage, read> t4: array<f32>;
@group(0) @binding(7) var<storage, read> t5: array<f32>;
@group(0) @binding(8) var<storage, read> t6: array<f32>;
@group(0) @binding(9) var<storage, read> t7: array<f32>;
@group(0) @binding(10) var<storage, read> t8: array<f32>;
@group(0) @binding(11) var<storage, read> t9: array<f32>;
@group(0) @binding(12) var<storage, read> t10: array<f32>;
@group(0) @binding(13) var<storage, read> t11: array<f32>;
@group(0) @binding(14) var<storage, read> t12: array<f32>;
@group(0) @binding(15) var<storage, read> t13: array<f32>;
@group(0) @binding(16) var<storage, read> t14: array<f32>;
override WG: u32 = 256u;
var<workgroup> sums: array<f32, WG>;

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
  var acc = 0.0;
  // One copy of the loop per binding: WGSL cannot index bindings, and the loop is selected once
  // per workgroup (j is uniform), not by a switch inside it (docs/KERNELS.md).
  switch j {
    case 0u: { for (var i = first + lid; i < end; i += WG) { let x = t0[i]; acc += x * x; } }
    case 1u: { for (var i = first + lid; i < end; i += WG) { let x = t1[i]; acc += x * x; } }
    case 2u: { for (var i = first + lid; i < end; i += WG) { let x = t2[i]; acc += x * x; } }
    case 3u: { for (var i = first + lid; i < end; i += WG) { let x = t3[i]; acc += x * x; } }
    case 4u: { for (var i = first + lid; i < end; i += WG) { let x = t4[i]; acc += x * x; } }
    case 5u: { for (var i = first + lid; i < end; i += WG) { let x = t5[i]; acc += x * x; } }
    case 6u: { for (var i = first + lid; i < end; i += WG) { let x = t6[i]; acc += x * x; } }
    case 7u: { for (var i = first + lid; i < end; i += WG) { let x = t7[i]; acc += x * x; } }
    case 8u: { for (var i = first + lid; i < end; i += WG) { let x = t8[i]; acc += x * x; } }
    case 9u: { for (var i = first + lid; i < end; i += WG) { let x = t9[i]; acc += x * x; } }
    case 10u: { for (var i = first + lid; i < end; i += WG) { let x = t10[i]; acc += x * x; } }
    case 11u: { for (var i = first + lid; i < end; i += WG) { let x = t11[i]; acc += x * x; } }
    case 12u: { for (var i = first + lid; i < end; i += WG) { let x = t12[i]; acc += x * x; } }
    case 13u: { for (var i = first + lid; i < end; i += WG) { let x = t13[i]; acc += x * x; } }
    default: { for (var i = first + lid; i < end; i += WG) { let x = t14[i]; acc += x * x; } }
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { sums[lid] += sums[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.base + w] = sums[0]; }
}
