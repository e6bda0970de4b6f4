// linear_backward_input_tiled: dinp[m, k] (= or +=) sum_n dout[m, col + n] * w[n, k] with a
// 4 x 8 register tile per invocation (rows m0..m0+3, columns k0..k0+7; main_vec4: 8 x 8, rows
// m0..m0+7), n ascending; no
// workgroup memory and no barriers (dev variant "tiled", bench/dev/linear_dev.ts).
// Any K: tile columns past K are clamped for loading and never stored.
// Buffers: dinp (M, K) overwritten (accumulate == 0) or accumulated (accumulate == 1); dout
// (M, ldo), columns [col, col + N) read; w (N, K).
// Dispatch: grid1d(ceil(M / 4) * ceil(K / 8), 64).
// Entry points: `main` (any sizes, scalar loads) and `main_vec4` (K, N, ldo and col multiples of
// 4): an 8 x 8 tile (rows m0..m0+7) with the same fma sequence per output (bit-identical results)
// and the buffers bound as vec4 arrays, so four steps n take 8 dout loads and 8 w loads for twice
// the outputs of `main`'s 48 scalar loads (on a CPU adapter each load is a per-lane loop, the cost
// of these small-K products). Dispatch (main_vec4): grid1d(ceil(M / 8) * ceil(K / 8), 64).
struct Params { M: u32, K: u32, N: u32, ldo: u32, col: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> dinp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<storage, read> w4: array<vec4f>;

fn store(m: u32, k0: u32, lo: vec4f, hi: vec4f) {
  if (m >= p.M) {
    return;
  }
  let v = array<f32, 8>(lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  for (var j = 0u; j < 8u; j++) {
    let k = k0 + j;
    if (k < p.K) {
      var s = v[j];
      if (p.accumulate == 1u) {
        s += dinp[m * p.K + k];
      }
      dinp[m * p.K + k] = s;
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let tilesK = (p.K + 7u) / 8u;
  let m0 = (i / tilesK) * 4u;
  let k0 = (i % tilesK) * 8u;
  if (m0 >= p.M) {
    return;
  }
  let r0 = min(m0, p.M - 1u) * p.ldo + p.col;
  let r1 = min(m0 + 1u, p.M - 1u) * p.ldo + p.col;
  let r2 = min(m0 + 2u, p.M - 1u) * p.ldo + p.col;
  let r3 = min(m0 + 3u, p.M - 1u) * p.ldo + p.col;
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
  for (var n = 0u; n < p.N; n++) {
    let b = n * p.K;
    let wl = vec4f(w[b + kl.x], w[b + kl.y], w[b + kl.z], w[b + kl.w]);
    let wh = vec4f(w[b + kh.x], w[b + kh.y], w[b + kh.z], w[b + kh.w]);
    let d0 = dout[r0 + n];
    let d1 = dout[r1 + n];
    let d2 = dout[r2 + n];
    let d3 = dout[r3 + n];
    c0l = fma(vec4f(d0), wl, c0l);
    c0h = fma(vec4f(d0), wh, c0h);
    c1l = fma(vec4f(d1), wl, c1l);
    c1h = fma(vec4f(d1), wh, c1h);
    c2l = fma(vec4f(d2), wl, c2l);
    c2h = fma(vec4f(d2), wh, c2h);
    c3l = fma(vec4f(d3), wl, c3l);
    c3h = fma(vec4f(d3), wh, c3h);
  }
  store(m0, k0, c0l, c0h);
  store(m0 + 1u, k0, c1l, c1h);
  store(m0 + 2u, k0, c2l, c2h);
  store(m0 + 3u, k0, c3l, c3h);
}

// Row m's 8 columns k0..k0+7 as two vec4 (K % 4 == 0: the second is wholly in or out).
fn store4(m: u32, k0: u32, lo: vec4f, hi: vec4f) {
  if (m >= p.M) {
    return;
  }
  let o = (m * p.K + k0) / 4u;
  if (p.accumulate == 1u) {
    dinp4[o] = lo + dinp4[o];
    if (k0 + 4u < p.K) { dinp4[o + 1u] = hi + dinp4[o + 1u]; }
  } else {
    dinp4[o] = lo;
    if (k0 + 4u < p.K) { dinp4[o + 1u] = hi; }
  }
}

@compute @workgroup_size(64)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let tilesK = (p.K + 7u) / 8u;
  let m0 = (i / tilesK) * 8u;
  let k0 = (i % tilesK) * 8u;
  if (m0 >= p.M) {
    return;
  }
  let K4 = p.K / 4u;
  let r0 = (min(m0 + 0u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r1 = (min(m0 + 1u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r2 = (min(m0 + 2u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r3 = (min(m0 + 3u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r4 = (min(m0 + 4u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r5 = (min(m0 + 5u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r6 = (min(m0 + 6u, p.M - 1u) * p.ldo + p.col) / 4u;
  let r7 = (min(m0 + 7u, p.M - 1u) * p.ldo + p.col) / 4u;
  let kl = k0 / 4u;
  let kh = min(kl + 1u, K4 - 1u); // past K: a clamped copy, never stored
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
  for (var n = 0u; n < p.N; n += 4u) {
    let d0 = dout4[r0 + n / 4u];
    let d1 = dout4[r1 + n / 4u];
    let d2 = dout4[r2 + n / 4u];
    let d3 = dout4[r3 + n / 4u];
    let d4 = dout4[r4 + n / 4u];
    let d5 = dout4[r5 + n / 4u];
    let d6 = dout4[r6 + n / 4u];
    let d7 = dout4[r7 + n / 4u];
    for (var j = 0u; j < 4u; j++) {
      let b = (n + j) * K4;
      let wl = w4[b + kl];
      let wh = w4[b + kh];
      c0l = fma(vec4f(d0[j]), wl, c0l);
      c0h = fma(vec4f(d0[j]), wh, c0h);
      c1l = fma(vec4f(d1[j]), wl, c1l);
      c1h = fma(vec4f(d1[j]), wh, c1h);
      c2l = fma(vec4f(d2[j]), wl, c2l);
      c2h = fma(vec4f(d2[j]), wh, c2h);
      c3l = fma(vec4f(d3[j]), wl, c3l);
      c3h = fma(vec4f(d3[j]), wh, c3h);
      c4l = fma(vec4f(d4[j]), wl, c4l);
      c4h = fma(vec4f(d4[j]), wh, c4h);
      c5l = fma(vec4f(d5[j]), wl, c5l);
      c5h = fma(vec4f(d5[j]), wh, c5h);
      c6l = fma(vec4f(d6[j]), wl, c6l);
      c6h = fma(vec4f(d6[j]), wh, c6h);
      c7l = fma(vec4f(d7[j]), wl, c7l);
      c7h = fma(vec4f(d7[j]), wh, c7h);
    }
  }
  store4(m0 + 0u, k0, c0l, c0h);
  store4(m0 + 1u, k0, c1l, c1h);
  store4(m0 + 2u, k0, c2l, c2h);
  store4(m0 + 3u, k0, c3l, c3h);
  store4(m0 + 4u, k0, c4l, c4h);
  store4(m0 + 5u, k0, c5l, c5h);
  store4(m0 + 6u, k0, c6l, c6h);
  store4(m0 + 7u, k0, c7l, c7h);
}
