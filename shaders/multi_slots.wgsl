// multi_slots: helpers of the multi-tensor kernels (fill_multi, adamw_multi), prepended to their
// source by src/shaders.ts. A dispatch covers up to 8 tensors ("slots"); slot j owns the
// workgroups start[j] .. start[j + 1] - 1, start[] held in two vec4u uniforms (lo: 0..3, hi: 4..7)
// with the starts past start[count] set to 0xffffffff. Both functions read their arguments at
// constant indices only: on llvmpipe a uniform read at a computed index becomes a loop over the
// SIMD lanes.

// The slot of workgroup `wg` (< start[count]): how many of start[1..7] it has reached.
fn slot_of(wg: u32, lo: vec4u, hi: vec4u) -> u32 {
  let reached_lo = select(vec4u(0u), vec4u(1u), vec4u(wg) >= lo);
  let reached_hi = select(vec4u(0u), vec4u(1u), vec4u(wg) >= hi);
  return reached_lo.y + reached_lo.z + reached_lo.w + reached_hi.x + reached_hi.y +
    reached_hi.z + reached_hi.w;
}

// Component j of (lo, hi) as one 8-vector, by selects (no computed index).
fn pick(j: u32, lo: vec4u, hi: vec4u) -> u32 {
  var v = lo.x;
  v = select(v, lo.y, j == 1u);
  v = select(v, lo.z, j == 2u);
  v = select(v, lo.w, j == 3u);
  v = select(v, hi.x, j == 4u);
  v = select(v, hi.y, j == 5u);
  v = select(v, hi.z, j == 6u);
  v = select(v, hi.w, j == 7u);
  return v;
}
