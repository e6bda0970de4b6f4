/**
 * The epochs of a training run (SPEC §5): phases (main, then the optional fine-tune phase from the
 * best checkpoint), one optimizer step per primary batch, dev evaluation with the best checkpoint
 * and early stopping, state/ after every evaluation, and at the end test scoring with the best
 * checkpoint, predictions and the report. Every record goes to metrics.jsonl through the run
 * directory; the state counts them, so a resumed run cuts the file back to exactly its state.
 */
import { evaluate, type Evaluation } from "../classify/metrics.ts";
import type { Example } from "../data/examples.ts";
import { UserError } from "../errors.ts";
import type { ModelConfig } from "../model/config.ts";
import { modelNames } from "../model/params.ts";
import { SHUFFLE, shuffled } from "../random/streams.ts";
import type { MetricRecord, Phase } from "../run/records.ts";
import type { RunDir } from "../run/run_dir.ts";
import { renderTrainReport } from "../report/train_report.ts";
import { Progress } from "../util/progress.ts";
import type { TrainConfig } from "./config.ts";
import type { DataRow } from "../data/read.ts";
import type { Truncation } from "../run/records.ts";
import type { StepLog, Trainer, TrainerSettings } from "./trainer.ts";

/** state/state.json of a training run. */
export interface RunState {
  version: 1;
  step: number;
  epoch: number; // epoch in progress
  batchInEpoch: number; // primary batches of `epoch` already done
  phase: Phase;
  phaseEpochs: number; // epochs done in the current phase (finetune)
  taskLogits: { cls: number; mlm: number };
  adamOffset: number;
  best: number; // best dev metric so far (-Infinity before the first evaluation)
  bestStep: number;
  badEvals: number;
  metricsLines: number;
  done: boolean;
}

export interface RunSummary {
  outDir: string;
  bestDev: number;
  bestStep: number;
  test?: Evaluation;
  dev?: Evaluation;
  steps: number;
  seconds: number;
}

/** The splits as examples, the rows behind them, and what max_length cut. */
export interface EncodedSplits {
  train: Example[];
  dev: Example[];
  test: Example[];
  /** The rows behind `test` (empty without a test split) and `dev`, for predictions. */
  rows: { dev: DataRow[]; test: DataRow[] };
  truncation: Truncation;
}

interface PhasePlan {
  name: Phase;
  epochs: number;
  patience: number;
}

export interface LoopInput {
  c: TrainConfig;
  run: RunDir<MetricRecord>;
  trainer: Trainer;
  settings: TrainerSettings;
  st: RunState;
  splits: EncodedSplits;
  labels: string[];
  /** What best/ is written from: the run's config, the source config.json and tokenizer. */
  model: { cfg: ModelConfig; raw: Record<string, unknown>; tokenizerJson: Uint8Array };
  say: (msg: string) => void;
  quiet?: boolean;
}

export class TrainLoop {
  private readonly c: TrainConfig;
  private readonly run: RunDir<MetricRecord>;
  private readonly trainer: Trainer;
  private readonly st: RunState;
  private readonly micro: number;
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  private readonly progress: Progress | null;
  private examples = 0;
  private tStart = 0;

  constructor(private readonly x: LoopInput) {
    this.c = x.c;
    this.run = x.run;
    this.trainer = x.trainer;
    this.st = x.st;
    this.micro = x.c.batchSize / x.c.gradAccum;
    this.stepsPerEpoch = Math.ceil(x.splits.train.length / x.c.batchSize);
    this.totalSteps = x.settings.totalSteps;
    this.progress = x.quiet ? null : new Progress("train", this.totalSteps, "steps", x.st.step);
  }

  /** The state of a run before its first step. */
  static initialState(trainer: Trainer): RunState {
    return {
      version: 1,
      step: 0,
      epoch: 0,
      batchInEpoch: 0,
      phase: "main",
      phaseEpochs: 0,
      taskLogits: trainer.state.taskLogits,
      adamOffset: 0,
      best: -Infinity,
      bestStep: -1,
      badEvals: 0,
      metricsLines: 0,
      done: false,
    };
  }

  /** Appends a record to metrics.jsonl and counts it in the state. */
  private async log(r: MetricRecord): Promise<void> {
    await this.run.log(r);
    this.st.metricsLines++;
  }

  async runPhases(): Promise<void> {
    const c = this.c;
    const phases: PhasePlan[] = [{ name: "main", epochs: c.maxEpochs, patience: c.patience }];
    if (c.finetuneEpochs > 0) {
      phases.push({ name: "finetune", epochs: c.finetuneEpochs, patience: c.finetunePatience });
    }
    this.tStart = performance.now();
    for (const phase of phases) {
      if (this.st.done) break;
      if (phase.name === "finetune" && this.st.phase === "main") await this.startFinetune(phase);
      if (this.st.phase !== phase.name) continue;
      if (phase.name === "finetune") this.finetuneOptimizer();
      await this.runPhase(phase);
    }
    this.progress?.finish(this.st.step);
    this.st.done = true;
  }

  /** Continue from the best checkpoint, primary task only, fresh AdamW at the fine-tune lr. */
  private async startFinetune(phase: PhasePlan): Promise<void> {
    const st = this.st;
    await this.reloadBest();
    st.phase = "finetune";
    st.adamOffset = st.step;
    st.epoch = 0;
    st.batchInEpoch = 0;
    st.badEvals = 0;
    await this.log({
      type: "event",
      step: st.step,
      message: `fine-tune phase: lr ${this.c.finetuneLr}, ${phase.epochs} epochs`,
    });
  }

  /** Moments start at zero when the phase starts; a resumed run keeps the saved ones. */
  private finetuneOptimizer(): void {
    const { settings } = this.x;
    const lr = this.c.finetuneLr;
    this.trainer.resetOptimizer({
      encoder: { ...settings.encoder, lr },
      head: { ...settings.head, lr },
    }, this.st.step === this.st.adamOffset);
    this.trainer.state.adamOffset = this.st.adamOffset;
    this.trainer.state.constantLr = true;
  }

  private async runPhase(phase: PhasePlan): Promise<void> {
    const st = this.st;
    let orders = { epoch: -1, primary: [] as number[], mlm: [] as number[] };
    for (;;) {
      if (st.batchInEpoch >= this.stepsPerEpoch) {
        st.epoch++;
        st.batchInEpoch = 0;
      }
      if (st.epoch >= phase.epochs || (phase.name === "main" && st.step >= this.totalSteps)) break;
      if (orders.epoch !== st.epoch) orders = this.epochOrders(phase.name, st.epoch);
      await this.step(phase, orders);
      const endOfEpoch = st.batchInEpoch === this.stepsPerEpoch;
      // The phase's last step is always evaluated, so best/ exists (and holds the latest model
      // when nothing was evaluated before) however the steps and evaluations fall.
      const lastOfPhase = (phase.name === "main" && st.step >= this.totalSteps) ||
        (endOfEpoch && st.epoch + 1 >= phase.epochs);
      const c = this.c;
      if (lastOfPhase || (c.evalEvery === "epoch" ? endOfEpoch : st.step % c.evalEvery === 0)) {
        await this.evalDev(st.epoch, phase.name);
        const stop = st.badEvals >= phase.patience;
        if (stop) await this.earlyStop(phase);
        await this.run.saveState(this.trainer, { ...st, done: false });
        if (stop) return;
      }
    }
  }

  /** The epoch's batch orders of both tasks (drawn from the seed, so a resume redraws them). */
  private epochOrders(phase: Phase, epoch: number) {
    const n = this.x.splits.train.length;
    const stream = phase === "finetune" ? SHUFFLE.finetunePrimary : SHUFFLE.primary;
    return {
      epoch,
      primary: shuffled(n, this.c.seed, stream, epoch),
      mlm: shuffled(n, this.c.seed, SHUFFLE.mlm, epoch),
    };
  }

  /** One optimizer step on batch `batchInEpoch` of the epoch, logged. */
  private async step(phase: PhasePlan, orders: { primary: number[]; mlm: number[] }) {
    const { c, st } = this;
    const train = this.x.splits.train;
    const b = st.batchInEpoch;
    const idx = orders.primary.slice(b * c.batchSize, (b + 1) * c.batchSize);
    const primary = chunk(idx.map((i) => train[i]), this.micro);
    const mlmN = this.x.settings.mlmBatchSize;
    const from = (b * mlmN) % train.length;
    const mlmIdx = orders.mlm.slice(from, from + mlmN);
    const mlmBatch = c.mode === "mtl" && phase.name === "main"
      ? chunk(mlmIdx.map((i) => train[i]), Math.max(1, Math.ceil(mlmN / c.gradAccum)))
      : null;
    const t1 = performance.now();
    const r = await this.trainer.step(primary, mlmBatch);
    st.step = this.trainer.state.step;
    st.taskLogits = { ...this.trainer.state.taskLogits };
    st.batchInEpoch++;
    this.examples += idx.length;
    const dt = (performance.now() - t1) / 1000;
    if (!Number.isFinite(r.lossCls) || (r.lossMlm !== null && !Number.isFinite(r.lossMlm))) {
      await this.diverged(r);
    }
    await this.log({
      type: "step",
      step: st.step,
      epoch: st.epoch,
      phase: phase.name,
      loss_cls: r.lossCls,
      loss_mlm: r.lossMlm,
      weights: r.weights,
      lr_encoder: r.lrEncoder,
      lr_head: r.lrHead,
      grad_norm_encoder: r.gradNormEncoder,
      grad_norm_head: r.gradNormHead,
      examples_per_s: idx.length / dt,
      time: (performance.now() - this.tStart) / 1000,
    });
    this.showProgress(r);
  }

  private showProgress(r: StepLog): void {
    if (!this.progress) return;
    const rate = this.examples / ((performance.now() - this.tStart) / 1000);
    this.progress.update(
      this.st.step,
      `epoch ${this.st.epoch + 1}, loss ${r.lossCls.toFixed(4)}${
        r.lossMlm !== null ? `/${r.lossMlm.toFixed(4)}` : ""
      }` +
        (r.weights ? `, w ${r.weights.cls.toFixed(3)}/${r.weights.mlm.toFixed(3)}` : "") +
        `, ${rate.toFixed(1)} ex/s`,
    );
  }

  /** A non-finite loss: logged, and the run stops with the last good checkpoint and state. */
  private async diverged(r: StepLog): Promise<never> {
    const st = this.st;
    await this.log({
      type: "event",
      step: st.step,
      message:
        `non-finite loss (classification ${r.lossCls}, MLM ${r.lossMlm}); stopped, keeping the last good checkpoint`,
    });
    this.run.closeMetrics();
    throw new UserError(
      `training diverged at step ${st.step}: loss is ${r.lossCls}/${r.lossMlm}. The last good model is in ` +
        `${this.run.join("best")} and the last good state in ${this.run.stateDir}; lower ` +
        `--encoder-lr or raise --warmup-ratio`,
    );
  }

  private async earlyStop(phase: PhasePlan): Promise<void> {
    const st = this.st;
    await this.log({
      type: "event",
      step: st.step,
      message: `early stop: ${st.badEvals} evaluations without improvement`,
    });
    this.x.say(`early stop after ${st.badEvals} evaluations without improvement`);
    st.epoch = phase.epochs; // the phase is over
  }

  /** Dev evaluation; a new best is saved to best/. */
  private async evalDev(epoch: number, phase: Phase): Promise<void> {
    const { c, st } = this;
    const dev = this.x.splits.dev;
    const probs = await this.trainer.predict(dev, this.micro);
    const ev = evaluate(dev.map((e) => e.label), probs, this.x.labels.length);
    const value = c.metric === "accuracy" ? ev.accuracy : ev.macroF1;
    const improved = value > st.best;
    if (improved) {
      st.best = value;
      st.bestStep = st.step;
      st.badEvals = 0;
      await this.saveBest();
    } else st.badEvals++;
    await this.log({
      type: "eval",
      step: st.step,
      epoch,
      phase,
      split: "dev",
      accuracy: ev.accuracy,
      macro_f1: ev.macroF1,
      loss: ev.loss,
      best: improved,
    });
    this.x.say(
      `  dev @ step ${st.step}: accuracy ${ev.accuracy.toFixed(4)}, macro-F1 ${
        ev.macroF1.toFixed(4)
      }${improved ? " (best)" : ""}`,
    );
  }

  /** best/: a Hugging Face sequence-classification model (MLM head kept when the run has one). */
  private async saveBest(): Promise<void> {
    const { cfg, raw, tokenizerJson } = this.x.model;
    const params = await this.trainer.readParams();
    await this.run.saveModel("best", {
      cfg,
      params,
      heads: { mlm: params.has(modelNames(cfg).mlmBias), classifier: true },
      hf: { head: "classification", labels: this.x.labels, original: raw },
      tokenizerJson,
    });
  }

  private async reloadBest(): Promise<void> {
    this.trainer.loadParams(await this.run.readModel("best", this.trainer.specs));
  }

  /**
   * Test with the best checkpoint; predictions of dev and test; the final state (done) and the
   * report. Returns the run's summary.
   */
  async finish(t0: number): Promise<RunSummary> {
    const { st, run } = this;
    await this.reloadBest();
    const summary: RunSummary = {
      outDir: run.path,
      bestDev: st.best,
      bestStep: st.bestStep,
      steps: st.step,
      seconds: 0,
    };
    const dev = this.x.splits.dev;
    if (dev.length) summary.dev = await this.predictSplit("dev", dev);
    const test = this.x.splits.test;
    if (test.length) {
      summary.test = await this.predictSplit("test", test);
      await this.logTest(summary.test);
    }
    run.closeMetrics();
    await run.saveState(this.trainer, { ...st, done: true });
    summary.seconds = (performance.now() - t0) / 1000;
    await run.writeReport(this.report(summary));
    return summary;
  }

  private async predictSplit(split: "dev" | "test", exs: Example[]): Promise<Evaluation> {
    const probs = await this.trainer.predict(exs, this.micro);
    const rows = this.x.splits.rows[split];
    const predictions = exs.map((e, i) => ({ row: rows[i].row, label: e.label }));
    await this.run.writePredictions(split, predictions, probs, this.x.labels);
    return evaluate(exs.map((e) => e.label), probs, this.x.labels.length);
  }

  /** The test split is scored by the best checkpoint: the record carries its step and epoch. */
  private async logTest(ev: Evaluation): Promise<void> {
    const st = this.st;
    const best = this.run.records.findLast((r) => r.type === "eval" && r.split === "dev" && r.best);
    await this.log({
      type: "eval",
      step: st.bestStep,
      epoch: best?.type === "eval" ? best.epoch : st.epoch,
      phase: best?.type === "eval" ? best.phase : st.phase,
      split: "test",
      accuracy: ev.accuracy,
      macro_f1: ev.macroF1,
      loss: ev.loss,
      best: false,
      confusion: ev.confusion,
    });
  }

  private report(summary: RunSummary): string {
    const { c, st } = this;
    return renderTrainReport(this.run.records, {
      settings: Object.fromEntries(
        Object.entries(c).filter(([, v]) => v !== undefined && typeof v !== "object")
          .map(([k, v]) => [k, v as string]),
      ),
      labels: this.x.labels,
      summary: {
        "best dev": st.best,
        "best step": st.bestStep,
        ...(summary.test
          ? { "test accuracy": summary.test.accuracy, "test macro-F1": summary.test.macroF1 }
          : {}),
        "wall time (s)": Number(summary.seconds.toFixed(1)),
      },
    });
  }
}

function chunk<X>(xs: X[], n: number): X[][] {
  const out: X[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
