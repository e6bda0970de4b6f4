// The uniforms and bindings linear_slab and linear_tile share (src/shaders.ts prepends this file to
// both): one interface, so src/kernels/linear.ts records either kernel with the same arguments.
// Roles and layouts: see either kernel's header.
struct Uniforms {
  P: u32,
  Q: u32,
  R: u32,
  lda4: u32,
  aoff4: u32,
  ldb4: u32,
  ldc4: u32,
  coff4: u32,
  r0: u32,
  mode: u32,
  has_bias: u32,
  b_rq: u32,
}

@group(0) @binding(0) var<uniform> p: Uniforms;
@group(0) @binding(1) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(2) var<storage, read> a: array<vec4f>;
@group(0) @binding(3) var<storage, read> b: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

