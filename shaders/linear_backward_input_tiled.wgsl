// linear_backward_input_tiled: dinp[m, k] (= or +=) sum_n dout[m, col + n] * w[n, k] with a
// 4 x 8 register tile per invocation (rows m0..m0+3, columns k0..k0+7), n ascending; no
// workgroup memory and no barriers (variant "tiled": the default below the slab kernel's sizes).
// Any K: tile columns past K are clamped for loading and never stored.
// Buffers: dinp (M, K) overwritten (accumulate == 0) or accumulated (accumulate == 1); dout
// (M, ldo), columns [col, col + N) read; w (N, K).
// Dispatch: grid1d(ceil(M / 4) * ceil(K / 8), 64).
struct Params { M: u32, K: u32, N: u32, ldo: u32, col: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;

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
