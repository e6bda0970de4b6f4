// TEMPORARY simple linear kernels (lead's stand-in until the tuned linear_* kernels land).
// fwd:  out[m, off + n] = sum_k x[m,k] w[n,k] + b[n]          (overwrite)
// bin:  dx[m,k] (=|+=) sum_n dout[m, off + n] w[n,k]
// bw:   dw[n,k] += sum_m dout[m, off + n] x[m,k]
// bb:   db[n] += sum_m dout[m, off + n]
// One thread per 4x4 output block (bb: per element); 8x8 threads per workgroup.
struct Params { M: u32, K: u32, N: u32, ldo: u32, off: u32, flag: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(8, 8)
fn fwd(@builtin(global_invocation_id) gid: vec3u) {
  // a = x (M,K), b = w (N,K); gid.x over n blocks, gid.y over m blocks
  let n0 = gid.x * 4u; let m0 = gid.y * 4u;
  if (n0 >= p.N || m0 >= p.M) { return; }
  var acc = array<f32, 16>();
  for (var k = 0u; k < p.K; k++) {
    var xv = vec4f(0.0); var wv = vec4f(0.0);
    for (var i = 0u; i < 4u; i++) {
      if (m0 + i < p.M) { xv[i] = a[(m0 + i) * p.K + k]; }
      if (n0 + i < p.N) { wv[i] = b[(n0 + i) * p.K + k]; }
    }
    for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += xv[i] * wv[j]; } }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let m = m0 + i; let n = n0 + j;
      if (m < p.M && n < p.N) {
        var v = acc[i * 4u + j];
        if (p.flag == 1u) { v += bias[n]; }
        out[m * p.ldo + p.off + n] = v;
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn bin(@builtin(global_invocation_id) gid: vec3u) {
  // out = dx (M,K); a = dout (M, ldo); b = w (N,K); gid.x over k blocks, gid.y over m blocks
  let k0 = gid.x * 4u; let m0 = gid.y * 4u;
  if (k0 >= p.K || m0 >= p.M) { return; }
  var acc = array<f32, 16>();
  for (var n = 0u; n < p.N; n++) {
    var dv = vec4f(0.0); var wv = vec4f(0.0);
    for (var i = 0u; i < 4u; i++) {
      if (m0 + i < p.M) { dv[i] = a[(m0 + i) * p.ldo + p.off + n]; }
      if (k0 + i < p.K) { wv[i] = b[n * p.K + k0 + i]; }
    }
    for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += dv[i] * wv[j]; } }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let m = m0 + i; let k = k0 + j;
      if (m < p.M && k < p.K) {
        let idx = m * p.K + k;
        if (p.flag == 1u) { out[idx] += acc[i * 4u + j]; } else { out[idx] = acc[i * 4u + j]; }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn bw(@builtin(global_invocation_id) gid: vec3u) {
  // out = dw (N,K); a = dout (M, ldo); b = x (M,K); gid.x over k blocks, gid.y over n blocks
  let k0 = gid.x * 4u; let n0 = gid.y * 4u;
  if (k0 >= p.K || n0 >= p.N) { return; }
  var acc = array<f32, 16>();
  for (var m = 0u; m < p.M; m++) {
    var dv = vec4f(0.0); var xv = vec4f(0.0);
    for (var i = 0u; i < 4u; i++) {
      if (n0 + i < p.N) { dv[i] = a[m * p.ldo + p.off + n0 + i]; }
      if (k0 + i < p.K) { xv[i] = b[m * p.K + k0 + i]; }
    }
    for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += dv[i] * xv[j]; } }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + i; let k = k0 + j;
      if (n < p.N && k < p.K) { out[n * p.K + k] += acc[i * 4u + j]; }
    }
  }
}

@compute @workgroup_size(64)
fn bb(@builtin(global_invocation_id) gid: vec3u) {
  // out = db (N); a = dout (M, ldo)
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) { s += a[m * p.ldo + p.off + n]; }
  out[n] += s;
}
