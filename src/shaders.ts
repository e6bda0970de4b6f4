/**
 * Every WGSL source, imported as text so `deno compile` embeds it. One entry per shader file;
 * the key is the file name without `.wgsl`. Add new shaders at the end (one import + one entry).
 */
export const SHADERS: Record<string, string> = {};

import fill from "../shaders/fill.wgsl" with { type: "text" };
SHADERS.fill = fill;
import scale_accumulate from "../shaders/scale_accumulate.wgsl" with { type: "text" };
SHADERS.scale_accumulate = scale_accumulate;
import residual_forward from "../shaders/residual_forward.wgsl" with { type: "text" };
SHADERS.residual_forward = residual_forward;
import residual_backward from "../shaders/residual_backward.wgsl" with { type: "text" };
SHADERS.residual_backward = residual_backward;
import adamw_step from "../shaders/adamw_step.wgsl" with { type: "text" };
SHADERS.adamw_step = adamw_step;
import sumsq_partials from "../shaders/sumsq_partials.wgsl" with { type: "text" };
SHADERS.sumsq_partials = sumsq_partials;
import dot_partials from "../shaders/dot_partials.wgsl" with { type: "text" };
SHADERS.dot_partials = dot_partials;
import reduce_sum from "../shaders/reduce_sum.wgsl" with { type: "text" };
SHADERS.reduce_sum = reduce_sum;
import clip_factor from "../shaders/clip_factor.wgsl" with { type: "text" };
SHADERS.clip_factor = clip_factor;
import clip_scale from "../shaders/clip_scale.wgsl" with { type: "text" };
SHADERS.clip_scale = clip_scale;
import dot_cosine from "../shaders/dot_cosine.wgsl" with { type: "text" };
SHADERS.dot_cosine = dot_cosine;
import reduce_pack from "../shaders/reduce_pack.wgsl" with { type: "text" };
SHADERS.reduce_pack = reduce_pack;
import position_ids from "../shaders/position_ids.wgsl" with { type: "text" };
SHADERS.position_ids = position_ids;
import embedding_forward from "../shaders/embedding_forward.wgsl" with { type: "text" };
SHADERS.embedding_forward = embedding_forward;
import embedding_forward_chunk from "../shaders/embedding_forward_chunk.wgsl" with { type: "text" };
SHADERS.embedding_forward_chunk = embedding_forward_chunk;
import embedding_backward from "../shaders/embedding_backward.wgsl" with { type: "text" };
SHADERS.embedding_backward = embedding_backward;
import gather_rows_forward from "../shaders/gather_rows_forward.wgsl" with { type: "text" };
SHADERS.gather_rows_forward = gather_rows_forward;
import gather_rows_backward from "../shaders/gather_rows_backward.wgsl" with { type: "text" };
SHADERS.gather_rows_backward = gather_rows_backward;
import logsoftmax_gather_partials from "../shaders/logsoftmax_gather_partials.wgsl" with {
  type: "text",
};
SHADERS.logsoftmax_gather_partials = logsoftmax_gather_partials;
import logsoftmax_gather_forward from "../shaders/logsoftmax_gather_forward.wgsl" with {
  type: "text",
};
SHADERS.logsoftmax_gather_forward = logsoftmax_gather_forward;
import logsoftmax_gather_backward from "../shaders/logsoftmax_gather_backward.wgsl" with {
  type: "text",
};
SHADERS.logsoftmax_gather_backward = logsoftmax_gather_backward;
import cross_entropy_forward from "../shaders/cross_entropy_forward.wgsl" with { type: "text" };
SHADERS.cross_entropy_forward = cross_entropy_forward;
import cross_entropy_backward from "../shaders/cross_entropy_backward.wgsl" with { type: "text" };
SHADERS.cross_entropy_backward = cross_entropy_backward;
import layernorm_forward from "../shaders/layernorm_forward.wgsl" with { type: "text" };
SHADERS.layernorm_forward = layernorm_forward;
import layernorm_forward_scalar from "../shaders/layernorm_forward_scalar.wgsl" with {
  type: "text",
};
SHADERS.layernorm_forward_scalar = layernorm_forward_scalar;
import layernorm_backward from "../shaders/layernorm_backward.wgsl" with { type: "text" };
SHADERS.layernorm_backward = layernorm_backward;
import layernorm_backward_scalar from "../shaders/layernorm_backward_scalar.wgsl" with {
  type: "text",
};
SHADERS.layernorm_backward_scalar = layernorm_backward_scalar;
import layernorm_backward_dwdb_partial from "../shaders/layernorm_backward_dwdb_partial.wgsl" with {
  type: "text",
};
SHADERS.layernorm_backward_dwdb_partial = layernorm_backward_dwdb_partial;
import layernorm_backward_dwdb_reduce from "../shaders/layernorm_backward_dwdb_reduce.wgsl" with {
  type: "text",
};
SHADERS.layernorm_backward_dwdb_reduce = layernorm_backward_dwdb_reduce;
import gelu_forward from "../shaders/gelu_forward.wgsl" with { type: "text" };
SHADERS.gelu_forward = gelu_forward;
import gelu_backward from "../shaders/gelu_backward.wgsl" with { type: "text" };
SHADERS.gelu_backward = gelu_backward;
import tanh_forward from "../shaders/tanh_forward.wgsl" with { type: "text" };
SHADERS.tanh_forward = tanh_forward;
import tanh_backward from "../shaders/tanh_backward.wgsl" with { type: "text" };
SHADERS.tanh_backward = tanh_backward;
import dropout_forward from "../shaders/dropout_forward.wgsl" with { type: "text" };
SHADERS.dropout_forward = dropout_forward;
import attention_scores from "../shaders/attention_scores.wgsl" with { type: "text" };
SHADERS.attention_scores = attention_scores;
import attention_pv from "../shaders/attention_pv.wgsl" with { type: "text" };
SHADERS.attention_pv = attention_pv;
import attention_qk from "../shaders/attention_qk.wgsl" with { type: "text" };
SHADERS.attention_qk = attention_qk;
import attention_softmax_backward from "../shaders/attention_softmax_backward.wgsl" with {
  type: "text",
};
SHADERS.attention_softmax_backward = attention_softmax_backward;
import linear_slab from "../shaders/linear_slab.wgsl" with { type: "text" };
SHADERS.linear_slab = linear_slab;
import linear_tile from "../shaders/linear_tile.wgsl" with { type: "text" };
SHADERS.linear_tile = linear_tile;
import linear_forward_naive from "../shaders/linear_forward_naive.wgsl" with { type: "text" };
SHADERS.linear_forward_naive = linear_forward_naive;
import linear_forward_v2_tiled from "../shaders/linear_forward_v2_tiled.wgsl" with { type: "text" };
SHADERS.linear_forward_v2_tiled = linear_forward_v2_tiled;
import linear_backward_input_naive from "../shaders/linear_backward_input_naive.wgsl" with {
  type: "text",
};
SHADERS.linear_backward_input_naive = linear_backward_input_naive;
import linear_backward_weight_naive from "../shaders/linear_backward_weight_naive.wgsl" with {
  type: "text",
};
SHADERS.linear_backward_weight_naive = linear_backward_weight_naive;
import linear_bias_grad from "../shaders/linear_bias_grad.wgsl" with { type: "text" };
SHADERS.linear_bias_grad = linear_bias_grad;
import linear_pack from "../shaders/linear_pack.wgsl" with { type: "text" };
SHADERS.linear_pack = linear_pack;
import linear_transpose from "../shaders/linear_transpose.wgsl" with { type: "text" };
SHADERS.linear_transpose = linear_transpose;
import linear_backward_input_tiled from "../shaders/linear_backward_input_tiled.wgsl" with {
  type: "text",
};
SHADERS.linear_backward_input_tiled = linear_backward_input_tiled;
import linear_backward_weight_tiled from "../shaders/linear_backward_weight_tiled.wgsl" with {
  type: "text",
};
SHADERS.linear_backward_weight_tiled = linear_backward_weight_tiled;
import linear_split_reduce from "../shaders/linear_split_reduce.wgsl" with { type: "text" };
SHADERS.linear_split_reduce = linear_split_reduce;
// The multi-tensor kernels share their slot helpers (WGSL has no includes).
import multi_slots from "../shaders/multi_slots.wgsl" with { type: "text" };
import adamw_multi from "../shaders/adamw_multi.wgsl" with { type: "text" };
SHADERS.adamw_multi = multi_slots + adamw_multi;
import fill_multi from "../shaders/fill_multi.wgsl" with { type: "text" };
SHADERS.fill_multi = multi_slots + fill_multi;
import attention_query from "../shaders/attention_query.wgsl" with { type: "text" };
SHADERS.attention_query = attention_query;
import layernorm_residual_forward from "../shaders/layernorm_residual_forward.wgsl" with {
  type: "text",
};
SHADERS.layernorm_residual_forward = layernorm_residual_forward;
