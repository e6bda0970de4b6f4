/**
 * A training run end to end (SPEC §5): data, model, L3Masking mask probabilities, the epochs
 * with evaluation, early stopping and the best checkpoint, the optional fine-tune phase, test
 * scoring with the best checkpoint, predictions and the report. The run directory and its
 * lifecycle are src/run/run_dir.ts's; the epochs are src/train/loop.ts's. The last optimizer step
 * is always evaluated, so best/ exists however early --max-steps ends the run.
 */
import { checkLabelsSeen, checkTrainLabels, labelSet } from "../data/labels.ts";
import { type DataRow, readDataset } from "../data/read.ts";
import { countTruncated, encodeRows, type Example } from "../data/examples.ts";
import { UserError } from "../errors.ts";
import { type GpuContext, openDevice } from "../gpu/context.ts";
import { resolveModel } from "../io/hub.ts";
import { type L3Tokenizer, loadTokenizer } from "../io/tokenizer.ts";
import { matmulPolicy } from "../kernels/linear.ts";
import { maxSequenceLength, type ModelConfig, resolveMaxLength } from "../model/config.ts";
import { loadCheckpoint, type LoadedModel } from "../model/weights.ts";
import { SHUFFLE, shuffled } from "../random/streams.ts";
import { describeTruncation, type MetricRecord, type Truncation } from "../run/records.ts";
import { RunDir } from "../run/run_dir.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { note } from "../util/progress.ts";
import { toYaml, type TrainConfig, withValues } from "./config.ts";
import { type EncodedSplits, type RunState, type RunSummary, TrainLoop } from "./loop.ts";
import { Trainer, type TrainerSettings } from "./trainer.ts";

export type { RunSummary } from "./loop.ts";

export interface RunOptions {
  resume: boolean;
  /** A new run may replace an earlier run in its directory (else that is an error). */
  overwrite?: boolean;
  quiet?: boolean;
  /** A device to run on (kept open, its compiled pipelines reused); default: a new one. */
  ctx?: GpuContext;
}

export async function runTraining(c: TrainConfig, opts: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const say = (msg: string) => opts.quiet || note(msg);
  const run = await openRun(c.out!, opts);
  const data = await readSplits(c);
  const model = await loadModel(c, data.labels, say);
  c = withValues(c, { maxLength: model.maxLength });
  const splits = encodeSplits(model.tok, data, model.maxLength);
  reportTruncation(splits.truncation, model.cfg, say);
  const ctx = opts.ctx ?? await openDevice();
  if (c.mode === "mtl" && c.masking === "l3") {
    await attachMaskProbs(ctx, c, model, data.train, splits.train, say, opts.quiet);
  }
  const settings = trainerSettings(c, splits.train.length);
  const trainer = new Trainer(ctx, model.cfg, model.loaded.params, settings, model.tok, splits.dev);
  expectWork(ctx, c, model.cfg, settings.totalSteps);
  const st = await startLog(run, c, trainer, splits.truncation, opts.resume, say);
  const loop = new TrainLoop({
    c,
    run,
    trainer,
    settings,
    st,
    splits,
    labels: data.labels,
    model: {
      cfg: model.cfg,
      raw: model.loaded.raw,
      tokenizerJson: model.tok.jsonBytes,
    },
    say,
    quiet: opts.quiet,
  });
  await loop.runPhases();
  const summary = await loop.finish(t0);
  trainer.release();
  if (!opts.ctx) ctx.destroy();
  return summary;
}

/** What a run directory's state/ says about its progress; null when there is no state. */
export async function runProgress(
  dir: string,
): Promise<{ done: boolean; step: number; best: number; bestStep: number } | null> {
  const st = await RunDir.peekState<RunState>(dir);
  return st && { done: st.done, step: st.step, best: st.best, bestStep: st.bestStep };
}

/** The run directory, checked before any work starts; a resumed run must have unfinished state. */
async function openRun(outDir: string, opts: RunOptions): Promise<RunDir<MetricRecord>> {
  const run = await RunDir.open<MetricRecord>(outDir, { ...opts, policy: "fresh" });
  if (!opts.resume) return run;
  const progress = await runProgress(outDir);
  if (!progress) {
    throw new UserError(
      `${outDir}: no state to resume from (state/ is missing); start without --resume`,
    );
  }
  if (progress.done) {
    throw new UserError(
      `${outDir}: the run is finished (${progress.step} steps); there is nothing to resume ` +
        `(to train again, start a new run with another --out)`,
    );
  }
  return run;
}

interface Splits {
  labels: string[];
  train: DataRow[];
  dev: DataRow[];
  test: DataRow[] | null;
}

/** The three splits, their labels checked; train cut to max_train_examples rows (seeded). */
async function readSplits(c: TrainConfig): Promise<Splits> {
  const read = (path: string) =>
    readDataset(path, {
      format: c.inputFormat,
      textColumn: c.textColumn,
      textPairColumn: c.textPairColumn ?? null,
      labelColumn: c.labelColumn,
      skipBadRows: c.skipBadRows,
    });
  const trainData = await read(c.train!);
  const devData = await read(c.dev!);
  const testData = c.test ? await read(c.test) : null;
  const labels = checkTrainLabels(trainData);
  checkLabelsSeen(labels, devData, c.train!);
  if (testData) checkLabelsSeen(labels, testData, c.train!);
  let train = trainData.rows;
  if (c.maxTrainExamples && train.length > c.maxTrainExamples) {
    const order = shuffled(train.length, c.seed, SHUFFLE.subset, 0).slice(0, c.maxTrainExamples);
    train = order.sort((a, b) => a - b).map((i) => train[i]);
    const kept = labelSet(train);
    if (kept.length < 2) {
      throw new UserError(
        `--max-train-examples ${c.maxTrainExamples} keeps only rows labelled ${
          JSON.stringify(kept[0])
        } of the ${labels.length} classes in ${c.train}; classification needs at least two ` +
          `classes: raise --max-train-examples (or change --seed, which draws the rows)`,
      );
    }
  }
  return { labels, train, dev: devData.rows, test: testData?.rows ?? null };
}

interface Model {
  dir: string;
  tok: L3Tokenizer;
  loaded: LoadedModel;
  /** The checkpoint's config with the run's labels and dropout. */
  cfg: ModelConfig;
  maxLength: number;
}

/** The starting checkpoint (MLM head required for MTL), and the max_length the run uses. */
async function loadModel(c: TrainConfig, labels: string[], say: (m: string) => void) {
  const dir = await resolveModel(c.model!, { offline: c.offline, progress: say });
  const tok = await loadTokenizer(dir);
  const loaded = await loadCheckpoint(
    dir,
    { mlm: c.mode === "mtl" ? true : "optional", classifier: "optional" },
    { numLabels: labels.length, seed: c.seed },
  );
  const cfg: ModelConfig = {
    ...loaded.config,
    numLabels: labels.length,
    hiddenDropout: c.dropout,
    attentionDropout: c.dropout,
  };
  // Unset max_length means min(128, the model's positions); config.yaml records the value used,
  // so a resumed run reads it back as an explicit value and runs identically.
  const resolved = resolveMaxLength(cfg, c.maxLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  if (c.batchTokens < resolved.maxLength) {
    throw new UserError(
      `--batch-tokens ${c.batchTokens} must be at least max_length ${resolved.maxLength}` +
        `${c.maxLength === undefined ? " (the default for this model)" : ""}; raise ` +
        `--batch-tokens or pass --max-length ${c.batchTokens}`,
    );
  }
  return { dir, tok, loaded, cfg, maxLength: resolved.maxLength } satisfies Model;
}

function encodeSplits(tok: L3Tokenizer, d: Splits, maxLength: number): EncodedSplits {
  const train = encodeRows(tok, d.train, d.labels, maxLength);
  const dev = encodeRows(tok, d.dev, d.labels, maxLength);
  const test = d.test ? encodeRows(tok, d.test, d.labels, maxLength) : [];
  const withTest = d.test !== null;
  const truncation: Truncation = {
    max_length: maxLength,
    texts: { train: train.length, dev: dev.length, ...(withTest ? { test: test.length } : {}) },
    truncated: {
      train: countTruncated(train),
      dev: countTruncated(dev),
      ...(withTest ? { test: countTruncated(test) } : {}),
    },
  };
  return { train, dev, test, rows: { dev: d.dev, test: d.test ?? [] }, truncation };
}

function reportTruncation(t: Truncation, cfg: ModelConfig, say: (m: string) => void): void {
  const cut = t.truncated.train + t.truncated.dev + (t.truncated.test ?? 0);
  if (cut === 0) return;
  const limit = maxSequenceLength(cfg);
  say(
    describeTruncation(t) +
      (t.max_length < limit
        ? ` (the model allows --max-length up to ${limit})`
        : " (the model's positions allow no more)"),
  );
}

/** L3Masking: PLT of the training texts under the vanilla model (cached, never per batch). */
async function attachMaskProbs(
  ctx: GpuContext,
  c: TrainConfig,
  model: Model,
  rows: DataRow[],
  train: Example[],
  say: (m: string) => void,
  quiet?: boolean,
): Promise<void> {
  const plt = await computePlt(ctx, model.loaded, model.tok, rows.map((r) => r.text), {
    maxLength: model.maxLength,
    budgetTokens: c.batchTokens,
    copies: c.copies,
    cacheDir: c.cacheDir ?? defaultPltCacheDir(),
    progress: !quiet,
  });
  // A pair's second text is not scored by PLT: its tokens get the mean rate pbar.
  train.forEach((e, i) => {
    const opts = { pbar: c.pbar, complement: c.complement, overflow: c.overflow };
    const m = textMaskProbs(plt.scores[i], opts);
    const scored = plt.scores[i].ids;
    e.maskProb = e.ids.map((id, j) =>
      j < m.length && scored[j] === id ? m[j] : e.special[j] ? 0 : c.pbar
    );
  });
  const how = c.copies === "exact" ? "" : `, PLT from ${c.copies} word groups per text`;
  say(`L3Masking: mask probabilities of ${train.length} texts (${plt.cached} from cache${how})`);
}

/** The trainer's settings from the configuration (one optimizer step per `batch_size` texts). */
function trainerSettings(c: TrainConfig, trainTexts: number): TrainerSettings {
  const stepsPerEpoch = Math.ceil(trainTexts / c.batchSize);
  const group = (lr: number, weightDecay: number) => ({
    lr,
    betas: c.encoderBetas as [number, number],
    eps: c.encoderEps,
    weightDecay,
    clipNorm: c.clipNorm,
  });
  return {
    mode: c.mode,
    masking: c.masking,
    weighting: c.weighting,
    seed: c.seed,
    batchSize: c.batchSize,
    gradAccum: c.gradAccum,
    mlmBatchSize: c.mlmBatchSize ?? c.batchSize,
    pbar: c.pbar,
    encoder: group(c.encoderLr, c.encoderWeightDecay),
    head: group(c.headLr, c.headWeightDecay),
    warmupRatio: c.warmupRatio,
    totalSteps: c.maxSteps ?? stepsPerEpoch * c.maxEpochs,
    metaLr: c.metaLr,
    devHead: {
      steps: c.devHeadSteps,
      lr: c.devHeadLr,
      weightDecay: c.devHeadWeightDecay,
      tol: c.devHeadTol,
      examples: c.devHeadExamples,
    },
  };
}

/**
 * Tells the matmul policy about the encoder's linear products the run will do (forward and two
 * backward products per token padded to max_length; MTL doubles the batches; the META-TARTAN dev
 * pass is left out, so this errs low), so it compiles slab at once when the run earns it back.
 */
function expectWork(ctx: GpuContext, c: TrainConfig, cfg: ModelConfig, totalSteps: number): void {
  const { hidden: C, intermediate: I, layers: L } = cfg;
  const tokensPerStep = c.batchSize * c.maxLength! * (c.mode === "mtl" ? 2 : 1);
  matmulPolicy(ctx).expect(3 * totalSteps * tokensPerStep * L * (4 * C * C + 2 * C * I));
}

/**
 * The run's state and metrics.jsonl at the start of the epochs. A new run writes an empty
 * metrics.jsonl, its config.yaml and the data event; a resumed run loads state/ into the trainer
 * and cuts metrics.jsonl back to the records its state had seen.
 */
async function startLog(
  run: RunDir<MetricRecord>,
  c: TrainConfig,
  trainer: Trainer,
  truncation: Truncation,
  resume: boolean,
  say: (m: string) => void,
): Promise<RunState> {
  await Deno.mkdir(run.path, { recursive: true });
  if (!resume) {
    const st = TrainLoop.initialState(trainer);
    await run.openMetrics();
    await run.writeConfig("config.yaml", toYaml(c));
    await run.log({ type: "event", step: 0, message: describeTruncation(truncation), truncation });
    st.metricsLines++;
    return st;
  }
  const saved = await run.loadState<RunState>();
  if (!saved) throw new UserError(`${run.path}: state/ disappeared while the run started`);
  const st = saved.state;
  trainer.loadParams(saved.params, saved.moments);
  trainer.state = {
    step: st.step,
    taskLogits: { ...st.taskLogits },
    adamOffset: st.adamOffset,
    constantLr: st.phase === "finetune",
  };
  // A resumed run has the data event from its start (metrics.jsonl was kept up to the state).
  await run.openMetrics((lines) => lines.slice(0, st.metricsLines));
  say(`resuming ${run.path} at step ${st.step} (epoch ${st.epoch + 1}, batch ${st.batchInEpoch})`);
  return st;
}
