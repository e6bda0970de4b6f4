// attention_query: R query rows, row r a row of sequence seq[r], forward only (inference of the
// last layer, where only some rows are needed: the masked copies' targets, or <s>/[CLS]).
//   out[r, h*HS + d] = sum_j softmax_j(scale * q[r, h*HS:(h+1)*HS] . k[b, j, h*HS:(h+1)*HS]
//                                      + mask_add[b, j]) * v[b, j, h*HS + d],   b = seq[r]
// Scores are clamped to the lowest finite f32 (as attention_scores does), so a -inf mask never
// makes NaN. The (T) scores live in the thread's private array; no (B, NH, T, T) tensor is written.
// Buffers: out (R, C) as vec4, overwritten; q (R, C) as vec4; k, v (B, T, C) as vec4 (C = NH * HS,
// HS % 4 == 0, HS <= 4 * MAX_HS4); mask_add (B, T); seq (R) u32, each < B. T <= MAX_T (the
// wrapper checks both). A row's result depends only on its own query and sequence.
// Dispatch: grid1d(R * NH, WG). One thread per (r, h): a pass over the keys for the scores and
// their maximum, a second for exp(score - max), their sum and the weighted sum of value rows. The
// dot products are summed as attention_scores sums them (vec4 dot per step, steps ascending).
// No barriers.
struct Params { T: u32, NH: u32, HS: u32, R: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> k: array<vec4f>;
@group(0) @binding(4) var<storage, read> v: array<vec4f>;
@group(0) @binding(5) var<storage, read> mask_add: array<f32>;
@group(0) @binding(6) var<storage, read> seq: array<u32>;
override WG: u32 = 8u;
const MAX_T = 512u;
const MAX_HS4 = 32u;
const LOWEST = -3.4028235e38;

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (g >= p.R * p.NH) { return; }
  let T = p.T;
  let h = g % p.NH;
  let r = g / p.NH;
  let b = seq[r];
  let HS4 = p.HS / 4u;
  let C4 = p.NH * HS4;
  let qo = r * C4 + h * HS4;
  var qv: array<vec4f, MAX_HS4>;
  var acc: array<vec4f, MAX_HS4>;
  for (var d = 0u; d < HS4; d++) {
    qv[d] = q[qo + d];
    acc[d] = vec4f(0.0);
  }
  var s: array<f32, MAX_T>;
  var m = LOWEST;
  for (var j = 0u; j < T; j++) {
    let ko = (b * T + j) * C4 + h * HS4;
    var c = 0.0;
    for (var d = 0u; d < HS4; d++) { c += dot(qv[d], k[ko + d]); }
    let sj = max(c * p.scale + mask_add[b * T + j], LOWEST);
    s[j] = sj;
    m = max(m, sj);
  }
  var l = 0.0;
  for (var j = 0u; j < T; j++) {
    let e = exp(s[j] - m);
    l += e;
    let vo = (b * T + j) * C4 + h * HS4;
    for (var d = 0u; d < HS4; d++) { acc[d] += e * v[vo + d]; }
  }
  let inv = 1.0 / l; // l >= 1: the maximum contributes exp(0)
  for (var d = 0u; d < HS4; d++) { out[qo + d] = acc[d] * inv; }
}
