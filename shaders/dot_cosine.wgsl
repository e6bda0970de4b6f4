// dot_cosine: cosine similarity from the three sums reduce_sum leaves after dot_partials:
//   out[0] = sums[0] / (sqrt(sums[1]) * sqrt(sums[2]) + tiny)   (a.b / (|a| |b| + tiny)).
// The norms are multiplied after the square roots so |a|^2 |b|^2 cannot overflow f32.
// Buffers: out (1) written, sums (3) read. Dispatch: (1, 1, 1). Overwrites out[0].
struct Params { tiny: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> sums: array<f32>;

@compute @workgroup_size(1)
fn main() {
  out[0] = sums[0] / (sqrt(sums[1]) * sqrt(sums[2]) + p.tiny);
}
