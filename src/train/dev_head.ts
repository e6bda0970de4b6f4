/**
 * META-TARTAN's dev head (SPEC §5 step 3): a fresh classification head trained for up to N steps
 * on cached encoder features of a dev sample, then the gradient of its loss on a fresh dev sample
 * with respect to the encoder, left in `grads` for the trainer's cosines.
 */
import type { ChunkedTensor } from "../gpu/chunked.ts";
import type { GpuTensor } from "../gpu/tensor.ts";
import { type Example, padBatch } from "../data/examples.ts";
import { Encoder, type Store } from "../model/encoder.ts";
import { modelNames, type ParamSpec } from "../model/params.ts";
import { gpuZerosLike, type HostParams, initParam, storeTensors } from "../model/weights.ts";
import { GroupOptimizer, type GStore } from "../optim/optimizer.ts";
import { devHeadDropoutSeed, devHeadSeed, SHUFFLE, shuffled } from "../random/streams.ts";
import type { Trainer } from "./trainer.ts";

type T = GpuTensor;
type W = ChunkedTensor;

export class DevHead {
  readonly grads: GStore;
  private readonly headParams: Map<string, T>;
  private readonly headGrads: Map<string, T>;
  private readonly model: Encoder<T, W>;
  private readonly headSpecs: ParamSpec[];
  private readonly moments: { m: GStore; v: GStore };
  private readonly opt: GroupOptimizer;

  constructor(readonly tr: Trainer, readonly dev: Example[]) {
    const { ctx, cfg } = tr;
    this.headSpecs = tr.specs.filter((p) => p.group === "head");
    this.headParams = new Map(
      this.headSpecs.map((p) => [p.name, ctx.zeros([size(p)], `devhead:${p.name}`)]),
    );
    this.headGrads = new Map(
      this.headSpecs.map((p) => [p.name, ctx.zeros([size(p)], `devhead.grad:${p.name}`)]),
    );
    // Encoder gradient store: its own tensors for the shared encoder, the dev head's for the head.
    const host: HostParams = new Map(
      tr.specs.filter((p) => p.group === "encoder").map((p) => [p.name, new Float32Array(size(p))]),
    );
    const enc = gpuZerosLike(ctx, cfg, host, "grad.dev");
    this.grads = { wte: enc.wte, t: new Map([...enc.t, ...this.headGrads]) };
    const merged: Store<T, W> = {
      wte: tr.params.wte,
      t: new Map([...tr.params.t, ...this.headParams]),
    };
    this.model = new Encoder(tr.be, cfg, merged, { mlm: tr.s.mode === "mtl", classifier: true });
    const m = new Map(
      this.headSpecs.map((p) => [p.name, ctx.zeros([size(p)], `devhead.m:${p.name}`)]),
    );
    const v = new Map(
      this.headSpecs.map((p) => [p.name, ctx.zeros([size(p)], `devhead.v:${p.name}`)]),
    );
    this.moments = { m: { wte: tr.params.wte, t: m }, v: { wte: tr.params.wte, t: v } };
    const d = tr.s.devHead;
    this.opt = new GroupOptimizer(
      ctx,
      this.headSpecs,
      { wte: tr.params.wte, t: this.headParams },
      this.moments,
      {
        lr: d.lr,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: d.weightDecay,
        clipNorm: Infinity,
      },
      modelNames(cfg).wte,
    );
  }

  private sample(step: number, draw: number): Example[] {
    const n = Math.min(this.tr.s.devHead.examples, this.dev.length);
    return shuffled(this.dev.length, this.tr.s.seed, SHUFFLE.dev, step * 2 + draw).slice(0, n).map((
      i,
    ) => this.dev[i]);
  }

  /** Train a fresh head, then leave g_dev (encoder) in this.grads. Returns the head steps taken. */
  async computeDevGradient(step: number): Promise<number> {
    const { ctx, cfg } = this.tr;
    const be = this.tr.be;
    const d = this.tr.s.devHead;
    // Fresh head: seeded per step.
    this.headSpecs.forEach((p, i) =>
      ctx.write(this.headParams.get(p.name)!, initParam(p, devHeadSeed(this.tr.s.seed, step), i))
    );
    ctx.fillMany([...this.moments.m.t.values(), ...this.moments.v.t.values()], 0);
    // Cached encoder features of the first dev sample (encoder frozen, dropout off).
    const ex = this.sample(step, 0);
    const B = ex.length;
    const pass = this.model.forward(padBatch(ex, this.tr.tok.specialIds.pad), {
      train: false,
      seed: 0,
      inference: true,
    });
    const rows = be.uploadU32(Uint32Array.from(ex.map((_, b) => b * pass.batch.T)), "dev.rows");
    const feats = be.empty([B, cfg.hidden], "dev.features");
    be.gatherRows(feats, pass.hidden, rows, { M: B, C: cfg.hidden });
    this.model.releasePass(pass);
    be.release(rows);
    const labels = Uint32Array.from(ex.map((e) => e.label));
    let prev = Infinity;
    let steps = 0;
    for (; steps < d.steps; steps++) {
      ctx.fillMany([...this.headGrads.values()], 0);
      const opts = { labels, train: true, seed: devHeadDropoutSeed(step, steps) };
      const c = this.model.clsForward(feats, B, 1, opts);
      const dFeats = be.zeros([B, cfg.hidden], "dev.dfeatures");
      this.model.clsBackward(c, B, opts, dFeats, this.grads, 1);
      const losses = await ctx.read(c.losses);
      be.release(dFeats, ...Object.values(c));
      let loss = 0;
      for (let b = 0; b < B; b++) loss += losses[b] / B;
      this.opt.step({ wte: this.tr.params.wte, t: this.headGrads }, 1, steps + 1);
      if (Math.abs(prev - loss) < d.tol) {
        steps++;
        break;
      }
      prev = loss;
    }
    be.release(feats);
    // g_dev: the trained head's loss on a fresh dev sample, w.r.t. the encoder.
    ctx.fillMany(storeTensors(this.grads), 0);
    const ex2 = this.sample(step, 1);
    const pass2 = this.model.forward(padBatch(ex2, this.tr.tok.specialIds.pad), {
      labels: Uint32Array.from(ex2.map((e) => e.label)),
      train: false,
      seed: 0,
    });
    this.model.backward(pass2, this.grads, { mlm: 0, cls: 1 });
    this.model.releasePass(pass2);
    return steps;
  }

  release(): void {
    const ctx = this.tr.ctx;
    this.grads.wte.release(ctx);
    for (const t of this.grads.t.values()) ctx.release(t);
    for (const t of this.headParams.values()) ctx.release(t);
    for (const t of [...this.moments.m.t.values(), ...this.moments.v.t.values()]) ctx.release(t);
    this.opt.release();
  }
}

function size(p: ParamSpec): number {
  return p.shape.reduce((a, b) => a * b, 1);
}
