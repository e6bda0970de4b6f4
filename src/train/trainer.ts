/**
 * `train` (SPEC §5): STL, or MTL with an MLM auxiliary task masked by RTM or L3Masking and
 * weighted fixed (1/K) or by META-TARTAN. Every tensor operation runs on the GPU; per optimizer
 * step the host reads back only the losses (and, with meta weighting, the two cosines).
 *
 * Determinism: data order, masks, dropout and dev-head draws are functions of (seed, epoch,
 * step), so a run resumed from its state directory continues bit-identically.
 */
import type { GpuContext } from "../gpu/context.ts";
import type { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { scaleAccumulate } from "../kernels/scale.ts";
import { cosineSimilarity } from "../kernels/norm.ts";
import { maskBatch, replacementIds } from "../mask/masking.ts";
import type { ModelConfig } from "../model/config.ts";
import { Encoder } from "../model/encoder.ts";
import { GpuBackend } from "../model/gpu_backend.ts";
import { modelNames, type ParamSpec, paramSpecs } from "../model/params.ts";
import {
  gpuStore,
  gpuZerosLike,
  type HostParams,
  readGpuStore,
  releaseGpuStore,
  storeTensors,
} from "../model/weights.ts";
import type { L3Tokenizer } from "../io/tokenizer.ts";
import { type Example, padBatch } from "../data/examples.ts";
import { DevHead } from "./dev_head.ts";
import { predictProbs } from "../classify/predict.ts";
import { dropoutSeed } from "../random/streams.ts";
import { GroupOptimizer, type GroupSettings, type GStore } from "../optim/optimizer.ts";
import { linearSchedule } from "../optim/schedule.ts";
import { matmulPolicy } from "../kernels/linear.ts";

export interface TrainerSettings {
  mode: "stl" | "mtl";
  masking: "rtm" | "l3";
  weighting: "fixed" | "meta";
  seed: number;
  batchSize: number;
  gradAccum: number;
  mlmBatchSize: number;
  pbar: number;
  encoder: GroupSettings;
  head: GroupSettings;
  warmupRatio: number;
  totalSteps: number;
  metaLr: number;
  devHead: { steps: number; lr: number; weightDecay: number; tol: number; examples: number };
}

export interface StepLog {
  lossCls: number;
  lossMlm: number | null;
  weights: { cls: number; mlm: number } | null;
  lrEncoder: number;
  lrHead: number;
  gradNormEncoder: number;
  gradNormHead: number;
  devHeadSteps: number | null;
  cosines: { cls: number; mlm: number } | null;
}

/** The trainer's resumable state besides the tensors. */
export interface TrainerState {
  step: number; // optimizer steps taken
  taskLogits: { cls: number; mlm: number };
  /** Steps taken before the current AdamW moments started (bias correction restarts there). */
  adamOffset: number;
  /** Constant learning rate (the fine-tune phase) instead of the warm-up/decay schedule. */
  constantLr: boolean;
}

type T = GpuTensor;
type W = ChunkedTensor;

export class Trainer {
  readonly be: GpuBackend;
  readonly specs: ParamSpec[];
  readonly params: GStore;
  readonly model: Encoder<T, W>;
  private gPrim: GStore;
  private gMlm: GStore | null = null;
  private moments: { m: GStore; v: GStore };
  private encOpt: GroupOptimizer;
  private headOpt: GroupOptimizer;
  /** Shared encoder parameters (the cosine's flat vector): encoder group minus the MLM head. */
  private readonly shared: Set<string>;
  private readonly mlmHead: Set<string>;
  private readonly randomIds: Uint32Array;
  state: TrainerState = {
    step: 0,
    taskLogits: { cls: 0.5, mlm: 0.5 },
    adamOffset: 0,
    constantLr: false,
  };
  private dev: DevHead | null = null;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: ModelConfig,
    host: HostParams,
    public s: TrainerSettings,
    readonly tok: L3Tokenizer,
    readonly devExamples: Example[],
  ) {
    this.be = new GpuBackend(ctx);
    const mtl = s.mode === "mtl";
    const heads = { mlm: mtl, classifier: true };
    this.specs = paramSpecs(cfg, heads);
    const used = new Map(this.specs.map((p) => [p.name, host.get(p.name)!]));
    this.params = gpuStore(ctx, cfg, used);
    this.model = new Encoder(this.be, cfg, this.params, heads);
    this.gPrim = gpuZerosLike(ctx, cfg, used, "grad");
    if (mtl) this.gMlm = gpuZerosLike(ctx, cfg, used, "grad.mlm");
    this.moments = {
      m: gpuZerosLike(ctx, cfg, used, "adam.m"),
      v: gpuZerosLike(ctx, cfg, used, "adam.v"),
    };
    const n = modelNames(cfg);
    const mlmHeadNames = [
      `${n.mlmDense}.weight`,
      `${n.mlmDense}.bias`,
      `${n.mlmLn}.weight`,
      `${n.mlmLn}.bias`,
      n.mlmBias,
    ];
    this.mlmHead = new Set(mtl ? mlmHeadNames : []);
    this.shared = new Set(
      this.specs.filter((p) => p.group === "encoder" && !this.mlmHead.has(p.name)).map((p) =>
        p.name
      ),
    );
    [this.encOpt, this.headOpt] = this.optimizers(s);
    this.randomIds = replacementIds(tok.vocabSize, (id) => tok.isSpecial(id));
    const k = 2;
    this.state.taskLogits = { cls: 1 / k, mlm: 1 / k };
    if (mtl && s.weighting === "meta") this.dev = new DevHead(this, devExamples);
  }

  private zero(store: GStore): void {
    this.ctx.fillMany(storeTensors(store), 0);
  }

  /** Tensors of the shared encoder in a store, in a fixed order (word-embedding chunks first). */
  sharedTensors(store: GStore): T[] {
    const out: T[] = store.wte.chunks.map((c) => c.tensor);
    for (const name of this.shared) if (name !== this.model.names.wte) out.push(store.t.get(name)!);
    return out;
  }

  /**
   * One optimizer step on a primary batch (and an MLM batch for mtl), each given as its
   * micro-batches. Returns the losses and weights it applied. The dispatch order is fixed:
   * primary gradient, MLM gradient, META-TARTAN cosines, task weighting, optimizer.
   */
  async step(primary: Example[][], mlm: Example[][] | null): Promise<StepLog> {
    const { ctx, s } = this;
    await matmulPolicy(ctx).tuneIfPending();
    const stepIndex = this.state.step; // 0-based: the schedule's current step
    const clsLosses = this.primaryGradient(primary, stepIndex);
    const useMlm = mlm !== null && this.gMlm !== null;
    const aux = useMlm ? this.mlmGradient(mlm, stepIndex, primary.length) : { logp: [], rows: 0 };
    const meta = useMlm && this.dev ? await this.metaCosines(stepIndex) : null;
    // Read back once per step, after the optimizer step is recorded; only META-TARTAN reads
    // before it (with the losses), since its task weights need the cosines.
    const lossTensors = [...clsLosses, ...aux.logp];
    let reads: Float32Array[] | null = null;
    let cosines: { cls: number; mlm: number } | null = null;
    if (meta) {
      reads = await ctx.readMany([...lossTensors, meta.cos]);
      const c = reads[reads.length - 1];
      cosines = { cls: c[0], mlm: c[1] };
      this.state.taskLogits.cls += s.metaLr * c[0];
      this.state.taskLogits.mlm += s.metaLr * c[1];
      ctx.release(meta.cos);
    }
    const weights = useMlm ? softmax2(this.state.taskLogits) : null;
    if (weights) this.combine(weights);
    const lrScale = this.optimizerStep(stepIndex);
    const tail = await ctx.readMany([
      ...(reads ? [] : lossTensors),
      this.encOpt.norm,
      this.headOpt.norm,
    ]);
    reads ??= tail;
    const [ne, nh] = tail.slice(-2);
    const lossCls = meanClsLoss(primary, reads);
    const lossMlm = mlm ? meanMlmLoss(aux.logp, reads.slice(clsLosses.length), aux.rows) : null;
    ctx.release(...lossTensors);
    this.state.step++;
    return {
      lossCls,
      lossMlm,
      weights,
      lrEncoder: s.encoder.lr * lrScale,
      lrHead: s.head.lr * lrScale,
      gradNormEncoder: ne[0],
      gradNormHead: nh[0],
      devHeadSteps: meta?.devSteps ?? null,
      cosines,
    };
  }

  /** Primary task (encoder + classifier) → gPrim; returns each micro-batch's per-example losses. */
  private primaryGradient(primary: Example[][], stepIndex: number): T[] {
    const A = primary.length;
    this.zero(this.gPrim);
    return primary.map((mb, i) => {
      const batch = padBatch(mb, this.tok.specialIds.pad);
      const pass = this.model.forward(batch, {
        labels: Uint32Array.from(mb.map((e) => e.label)),
        train: true,
        seed: dropoutSeed(this.s.seed, stepIndex, i, 0),
      });
      this.model.backward(pass, this.gPrim, { mlm: 0, cls: 1 / A });
      const losses = keep(pass.cls!.losses, pass, "losses");
      this.model.releasePass(pass);
      return losses;
    });
  }

  /**
   * Auxiliary MLM task → gMlm, each micro-batch masked (RTM or L3Masking) from the seed and step.
   * Returns the log-probabilities of the masked targets and how many there were.
   */
  private mlmGradient(mlm: Example[][], stepIndex: number, A: number) {
    const s = this.s;
    const logp: T[] = [];
    let rows = 0;
    this.zero(this.gMlm!);
    mlm.forEach((mb, i) => {
      const masked = maskBatch({
        ids: mb.map((e) => e.ids),
        scored: mb.map((e) => e.special.map((x) => !x)),
        maskProb: s.masking === "l3" ? mb.map((e) => e.maskProb!) : undefined,
        T: Math.ceil(Math.max(...mb.map((e) => e.ids.length)) / 4) * 4,
        padId: this.tok.specialIds.pad,
      }, {
        mode: s.masking,
        pbar: s.pbar,
        maskId: this.tok.specialIds.mask,
        randomIds: this.randomIds,
        seed: s.seed,
        step: stepIndex * A + i,
      });
      if (masked.rows.length === 0) return; // no scored token in the whole micro-batch
      const batch = padBatch(mb, this.tok.specialIds.pad);
      batch.ids = masked.ids;
      const pass = this.model.forward(batch, {
        mlm: { rows: masked.rows, targets: masked.targets },
        train: true,
        seed: dropoutSeed(s.seed, stepIndex, i, 1),
      });
      this.model.backward(pass, this.gMlm!, { mlm: 1 / A, cls: 0 });
      logp.push(keep(pass.mlm!.logp, pass, "logp"));
      rows += masked.rows.length;
      this.model.releasePass(pass);
    });
    return { logp, rows };
  }

  /** META-TARTAN: g_dev from a fresh dev head, then (2) cos(g_dev, g_cls), cos(g_dev, g_mlm). */
  private async metaCosines(stepIndex: number): Promise<{ cos: T; devSteps: number }> {
    const { ctx } = this;
    const dev = this.dev!;
    const devSteps = await dev.computeDevGradient(stepIndex);
    const cos = ctx.empty([2], "cosines");
    const gDev = this.sharedTensors(dev.grads);
    const c0 = cos.view(0, [1], "cos.cls"), c1 = ctx.empty([1], "cos.mlm");
    cosineSimilarity(ctx, c0, gDev, this.sharedTensors(this.gPrim));
    cosineSimilarity(ctx, c1, gDev, this.sharedTensors(this.gMlm!));
    ctx.copy(c1, cos, 4, 0, 4);
    ctx.release(c1);
    return { cos, devSteps };
  }

  /** Clip each group and take an AdamW step at the scheduled rate; returns the lr scale. */
  private optimizerStep(stepIndex: number): number {
    const s = this.s;
    const lrScale = this.state.constantLr
      ? 1
      : linearSchedule(stepIndex, s.totalSteps, Math.round(s.warmupRatio * s.totalSteps));
    const adamStep = stepIndex - this.state.adamOffset + 1;
    this.encOpt.step(this.gPrim, lrScale, adamStep);
    this.headOpt.step(this.gPrim, lrScale, adamStep);
    return lrScale;
  }

  /** gPrim (shared) = w_cls gPrim + w_mlm gMlm; the MLM head gets its own gradient unscaled. */
  private combine(w: { cls: number; mlm: number }): void {
    const g = this.gMlm!;
    const pairs: [T, T][] = this.params.wte.chunks.map((
      _,
      i,
    ) => [this.gPrim.wte.chunks[i].tensor, g.wte.chunks[i].tensor]);
    for (const name of this.shared) {
      if (name !== this.model.names.wte) pairs.push([this.gPrim.t.get(name)!, g.t.get(name)!]);
    }
    for (const [y, x] of pairs) scaleAccumulate(this.ctx, y, x, w.mlm, w.cls, y.numel);
    for (const name of this.mlmHead) {
      const y = this.gPrim.t.get(name)!;
      scaleAccumulate(this.ctx, y, g.t.get(name)!, 1, 0, y.numel);
    }
  }

  /** Class probabilities (N, K) of examples, in batches of `batchSize` (src/classify/predict.ts). */
  predict(examples: readonly Example[], batchSize: number): Promise<Float32Array> {
    const pad = this.tok.specialIds.pad;
    return predictProbs(this.ctx, this.model, this.cfg.numLabels, pad, examples, batchSize);
  }

  /** Every parameter (and, for resume, the AdamW moments) on the host. */
  async readParams(): Promise<HostParams> {
    return await readGpuStore(this.ctx, this.cfg, this.params);
  }
  async readMoments(): Promise<{ m: HostParams; v: HostParams }> {
    return {
      m: await readGpuStore(this.ctx, this.cfg, this.moments.m),
      v: await readGpuStore(this.ctx, this.cfg, this.moments.v),
    };
  }
  /** Overwrite parameters (and moments) from host arrays (resume, or reload of the best model). */
  loadParams(params: HostParams, moments?: { m: HostParams; v: HostParams }): void {
    write(this.ctx, this.cfg, this.params, params);
    if (moments) {
      write(this.ctx, this.cfg, this.moments.m, moments.m);
      write(this.ctx, this.cfg, this.moments.v, moments.v);
    }
  }
  /** Fresh optimizer moments (the final fine-tune phase restarts AdamW). */
  resetOptimizer(
    settings: { encoder: GroupSettings; head: GroupSettings },
    zeroMoments = true,
  ): void {
    if (zeroMoments) {
      this.zero(this.moments.m);
      this.zero(this.moments.v);
    }
    this.s.encoder = settings.encoder;
    this.s.head = settings.head;
    this.encOpt.release();
    this.headOpt.release();
    [this.encOpt, this.headOpt] = this.optimizers(settings);
  }

  /** AdamW of the encoder group and of the head group, each with its own settings. */
  private optimizers(settings: { encoder: GroupSettings; head: GroupSettings }) {
    const wte = this.model.names.wte;
    const group = (g: "encoder" | "head") =>
      new GroupOptimizer(
        this.ctx,
        this.specs.filter((p) => p.group === g),
        this.params,
        this.moments,
        settings[g],
        wte,
      );
    return [group("encoder"), group("head")] as const;
  }

  release(): void {
    releaseGpuStore(this.ctx, this.params);
    releaseGpuStore(this.ctx, this.gPrim);
    if (this.gMlm) releaseGpuStore(this.ctx, this.gMlm);
    releaseGpuStore(this.ctx, this.moments.m);
    releaseGpuStore(this.ctx, this.moments.v);
    this.encOpt.release();
    this.headOpt.release();
    this.dev?.release();
  }
}

function write(ctx: GpuContext, cfg: ModelConfig, store: GStore, host: HostParams): void {
  const wte = modelNames(cfg).wte;
  for (const [name, t] of store.t) {
    const data = host.get(name);
    if (!data) throw new Error(`state has no tensor '${name}'`);
    ctx.write(t, data);
  }
  const w = host.get(wte)!;
  for (const c of store.wte.chunks) {
    ctx.write(
      c.tensor,
      w.subarray(c.rowStart * store.wte.cols, (c.rowStart + c.rows) * store.wte.cols),
    );
  }
}

/** A tensor of a pass kept past releasePass (moved out so the pass does not free it). */
function keep(t: T, pass: { cls: unknown; mlm: unknown }, field: "losses" | "logp"): T {
  if (field === "losses") (pass.cls as Record<string, unknown>).losses = null;
  else (pass.mlm as Record<string, unknown>).logp = null;
  return t;
}

/** Mean classification loss over the step: per micro-batch mean, averaged over micro-batches. */
function meanClsLoss(primary: Example[][], reads: Float32Array[]): number {
  const A = primary.length;
  let loss = 0;
  primary.forEach((mb, i) => {
    for (let b = 0; b < mb.length; b++) loss += reads[i][b] / mb.length / A;
  });
  return loss;
}

/** Mean MLM loss over every masked target of the step (0 when nothing was masked). */
function meanMlmLoss(logp: T[], reads: Float32Array[], rows: number): number {
  let sum = 0;
  logp.forEach((t, i) => {
    for (let j = 0; j < t.numel; j++) sum -= reads[i][j];
  });
  return rows ? sum / rows : 0;
}

function softmax2(l: { cls: number; mlm: number }): { cls: number; mlm: number } {
  const m = Math.max(l.cls, l.mlm);
  const a = Math.exp(l.cls - m), b = Math.exp(l.mlm - m);
  return { cls: a / (a + b), mlm: b / (a + b) };
}
