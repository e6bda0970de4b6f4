// attention_qk: out[b,h,i,j] = x[b,i,h*HS:(h+1)*HS] . y[b,j,h*HS:(h+1)*HS]
// The plain per-head product x yᵀ (the attention backward's datt = dout vᵀ). Overwrites out.
// Buffers: out (B, NH, T, T) read_write, bound twice: as f32 (out) and as vec4 (out4); the override
// VEC4 (T % 4 == 0, rows 16-byte aligned) picks the view the pipeline writes and the other binding
// gets a dummy buffer; x, y (B, T, C) as vec4 (C = NH * HS, HS % 4 == 0).
// Dispatch: grid1d(B * NH * ceil(T / 16)^2, WG). Each thread owns a 16 x 16 register
// tile of (i, j) and walks the head dimension one vec4 at a time: 32 vec4 loads feed 1024 FMAs.
// On a CPU adapter every global load is a per-lane loop, far dearer than an FMA or a register
// spill, so the tile is large and spelled out (the compiler keeps unrolled scalars in registers
// or on the stack; see docs/KERNELS.md); out is written as vec4 where
// rows are aligned. Rows and columns past T are clamped to T - 1 for loads; with vec4 stores, rows
// past T rewrite row T - 1's values from the same thread, otherwise they are skipped. No barriers.
struct Params { T: u32, NH: u32, HS: u32, B: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read> y: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;
override WG: u32 = 8u;
override VEC4: bool = false;

// Writes row i, columns j0..j0+15, of one head's (T, T) block starting at `base`.
fn store_row(c: mat4x4f, base: u32, i: u32, j0: u32) {
  let T = p.T;
  if (VEC4) {
    // Row past T: rewrite row T - 1 (same values, same thread) instead of branching per lane.
    let o = (base + min(i, T - 1u) * T + j0) / 4u;
    let n = T - j0; // a multiple of 4
    out4[o] = c[0];
    if (n > 4u) { out4[o + 1u] = c[1]; }
    if (n > 8u) { out4[o + 2u] = c[2]; }
    if (n > 12u) { out4[o + 3u] = c[3]; }
  } else {
    if (i >= T) { return; }
    let o = base + i * T + j0;
    for (var q = 0u; q < 4u; q++) {
      for (var e = 0u; e < 4u; e++) {
        if (j0 + 4u * q + e < T) { out[o + 4u * q + e] = c[q][e]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let T = p.T;
  let n = (T + 15u) / 16u;
  // Threads are numbered across (b, h) so that small heads fill whole workgroups.
  let g = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let bh = g / (n * n);
  if (bh >= p.B * p.NH) { return; }
  let h = bh % p.NH;
  let b = bh / p.NH;
  let t = g % (n * n);
  let i0 = (t / n) * 16u;
  let j0 = (t % n) * 16u;
  let HS4 = p.HS / 4u;
  let C4 = p.NH * HS4;
  let row0 = b * T;
  let head = h * HS4;
  let last = T - 1u;
  let x0 = (row0 + min(i0 + 0u, last)) * C4 + head;
  let x1 = (row0 + min(i0 + 1u, last)) * C4 + head;
  let x2 = (row0 + min(i0 + 2u, last)) * C4 + head;
  let x3 = (row0 + min(i0 + 3u, last)) * C4 + head;
  let x4 = (row0 + min(i0 + 4u, last)) * C4 + head;
  let x5 = (row0 + min(i0 + 5u, last)) * C4 + head;
  let x6 = (row0 + min(i0 + 6u, last)) * C4 + head;
  let x7 = (row0 + min(i0 + 7u, last)) * C4 + head;
  let x8 = (row0 + min(i0 + 8u, last)) * C4 + head;
  let x9 = (row0 + min(i0 + 9u, last)) * C4 + head;
  let x10 = (row0 + min(i0 + 10u, last)) * C4 + head;
  let x11 = (row0 + min(i0 + 11u, last)) * C4 + head;
  let x12 = (row0 + min(i0 + 12u, last)) * C4 + head;
  let x13 = (row0 + min(i0 + 13u, last)) * C4 + head;
  let x14 = (row0 + min(i0 + 14u, last)) * C4 + head;
  let x15 = (row0 + min(i0 + 15u, last)) * C4 + head;
  let y0 = (row0 + min(j0 + 0u, last)) * C4 + head;
  let y1 = (row0 + min(j0 + 1u, last)) * C4 + head;
  let y2 = (row0 + min(j0 + 2u, last)) * C4 + head;
  let y3 = (row0 + min(j0 + 3u, last)) * C4 + head;
  let y4 = (row0 + min(j0 + 4u, last)) * C4 + head;
  let y5 = (row0 + min(j0 + 5u, last)) * C4 + head;
  let y6 = (row0 + min(j0 + 6u, last)) * C4 + head;
  let y7 = (row0 + min(j0 + 7u, last)) * C4 + head;
  let y8 = (row0 + min(j0 + 8u, last)) * C4 + head;
  let y9 = (row0 + min(j0 + 9u, last)) * C4 + head;
  let y10 = (row0 + min(j0 + 10u, last)) * C4 + head;
  let y11 = (row0 + min(j0 + 11u, last)) * C4 + head;
  let y12 = (row0 + min(j0 + 12u, last)) * C4 + head;
  let y13 = (row0 + min(j0 + 13u, last)) * C4 + head;
  let y14 = (row0 + min(j0 + 14u, last)) * C4 + head;
  let y15 = (row0 + min(j0 + 15u, last)) * C4 + head;

  // c_u[q][e] accumulates x_(i0+u) . y_(j0+4q+e).
  var c0 = mat4x4f();
  var c1 = mat4x4f();
  var c2 = mat4x4f();
  var c3 = mat4x4f();
  var c4 = mat4x4f();
  var c5 = mat4x4f();
  var c6 = mat4x4f();
  var c7 = mat4x4f();
  var c8 = mat4x4f();
  var c9 = mat4x4f();
  var c10 = mat4x4f();
  var c11 = mat4x4f();
  var c12 = mat4x4f();
  var c13 = mat4x4f();
  var c14 = mat4x4f();
  var c15 = mat4x4f();
  for (var d = 0u; d < HS4; d++) {
    // vec4 * mat4x4 gives the four dot products with the matrix's columns (four y rows).
    let k0 = mat4x4f(y[y0 + d], y[y1 + d], y[y2 + d], y[y3 + d]);
    let k1 = mat4x4f(y[y4 + d], y[y5 + d], y[y6 + d], y[y7 + d]);
    let k2 = mat4x4f(y[y8 + d], y[y9 + d], y[y10 + d], y[y11 + d]);
    let k3 = mat4x4f(y[y12 + d], y[y13 + d], y[y14 + d], y[y15 + d]);
    { let a = x[x0 + d]; c0 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x1 + d]; c1 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x2 + d]; c2 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x3 + d]; c3 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x4 + d]; c4 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x5 + d]; c5 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x6 + d]; c6 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x7 + d]; c7 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x8 + d]; c8 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x9 + d]; c9 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x10 + d]; c10 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x11 + d]; c11 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x12 + d]; c12 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x13 + d]; c13 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x14 + d]; c14 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
    { let a = x[x15 + d]; c15 += mat4x4f(a * k0, a * k1, a * k2, a * k3); }
  }

  let base = (b * p.NH + h) * T * T;
  store_row(c0, base, i0 + 0u, j0);
  store_row(c1, base, i0 + 1u, j0);
  store_row(c2, base, i0 + 2u, j0);
  store_row(c3, base, i0 + 3u, j0);
  store_row(c4, base, i0 + 4u, j0);
  store_row(c5, base, i0 + 5u, j0);
  store_row(c6, base, i0 + 6u, j0);
  store_row(c7, base, i0 + 7u, j0);
  store_row(c8, base, i0 + 8u, j0);
  store_row(c9, base, i0 + 9u, j0);
  store_row(c10, base, i0 + 10u, j0);
  store_row(c11, base, i0 + 11u, j0);
  store_row(c12, base, i0 + 12u, j0);
  store_row(c13, base, i0 + 13u, j0);
  store_row(c14, base, i0 + 14u, j0);
  store_row(c15, base, i0 + 15u, j0);
}
