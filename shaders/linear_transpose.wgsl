// linear_transpose: the transpose of a column window, rows padded with zeros to a multiple of 4,
// for the vec4 loads of linear_slab's backward-weight pass (A = doutT):
//   main:   dst[c, r] = win[r * ld + off + c]   for c < cols, r < rows4 (zero for r >= rows)
//   colsum: the same, and also db[dboff + c] += sum_r win[r * ld + off + c] (r ascending): the
//           bias gradient, fused because this pass already reads every element.
// Buffers: dst (cols, rows4) overwritten; win (., ld) read; db accumulated (colsum only).
// Dispatch: grid1d(cols, WG); each invocation walks its column in steps of 4 rows.
struct Params { rows: u32, cols: u32, rows4: u32, ld: u32, off: u32, dboff: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<storage, read> win: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;
override WG: u32 = 64u;

fn at(r: u32, c: u32) -> f32 {
  if (r < p.rows) {
    return win[r * p.ld + p.off + c];
  }
  return 0.0;
}

// Writes column c of the window as row c of dst; returns the column's sum.
fn transpose_column(c: u32) -> f32 {
  var s = 0.0;
  let base = c * (p.rows4 / 4u);
  for (var r = 0u; r < p.rows4; r += 4u) {
    let v = vec4f(at(r, c), at(r + 1u, c), at(r + 2u, c), at(r + 3u, c));
    dst[base + r / 4u] = v;
    s += v.x;
    s += v.y;
    s += v.z;
    s += v.w;
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * WG;
  if (c < p.cols) {
    _ = transpose_column(c);
  }
}

@compute @workgroup_size(WG)
fn colsum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * WG;
  if (c < p.cols) {
    db[p.dboff + c] += transpose_column(c);
  }
}
