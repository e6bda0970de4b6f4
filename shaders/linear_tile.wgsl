// linear_tile: C[p, q] (= or +=) sum over r in [0, R) of A[p, r] * B(q, r), plus bias[q] when
// overwriting: the GPU-style twin of linear_slab (same uniforms, same buffer roles, same result
// bits), for adapters with many threads and fast workgroup memory, and for products too small
// to pay linear_slab's compile. One dispatch covers the whole reduction.
// Roles (src/kernels/linear.ts):
//   forward          C = out (M, N),  A = inp (M, K),   B = w (N, K)   as B[q][r]  (b_rq = 0)
//   backward input   C = dinp (M, K), A = dout (M, N),  B = w (N, K)   as B[r][q]  (b_rq = 1)
//   backward weight  C = dw (N, K),   A = doutT (N, M), B = inp (M, K) as B[r][q]  (b_rq = 1)
// Buffers (vec4-aligned, as for linear_slab):
//   c    (P rows; row stride ldc4 vec4, first column coff4 vec4): columns q < Q written,
//        overwritten (mode 0, + bias when has_bias) or accumulated (mode 1)
//   a    (P rows; row stride lda4 vec4, first column aoff4 vec4; ceil(R / 4) vec4 per row, finite)
//   b    b_rq = 0: (Q, R), row stride ldb4 vec4, R % 4 == 0; b_rq = 1: (R, Q), Q % 4 == 0
//   bias (Q) read only when has_bias == 1; any read-only buffer otherwise
// Dispatch: (ceil(Q / 32), ceil(P / 32)) workgroups of 8 x 8 invocations; each invocation owns a
// 4 x 4 block of C, a workgroup 32 x 32; A and B pass through workgroup memory 32 deep at a time.
// Summation order per output, identical to linear_slab's (which sums 2 KB = 256 terms per
// dispatch): the reduction in chunks of CHUNK = 256 terms; within a chunk r ascending, one fma per
// term into a chunk sum starting at 0; the chunk sums then added in order to C's old value (mode 1)
// or, in mode 0, the first chunk sum plus bias (or alone) and the rest added to it. Terms past R
// are zero on both sides in both kernels. The uniform `r0` is ignored (always 0).

// Uniforms and bindings: shaders/linear_operands.wgsl (prepended by src/shaders.ts).

const T = 32u; // rows and columns of C per workgroup; also the reduction depth of one stage
const CHUNK = 256u; // terms per chunk sum (linear_slab's two slabs of 128)

// as4[r * 8 + i] = A[p0 + 4i .. 4i + 3][r0 + r], bs4[r * 8 + j] = B(q0 + 4j .. 4j + 3, r0 + r)
var<workgroup> as4: array<vec4f, 256>;
var<workgroup> bs4: array<vec4f, 256>;

// A[row][4v .. 4v + 3] of the stage, zero past P and R.
fn load_a(row: u32, v: u32, u: Uniforms) -> vec4f {
  let nv = (u.R + 3u) / 4u;
  let ok = row < u.P && v < nv;
  let x = a[min(row, u.P - 1u) * u.lda4 + u.aoff4 + min(v, nv - 1u)];
  var m = vec4f(0.0);
  let r = 4u * v;
  // Elements past R inside the last vec4 are zeroed as well.
  m.x = select(0.0, x.x, r < u.R);
  m.y = select(0.0, x.y, r + 1u < u.R);
  m.z = select(0.0, x.z, r + 2u < u.R);
  m.w = select(0.0, x.w, r + 3u < u.R);
  return select(vec4f(0.0), m, ok);
}

// Stages reduction indices [s, s + 32) of the workgroup's 32 rows of A and 32 columns of B.
fn stage(lid: u32, p0: u32, q0: u32, s: u32, u: Uniforms) {
  for (var f = 0u; f < 4u; f++) {
    let e = lid + 64u * f; // 0..255: (row or column i, reduction vec4 v)
    let i = e / 8u;
    let v = e % 8u;
    let x = load_a(p0 + i, s / 4u + v, u);
    as4[(4u * v) * 8u + i / 4u][i % 4u] = x.x;
    as4[(4u * v + 1u) * 8u + i / 4u][i % 4u] = x.y;
    as4[(4u * v + 2u) * 8u + i / 4u][i % 4u] = x.z;
    as4[(4u * v + 3u) * 8u + i / 4u][i % 4u] = x.w;
    if (u.b_rq == 0u) {
      // B rows are q: a vec4 along r from column i of the tile.
      let q = q0 + i;
      let rv = s / 4u + v;
      let ok = q < u.Q && 4u * rv < u.R;
      let y = select(vec4f(0.0), b[min(q, u.Q - 1u) * u.ldb4 + min(rv, u.R / 4u - 1u)], ok);
      bs4[(4u * v) * 8u + i / 4u][i % 4u] = y.x;
      bs4[(4u * v + 1u) * 8u + i / 4u][i % 4u] = y.y;
      bs4[(4u * v + 2u) * 8u + i / 4u][i % 4u] = y.z;
      bs4[(4u * v + 3u) * 8u + i / 4u][i % 4u] = y.w;
    } else {
      // B rows are r: e indexes (r = e / 8, column vec4 e % 8), already in bs4's layout.
      let r = s + e / 8u;
      let col = q0 / 4u + e % 8u;
      let ok = r < u.R && col < u.Q / 4u;
      let y = b[min(r, u.R - 1u) * u.ldb4 + min(col, u.Q / 4u - 1u)];
      bs4[e] = select(vec4f(0.0), y, ok);
    }
  }
}

@compute @workgroup_size(8, 8)
fn main(
  @builtin(local_invocation_id) l: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
) {
  let u = p;
  let q0 = wid.x * T;
  let p0 = wid.y * T;
  let q = q0 + 4u * l.x; // this invocation's columns q .. q + 3
  let row0 = p0 + 4u * l.y; // and rows row0 .. row0 + 3
  let cq = min(q, ((u.Q + 3u) / 4u - 1u) * 4u) / 4u + u.coff4;
  var total: array<vec4f, 4>;
  if (u.mode == 1u) {
    for (var i = 0u; i < 4u; i++) {
      total[i] = c[min(row0 + i, u.P - 1u) * u.ldc4 + cq];
    }
  }
  let chunks = (u.R + CHUNK - 1u) / CHUNK;
  for (var ch = 0u; ch < chunks; ch++) {
    // Explicitly zeroed: a declaration inside a loop is not re-zeroed by every backend.
    var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var s = ch * CHUNK; s < min((ch + 1u) * CHUNK, u.R); s += T) {
      workgroupBarrier();
      stage(lid, p0, q0, s, u);
      workgroupBarrier();
      for (var r = 0u; r < T; r++) {
        let x = as4[r * 8u + l.y];
        let y = bs4[r * 8u + l.x];
        acc[0] = fma(vec4f(x.x), y, acc[0]);
        acc[1] = fma(vec4f(x.y), y, acc[1]);
        acc[2] = fma(vec4f(x.z), y, acc[2]);
        acc[3] = fma(vec4f(x.w), y, acc[3]);
      }
    }
    if (ch == 0u && u.mode == 0u) {
      total = acc;
      if (u.has_bias == 1u) {
        let last = u.Q - 1u;
        let bv = vec4f(bias[min(q, last)], bias[min(q + 1u, last)], bias[min(q + 2u, last)],
          bias[min(q + 3u, last)]);
        for (var i = 0u; i < 4u; i++) {
          total[i] += bv;
        }
      }
    } else {
      for (var i = 0u; i < 4u; i++) {
        total[i] += acc[i];
      }
    }
  }
  if (q >= u.Q) {
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i < u.P) {
      c[(row0 + i) * u.ldc4 + cq] = total[i];
    }
  }
}
