/**
 * Masked-LM training (`pretrain` from random initialisation, `adapt` from a checkpoint): RTM or
 * L3Masking (SPEC §4) over packed corpus texts, AdamW with linear warm-up/decay, held-out MLM
 * loss with fixed masks, Hugging Face checkpoints (BertForMaskedLM / RobertaForMaskedLM) and a
 * resumable state directory.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import type { L3Tokenizer } from "../io/tokenizer.ts";
import { maskBatch, replacementIds } from "../mask/masking.ts";
import { heldOutMaskDraw, SHUFFLE, shuffled } from "../random/streams.ts";
import type { ModelConfig } from "../model/config.ts";
import { Encoder } from "../model/encoder.ts";
import { GpuBackend } from "../model/gpu_backend.ts";
import { paramSpecs } from "../model/params.ts";
import {
  gpuStore,
  gpuZerosLike,
  type HostParams,
  readGpuStore,
  storeTensors,
} from "../model/weights.ts";
import { type Example, padBatch } from "../data/examples.ts";
import { GroupOptimizer } from "../optim/optimizer.ts";
import { linearSchedule } from "../optim/schedule.ts";
import type { MlmRecord } from "../run/records.ts";
import { note, Progress } from "../util/progress.ts";
import { matmulPolicy } from "../kernels/linear.ts";

export interface MlmSettings {
  masking: "rtm" | "l3";
  pbar: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  clipNorm: number;
  warmupRatio: number;
  batchSize: number;
  steps: number;
  seed: number;
  evalEvery: number;
  saveEvery: number;
}

type GStore = { wte: ChunkedTensor; t: Map<string, GpuTensor> };

export class MlmTrainer {
  readonly model: Encoder<GpuTensor, ChunkedTensor>;
  readonly params: GStore;
  private grads: GStore;
  private moments: { m: GStore; v: GStore };
  private opt: GroupOptimizer;
  private randomIds: Uint32Array;
  step = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: ModelConfig,
    host: HostParams,
    readonly tok: L3Tokenizer,
    readonly s: MlmSettings,
  ) {
    const specs = paramSpecs(cfg, { mlm: true, classifier: false });
    const used = new Map(specs.map((p) => [p.name, host.get(p.name)!]));
    this.params = gpuStore(ctx, cfg, used);
    this.grads = gpuZerosLike(ctx, cfg, used, "grad");
    this.moments = { m: gpuZerosLike(ctx, cfg, used, "m"), v: gpuZerosLike(ctx, cfg, used, "v") };
    this.model = new Encoder(new GpuBackend(ctx), cfg, this.params, {
      mlm: true,
      classifier: false,
    });
    this.opt = new GroupOptimizer(ctx, specs, this.params, this.moments, {
      lr: s.lr,
      betas: s.betas,
      eps: s.eps,
      weightDecay: s.weightDecay,
      clipNorm: s.clipNorm,
    }, this.model.names.wte);
    this.randomIds = replacementIds(tok.vocabSize, (id) => tok.isSpecial(id));
  }

  private mask(exs: Example[], seed: number, step: number) {
    return maskBatch({
      ids: exs.map((e) => e.ids),
      scored: exs.map((e) => e.special.map((x) => !x)),
      maskProb: this.s.masking === "l3" ? exs.map((e) => e.maskProb!) : undefined,
      T: Math.ceil(Math.max(...exs.map((e) => e.ids.length)) / 4) * 4,
      padId: this.tok.specialIds.pad,
    }, {
      mode: this.s.masking,
      pbar: this.s.pbar,
      maskId: this.tok.specialIds.mask,
      randomIds: this.randomIds,
      seed,
      step,
    });
  }

  /** One optimizer step on a batch; returns the mean MLM loss over its masked positions. */
  async trainStep(exs: Example[]): Promise<number> {
    const { ctx } = this;
    await matmulPolicy(ctx).tuneIfPending();
    ctx.fillMany(storeTensors(this.grads), 0);
    const masked = this.mask(exs, this.s.seed, this.step);
    const batch = padBatch(exs, this.tok.specialIds.pad);
    batch.ids = masked.ids;
    const pass = this.model.forward(batch, {
      mlm: { rows: masked.rows, targets: masked.targets },
      train: true,
      seed: (this.s.seed * 1000003 + this.step) >>> 0,
    });
    this.model.backward(pass, this.grads, { mlm: 1, cls: 0 });
    const lrScale = linearSchedule(
      this.step,
      this.s.steps,
      Math.round(this.s.warmupRatio * this.s.steps),
    );
    this.opt.step(this.grads, lrScale, this.step + 1);
    const logp = await ctx.read(pass.mlm!.logp);
    this.model.releasePass(pass);
    this.step++;
    let loss = 0;
    for (let i = 0; i < masked.rows.length; i++) loss -= logp[i];
    return loss / masked.rows.length;
  }

  /** Mean MLM loss on held-out texts with masks fixed by the seed (comparable across steps). */
  async evalLoss(exs: Example[], batchSize: number): Promise<number> {
    let sum = 0, n = 0;
    for (let i = 0; i < exs.length; i += batchSize) {
      const mb = exs.slice(i, i + batchSize);
      const draw = heldOutMaskDraw(this.s.seed, i);
      const masked = this.mask(mb, draw.seed, draw.step);
      if (!masked.rows.length) continue;
      const batch = padBatch(mb, this.tok.specialIds.pad);
      batch.ids = masked.ids;
      const pass = this.model.forward(batch, {
        mlm: { rows: masked.rows, targets: masked.targets },
        train: false,
        seed: 0,
        inference: true,
      });
      const logp = await this.ctx.read(pass.mlm!.logp);
      this.model.releasePass(pass);
      for (let j = 0; j < masked.rows.length; j++) sum -= logp[j];
      n += masked.rows.length;
    }
    return sum / Math.max(1, n);
  }

  async readParams(): Promise<HostParams> {
    return await readGpuStore(this.ctx, this.cfg, this.params);
  }

  async readMoments(): Promise<{ m: HostParams; v: HostParams }> {
    return {
      m: await readGpuStore(this.ctx, this.cfg, this.moments.m),
      v: await readGpuStore(this.ctx, this.cfg, this.moments.v),
    };
  }

  /** Restore parameters, moments and the step (resume). */
  restore(step: number, params: HostParams, m: HostParams, v: HostParams): void {
    const put = (store: GStore, host: HostParams) => {
      for (const [name, t] of store.t) this.ctx.write(t, host.get(name)!);
      const w = host.get(this.model.names.wte)!;
      for (const c of store.wte.chunks) {
        this.ctx.write(
          c.tensor,
          w.subarray(c.rowStart * store.wte.cols, (c.rowStart + c.rows) * store.wte.cols),
        );
      }
    };
    put(this.params, params);
    put(this.moments.m, m);
    put(this.moments.v, v);
    this.step = step;
  }
}

/** Train for the configured steps over `train`, evaluating on `heldout`; logs to `onRecord`. */
export async function runMlm(
  tr: MlmTrainer,
  train: Example[],
  heldout: Example[],
  onRecord: (r: MlmRecord) => Promise<void>,
  onSave: (step: number) => Promise<void>,
  quiet = false,
  /** Stop after this step, saving (default and at most: s.steps); the schedule stays s.steps's. */
  until = tr.s.steps,
): Promise<{ heldoutLoss: number; seconds: number }> {
  const s = tr.s;
  const last = Math.min(until, s.steps);
  const stepsPerEpoch = Math.max(1, Math.floor(train.length / s.batchSize));
  const progress = quiet ? null : new Progress("pretrain", last, "steps", tr.step);
  const t0 = performance.now();
  let tokens = 0;
  let order: number[] = [];
  let orderEpoch = -1;
  let heldoutLoss = NaN;
  while (tr.step < last) {
    const epoch = Math.floor(tr.step / stepsPerEpoch);
    if (epoch !== orderEpoch) {
      order = shuffled(train.length, s.seed, SHUFFLE.pretrainOrder, epoch);
      orderEpoch = epoch;
    }
    const b = tr.step % stepsPerEpoch;
    const exs = order.slice(b * s.batchSize, (b + 1) * s.batchSize).map((i) => train[i]);
    const loss = await tr.trainStep(exs);
    tokens += exs.reduce((n, e) => n + e.ids.length, 0);
    const sec = (performance.now() - t0) / 1000;
    if (!Number.isFinite(loss)) {
      throw new Error(`MLM loss is ${loss} at step ${tr.step}; lower --lr`);
    }
    await onRecord({
      type: "step",
      step: tr.step,
      loss,
      lr: s.lr * linearSchedule(tr.step - 1, s.steps, Math.round(s.warmupRatio * s.steps)),
      tokens_per_s: tokens / sec,
      time: sec,
    });
    progress?.update(tr.step, `loss ${loss.toFixed(3)}, ${(tokens / sec).toFixed(0)} tokens/s`);
    if (tr.step % s.evalEvery === 0 || tr.step === last) {
      heldoutLoss = await tr.evalLoss(heldout, s.batchSize);
      await onRecord({
        type: "eval",
        step: tr.step,
        loss: heldoutLoss,
        perplexity: Math.exp(heldoutLoss),
      });
      if (!quiet) {
        note(
          `  held-out MLM loss ${heldoutLoss.toFixed(4)} (perplexity ${
            Math.exp(heldoutLoss).toFixed(1)
          })`,
        );
      }
    }
    if (tr.step % s.saveEvery === 0 || tr.step === last) await onSave(tr.step);
  }
  progress?.finish(tr.step);
  return { heldoutLoss, seconds: (performance.now() - t0) / 1000 };
}
