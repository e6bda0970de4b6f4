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
