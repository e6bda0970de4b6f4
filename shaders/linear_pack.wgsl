// linear_pack: copies between a column window of a row-major matrix and a dense matrix whose rows
// are padded to a multiple of 4 (what the vec4 kernels read and write). Elementwise, one
// invocation per element; dispatch grid1d(rows * cols4, WG) for `main`, grid1d(rows * cols, WG)
// for `unpack`.
//   main:   dense[r, c] = c < cols ? win[r * ld + off + c] : 0          (dense overwritten)
//   unpack: win[r * ld + off + c] (= or +=) dense[r, c] for c < cols     (window columns only)
// Buffers: dst first (read_write), src second: main (dense (rows, cols4), win); unpack (win,
// dense).
struct Params { rows: u32, cols: u32, cols4: u32, ld: u32, off: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.cols4) {
    return;
  }
  let r = i / p.cols4;
  let c = i % p.cols4;
  var v = 0.0;
  if (c < p.cols) {
    v = src[r * p.ld + p.off + c];
  }
  dst[i] = v;
}

@compute @workgroup_size(WG)
fn unpack(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.cols) {
    return;
  }
  let r = i / p.cols;
  let c = i % p.cols;
  let o = r * p.ld + p.off + c;
  var v = src[r * p.cols4 + c];
  if (p.accumulate == 1u) {
    v += dst[o];
  }
  dst[o] = v;
}
