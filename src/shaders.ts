/**
 * Every WGSL source, imported as text so `deno compile` embeds it. One entry per shader file;
 * the key is the file name without `.wgsl`. Add new shaders at the end (one import + one entry).
 * `ShaderName` makes every `ctx.run` name a compile-time check.
 */
import fill from "../shaders/fill.wgsl" with { type: "text" };
import scale_accumulate from "../shaders/scale_accumulate.wgsl" with { type: "text" };
import residual_forward from "../shaders/residual_forward.wgsl" with { type: "text" };
import adamw_step from "../shaders/adamw_step.wgsl" with { type: "text" };
import sumsq_partials from "../shaders/sumsq_partials.wgsl" with { type: "text" };
import dot_partials from "../shaders/dot_partials.wgsl" with { type: "text" };
import reduce_sum from "../shaders/reduce_sum.wgsl" with { type: "text" };
import clip_factor from "../shaders/clip_factor.wgsl" with { type: "text" };
import dot_cosine from "../shaders/dot_cosine.wgsl" with { type: "text" };
import embedding_forward from "../shaders/embedding_forward.wgsl" with { type: "text" };
import embedding_forward_chunk from "../shaders/embedding_forward_chunk.wgsl" with { type: "text" };
import embedding_backward from "../shaders/embedding_backward.wgsl" with { type: "text" };
import gather_rows_forward from "../shaders/gather_rows_forward.wgsl" with { type: "text" };
import gather_rows_backward from "../shaders/gather_rows_backward.wgsl" with { type: "text" };
import logsoftmax_gather_partials from "../shaders/logsoftmax_gather_partials.wgsl" with {
  type: "text",
};
import logsoftmax_gather_forward from "../shaders/logsoftmax_gather_forward.wgsl" with {
  type: "text",
};
import logsoftmax_gather_backward from "../shaders/logsoftmax_gather_backward.wgsl" with {
  type: "text",
};
import cross_entropy_forward from "../shaders/cross_entropy_forward.wgsl" with { type: "text" };
import cross_entropy_backward from "../shaders/cross_entropy_backward.wgsl" with { type: "text" };
import layernorm_forward from "../shaders/layernorm_forward.wgsl" with { type: "text" };
import layernorm_forward_scalar from "../shaders/layernorm_forward_scalar.wgsl" with {
  type: "text",
};
import layernorm_backward from "../shaders/layernorm_backward.wgsl" with { type: "text" };
import layernorm_backward_scalar from "../shaders/layernorm_backward_scalar.wgsl" with {
  type: "text",
};
import layernorm_backward_dwdb_partial from "../shaders/layernorm_backward_dwdb_partial.wgsl" with {
  type: "text",
};
import layernorm_backward_dwdb_reduce from "../shaders/layernorm_backward_dwdb_reduce.wgsl" with {
  type: "text",
};
import gelu_forward from "../shaders/gelu_forward.wgsl" with { type: "text" };
import gelu_backward from "../shaders/gelu_backward.wgsl" with { type: "text" };
import tanh_forward from "../shaders/tanh_forward.wgsl" with { type: "text" };
import tanh_backward from "../shaders/tanh_backward.wgsl" with { type: "text" };
import dropout_forward from "../shaders/dropout_forward.wgsl" with { type: "text" };
import attention_scores from "../shaders/attention_scores.wgsl" with { type: "text" };
import attention_pv from "../shaders/attention_pv.wgsl" with { type: "text" };
import attention_qk from "../shaders/attention_qk.wgsl" with { type: "text" };
import attention_softmax_backward from "../shaders/attention_softmax_backward.wgsl" with {
  type: "text",
};
// linear_slab and linear_tile share their uniforms and bindings.
import linear_operands from "../shaders/linear_operands.wgsl" with { type: "text" };
import linear_slab from "../shaders/linear_slab.wgsl" with { type: "text" };
import linear_tile from "../shaders/linear_tile.wgsl" with { type: "text" };
import linear_pack from "../shaders/linear_pack.wgsl" with { type: "text" };
import linear_transpose from "../shaders/linear_transpose.wgsl" with { type: "text" };
// The multi-tensor kernels share their slot helpers (WGSL has no includes).
import multi_slots from "../shaders/multi_slots.wgsl" with { type: "text" };
import adamw_multi from "../shaders/adamw_multi.wgsl" with { type: "text" };
import fill_multi from "../shaders/fill_multi.wgsl" with { type: "text" };
import attention_query from "../shaders/attention_query.wgsl" with { type: "text" };
import layernorm_residual_forward from "../shaders/layernorm_residual_forward.wgsl" with {
  type: "text",
};

export const SHADERS = {
  fill: fill,
  scale_accumulate: scale_accumulate,
  residual_forward: residual_forward,
  adamw_step: adamw_step,
  sumsq_partials: sumsq_partials,
  dot_partials: dot_partials,
  reduce_sum: reduce_sum,
  clip_factor: clip_factor,
  dot_cosine: dot_cosine,
  embedding_forward: embedding_forward,
  embedding_forward_chunk: embedding_forward_chunk,
  embedding_backward: embedding_backward,
  gather_rows_forward: gather_rows_forward,
  gather_rows_backward: gather_rows_backward,
  logsoftmax_gather_partials: logsoftmax_gather_partials,
  logsoftmax_gather_forward: logsoftmax_gather_forward,
  logsoftmax_gather_backward: logsoftmax_gather_backward,
  cross_entropy_forward: cross_entropy_forward,
  cross_entropy_backward: cross_entropy_backward,
  layernorm_forward: layernorm_forward,
  layernorm_forward_scalar: layernorm_forward_scalar,
  layernorm_backward: layernorm_backward,
  layernorm_backward_scalar: layernorm_backward_scalar,
  layernorm_backward_dwdb_partial: layernorm_backward_dwdb_partial,
  layernorm_backward_dwdb_reduce: layernorm_backward_dwdb_reduce,
  gelu_forward: gelu_forward,
  gelu_backward: gelu_backward,
  tanh_forward: tanh_forward,
  tanh_backward: tanh_backward,
  dropout_forward: dropout_forward,
  attention_scores: attention_scores,
  attention_pv: attention_pv,
  attention_qk: attention_qk,
  attention_softmax_backward: attention_softmax_backward,
  linear_slab: linear_operands + linear_slab,
  linear_tile: linear_operands + linear_tile,
  linear_pack: linear_pack,
  linear_transpose: linear_transpose,
  adamw_multi: multi_slots + adamw_multi,
  fill_multi: multi_slots + fill_multi,
  attention_query: attention_query,
  layernorm_residual_forward: layernorm_residual_forward,
} as const satisfies Record<string, string>;

/** The name of a registered shader. */
export type ShaderName = keyof typeof SHADERS;
