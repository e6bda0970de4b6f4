/**
 * AdamW over one parameter group (SPEC §5): the group clipped to its own global norm, then
 * multi-tensor AdamW dispatches with the clip factor applied on the device. Moments live on the GPU;
 * nothing is read back.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { adamwMany } from "../kernels/adamw.ts";
import { globalNormClip } from "../kernels/norm.ts";
import type { Store } from "../model/encoder.ts";
import type { ParamSpec } from "../model/params.ts";

export interface GroupSettings {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  clipNorm: number;
}

export type GStore = Store<GpuTensor, ChunkedTensor>;

interface Entry {
  name: string;
  chunk: number; // word-embedding chunk index, -1 otherwise
  decay: boolean;
  param: GpuTensor;
  m: GpuTensor;
  v: GpuTensor;
}

/** The tensor behind a parameter name (a word-embedding chunk when chunk >= 0). */
function pick(store: GStore, name: string, chunk: number): GpuTensor {
  if (chunk >= 0) return store.wte.chunks[chunk].tensor;
  const t = store.t.get(name);
  if (!t) throw new Error(`no tensor '${name}' in the store`);
  return t;
}

export class GroupOptimizer {
  readonly entries: Entry[] = [];
  private readonly factor: GpuTensor;
  /** (1) the group's gradient norm before clipping, after each step. */
  readonly norm: GpuTensor;

  constructor(
    readonly ctx: GpuContext,
    specs: ParamSpec[],
    params: GStore,
    moments: { m: GStore; v: GStore },
    readonly settings: GroupSettings,
    wteName: string,
  ) {
    for (const s of specs) {
      const chunks = s.name === wteName ? params.wte.chunks.map((_, i) => i) : [-1];
      for (const chunk of chunks) {
        this.entries.push({
          name: s.name,
          chunk,
          decay: s.decay,
          param: pick(params, s.name, chunk),
          m: pick(moments.m, s.name, chunk),
          v: pick(moments.v, s.name, chunk),
        });
      }
    }
    this.factor = ctx.empty([1], "clip-factor");
    this.norm = ctx.empty([1], "grad-norm");
  }

  /** The gradient tensors of this group's parameters in `grads`, in entry order. */
  gradTensors(grads: GStore): GpuTensor[] {
    return this.entries.map((e) => pick(grads, e.name, e.chunk));
  }

  /** Clip to the group's global norm, then AdamW with lr * lrScale (step is 1-based). */
  step(grads: GStore, lrScale: number, step: number): void {
    const g = this.gradTensors(grads);
    globalNormClip(this.ctx, this.factor, g, this.settings.clipNorm, this.norm);
    const { lr, betas, eps, weightDecay } = this.settings;
    const items = this.entries.map((e, i) => ({
      param: e.param,
      grad: g[i],
      m: e.m,
      v: e.v,
      weightDecay: e.decay ? weightDecay : 0,
    }));
    adamwMany(this.ctx, items, {
      lr: lr * lrScale,
      beta1: betas[0],
      beta2: betas[1],
      eps,
      step,
      gradScale: this.factor,
    });
  }

  release(): void {
    this.ctx.release(this.factor, this.norm);
  }
}
