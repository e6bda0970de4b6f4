// linear_backward_weight_tiled: partial sums of dw[n, k] = sum_m dout[m, col + n] * inp[m, k]
// with a 4 x 8 register tile per invocation (rows n0..n0+3, columns k0..k0+7; main_vec4: 8 x 8,
// rows n0..n0+7) over one split of
// the rows m: split s (= global_invocation_id.z) sums m in [s * mChunk, min((s + 1) * mChunk, M))
// ascending. With one split (direct == 1) the sum is added to dw; otherwise it is written to
// part[s] and linear_split_reduce adds the splits to dw in order (deterministic, no atomics).
// No workgroup memory and no barriers (variant "tiled"). Any K: clamped columns are not stored.
// Buffers: out = dw (N, K) accumulated (direct) or part (splits, N, K) overwritten; dout (M, ldo),
// columns [col, col + N) read; inp (M, K).
// Dispatch: (grid1d(ceil(N / 4) * ceil(K / 8), 64), splits).
// Entry points: `main` (any sizes, scalar loads) and `main_vec4` (K, N, ldo and col multiples of
// 4): an 8 x 8 tile (rows n0..n0+7) with the same fma sequence per output and the same splits
// (bit-identical results) and vec4 loads, 4 per step m for twice the outputs of `main`'s 12 (on a
// CPU adapter each load is a per-lane loop). main_vec4 also sums the bias
// gradient when has_bias == 1: db[n] += sum_m dout[m, col + n], m ascending from 0 (as
// linear_bias_grad), by the threads of an extra first z layer (wid.z == 0; the splits are then
// wid.z - 1), each owning groups of 4 consecutive n; it runs beside the splits, not after them.
// Dispatch (main_vec4): (grid1d(ceil(N / 8) * ceil(K / 8), 64), splits + has_bias).
struct Params {
  M: u32, K: u32, N: u32, ldo: u32, col: u32, mChunk: u32, direct: u32, has_bias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> db4: array<vec4f>;

fn store(base: u32, n: u32, k0: u32, lo: vec4f, hi: vec4f) {
  if (n >= p.N) {
    return;
  }
  let v = array<f32, 8>(lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  for (var j = 0u; j < 8u; j++) {
    let k = k0 + j;
    if (k < p.K) {
      let o = base + n * p.K + k;
      if (p.direct == 1u) {
        out[o] += v[j];
      } else {
        out[o] = v[j];
      }
    }
  }
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid.x;
  let s = wid.z;
  let tilesK = (p.K + 7u) / 8u;
  let n0 = (i / tilesK) * 4u;
  let k0 = (i % tilesK) * 8u;
  if (n0 >= p.N) {
    return;
  }
  let d0 = p.col + min(n0, p.N - 1u);
  let d1 = p.col + min(n0 + 1u, p.N - 1u);
  let d2 = p.col + min(n0 + 2u, p.N - 1u);
  let d3 = p.col + min(n0 + 3u, p.N - 1u);
  let last = p.K - 1u;
  let kl = min(vec4u(k0) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
  let kh = min(vec4u(k0) + vec4u(4u, 5u, 6u, 7u), vec4u(last));
  var c0l = vec4f(0.0);
  var c0h = vec4f(0.0);
  var c1l = vec4f(0.0);
  var c1h = vec4f(0.0);
  var c2l = vec4f(0.0);
  var c2h = vec4f(0.0);
  var c3l = vec4f(0.0);
  var c3h = vec4f(0.0);
  let mEnd = min((s + 1u) * p.mChunk, p.M);
  for (var m = s * p.mChunk; m < mEnd; m++) {
    let a = m * p.K;
    let xl = vec4f(inp[a + kl.x], inp[a + kl.y], inp[a + kl.z], inp[a + kl.w]);
    let xh = vec4f(inp[a + kh.x], inp[a + kh.y], inp[a + kh.z], inp[a + kh.w]);
    let r = m * p.ldo;
    let g0 = dout[r + d0];
    let g1 = dout[r + d1];
    let g2 = dout[r + d2];
    let g3 = dout[r + d3];
    c0l = fma(vec4f(g0), xl, c0l);
    c0h = fma(vec4f(g0), xh, c0h);
    c1l = fma(vec4f(g1), xl, c1l);
    c1h = fma(vec4f(g1), xh, c1h);
    c2l = fma(vec4f(g2), xl, c2l);
    c2h = fma(vec4f(g2), xh, c2h);
    c3l = fma(vec4f(g3), xl, c3l);
    c3h = fma(vec4f(g3), xh, c3h);
  }
  let base = select(s * p.N * p.K, 0u, p.direct == 1u);
  store(base, n0, k0, c0l, c0h);
  store(base, n0 + 1u, k0, c1l, c1h);
  store(base, n0 + 2u, k0, c2l, c2h);
  store(base, n0 + 3u, k0, c3l, c3h);
}

// Row n's 8 columns k0..k0+7 as two vec4 (K % 4 == 0: the second is wholly in or out).
fn store4(base: u32, n: u32, k0: u32, lo: vec4f, hi: vec4f) {
  if (n >= p.N) {
    return;
  }
  let o = (base + n * p.K + k0) / 4u;
  if (p.direct == 1u) {
    out4[o] = out4[o] + lo;
    if (k0 + 4u < p.K) { out4[o + 1u] = out4[o + 1u] + hi; }
  } else {
    out4[o] = lo;
    if (k0 + 4u < p.K) { out4[o + 1u] = hi; }
  }
}

@compute @workgroup_size(64)
fn main_vec4(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let i = (wid.x + wid.y * nwg.x) * 64u + lid.x;
  let ldo4 = p.ldo / 4u;
  if (p.has_bias == 1u && wid.z == 0u) {
    // The layer may have fewer threads than N / 4 (K <= 8): each takes every stride-th group.
    let stride = nwg.x * nwg.y * 64u;
    for (var j = i; j < p.N / 4u; j += stride) {
      let o = p.col / 4u + j;
      var acc = vec4f(0.0);
      for (var m = 0u; m < p.M; m++) { acc += dout4[m * ldo4 + o]; }
      db4[j] += acc;
    }
    return;
  }
  let s = wid.z - p.has_bias;
  let tilesK = (p.K + 7u) / 8u;
  let n0 = (i / tilesK) * 8u;
  let k0 = (i % tilesK) * 8u;
  if (n0 >= p.N) {
    return;
  }
  let K4 = p.K / 4u;
  let kl = k0 / 4u;
  let kh = min(kl + 1u, K4 - 1u); // past K: a clamped copy, never stored
  // N % 4 == 0: rows n0..n0+3 all exist; n0+4..n0+7 all or none (then a clamped copy, not stored).
  let dl = (p.col + n0) / 4u;
  let dh = (p.col + min(n0 + 4u, p.N - 4u)) / 4u;
  var c0l = vec4f(0.0);
  var c0h = vec4f(0.0);
  var c1l = vec4f(0.0);
  var c1h = vec4f(0.0);
  var c2l = vec4f(0.0);
  var c2h = vec4f(0.0);
  var c3l = vec4f(0.0);
  var c3h = vec4f(0.0);
  var c4l = vec4f(0.0);
  var c4h = vec4f(0.0);
  var c5l = vec4f(0.0);
  var c5h = vec4f(0.0);
  var c6l = vec4f(0.0);
  var c6h = vec4f(0.0);
  var c7l = vec4f(0.0);
  var c7h = vec4f(0.0);
  let mEnd = min((s + 1u) * p.mChunk, p.M);
  for (var m = s * p.mChunk; m < mEnd; m++) {
    let xl = inp4[m * K4 + kl];
    let xh = inp4[m * K4 + kh];
    let gl = dout4[m * ldo4 + dl];
    let gh = dout4[m * ldo4 + dh];
    c0l = fma(vec4f(gl.x), xl, c0l);
    c0h = fma(vec4f(gl.x), xh, c0h);
    c1l = fma(vec4f(gl.y), xl, c1l);
    c1h = fma(vec4f(gl.y), xh, c1h);
    c2l = fma(vec4f(gl.z), xl, c2l);
    c2h = fma(vec4f(gl.z), xh, c2h);
    c3l = fma(vec4f(gl.w), xl, c3l);
    c3h = fma(vec4f(gl.w), xh, c3h);
    c4l = fma(vec4f(gh.x), xl, c4l);
    c4h = fma(vec4f(gh.x), xh, c4h);
    c5l = fma(vec4f(gh.y), xl, c5l);
    c5h = fma(vec4f(gh.y), xh, c5h);
    c6l = fma(vec4f(gh.z), xl, c6l);
    c6h = fma(vec4f(gh.z), xh, c6h);
    c7l = fma(vec4f(gh.w), xl, c7l);
    c7h = fma(vec4f(gh.w), xh, c7h);
  }
  let base = select(s * p.N * p.K, 0u, p.direct == 1u);
  store4(base, n0 + 0u, k0, c0l, c0h);
  store4(base, n0 + 1u, k0, c1l, c1h);
  store4(base, n0 + 2u, k0, c2l, c2h);
  store4(base, n0 + 3u, k0, c3l, c3h);
  store4(base, n0 + 4u, k0, c4l, c4h);
  store4(base, n0 + 5u, k0, c5l, c5h);
  store4(base, n0 + 6u, k0, c6l, c6h);
  store4(base, n0 + 7u, k0, c7l, c7h);
}
