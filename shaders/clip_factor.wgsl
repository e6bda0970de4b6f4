// clip_factor: PyTorch clip_grad_norm_'s coefficient from a device sum of squares:
//   norm[0] = sqrt(sumsq[0]);  factor[0] = min(1, max_norm / (norm[0] + 1e-6)).
// The factor stays on the device and is read by adamw_step (use_scale; the tests scale by it with
// tests/shaders/clip_scale.wgsl), so clipping needs no readback. A non-finite norm gives a
// non-finite or zero factor, as in PyTorch with error_if_nonfinite=False (WGSL's min with NaN may
// return either operand).
// Buffers: factor (1) written, norm (1) written, sumsq (1) read. Dispatch: (1, 1, 1).
// Overwrites factor[0] and norm[0].
struct Params { max_norm: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> factor: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;
@group(0) @binding(3) var<storage, read> sumsq: array<f32>;

@compute @workgroup_size(1)
fn main() {
  let total = sqrt(sumsq[0]);
  norm[0] = total;
  factor[0] = min(1.0, p.max_norm / (total + 1e-6));
}
