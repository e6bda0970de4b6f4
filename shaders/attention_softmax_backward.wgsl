// attention_softmax_backward: ds[r, j] = att[r, j] * (g[r, j] - sum_j' g[r, j'] * att[r, j'])
// for every row r = (b, h, i) of the attention probabilities (the softmax's input gradient, before
// the 1/sqrt(HS) scale), where g = datt, or with the override DROP (attention dropout in training)
// g = the dropout's backward of datt, the gradient of the dropped probabilities
// dropped = drop(att):
//   g[r, j] = dropped[r, j] != 0 ? datt[r, j] * scale : 0,
// the element kept iff its dropped value is nonzero. That is the forward's mask wherever att != 0
// (a kept value att * scale, scale > 1, is never 0); where att == 0 both choices give ds = 0 and a
// zero term in the row sum. No generator call and no extra pass over the (B, NH, T, T) tensor.
// Overwrites ds.
// Buffers: ds (B*NH*T, T) read_write; datt, att, dropped (B*NH*T, T). Each is bound twice, as f32
// and as vec4 (bindings 4..6, 8); the override VEC4 (T % 4 == 0, rows 16-byte aligned) picks the
// view: the read-only ones get the same buffer twice, the unused ds view a dummy; without DROP,
// dropped is any buffer (att).
// Dispatch: grid1d(rows, WG) with rows = B*NH*T; one thread per row, flat row
// gid.x + gid.y * nwg.x * WG. The row sum runs in a fixed order, so results are deterministic.
struct Params { rows: u32, T: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ds: array<f32>;
@group(0) @binding(2) var<storage, read> datt: array<f32>;
@group(0) @binding(3) var<storage, read> att: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds4: array<vec4f>;
@group(0) @binding(5) var<storage, read> datt4: array<vec4f>;
@group(0) @binding(6) var<storage, read> att4: array<vec4f>;
@group(0) @binding(7) var<storage, read> dropped: array<f32>;
@group(0) @binding(8) var<storage, read> dropped4: array<vec4f>;
override WG: u32 = 64u;
override VEC4: bool = false;
override DROP: bool = false;

fn g4(i: u32) -> vec4f {
  if (DROP) { return select(vec4f(0.0), datt4[i] * p.scale, dropped4[i] != vec4f(0.0)); }
  return datt4[i];
}

fn g1(i: u32) -> f32 {
  if (DROP) { return select(0.0, datt[i] * p.scale, dropped[i] != 0.0); }
  return datt[i];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let T = p.T;
  if (VEC4) {
    let o = r * T / 4u;
    let n = T / 4u;
    var acc = vec4f(0.0);
    for (var j = 0u; j < n; j++) { acc += g4(o + j) * att4[o + j]; }
    let rowdot = dot(acc, vec4f(1.0));
    for (var j = 0u; j < n; j++) { ds4[o + j] = att4[o + j] * (g4(o + j) - rowdot); }
  } else {
    let o = r * T;
    var rowdot = 0.0;
    for (var j = 0u; j < T; j++) { rowdot += g1(o + j) * att[o + j]; }
    for (var j = 0u; j < T; j++) { ds[o + j] = att[o + j] * (g1(o + j) - rowdot); }
  }
}
