/**
 * A training run end to end (SPEC §5): data, model, L3Masking mask probabilities, the epochs
 * with evaluation, early stopping and the best checkpoint, the optional fine-tune phase, test
 * scoring with the best checkpoint, predictions and the report. The run directory:
 *
 *   config.yaml        the resolved configuration
 *   metrics.jsonl      one record per step / evaluation / event
 *   best/              Hugging Face model: config.json (id2label), model.safetensors, tokenizer.json
 *   state/             resume state: params, AdamW moments, trainer.json (atomic directory swap)
 *   predictions/       dev.jsonl and test.jsonl of the best checkpoint
 *   report.html        loss curves, dev metric, task weights
 *
 * The directory is checked before any work starts: it must be writable, and a new run goes only
 * into a new or empty directory, or over an earlier run with `overwrite` (its entries above are
 * removed first; files that are not the run's are left alone). The last optimizer step is always
 * evaluated, so best/ exists however early --max-steps ends the run.
 */
import { join } from "node:path";
import { checkLabelsSeen, checkTrainLabels, labelSet } from "../data/labels.ts";
import { readDataset } from "../data/read.ts";
import { UserError } from "../errors.ts";
import { createContext, type GpuContext } from "../gpu/context.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { toHfConfig } from "../model/hf_config.ts";
import { resolveModel } from "../io/hub.ts";
import { asFsUserError, checkOutputDir } from "../io/outputs.ts";
import { openSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { readStateDir, writeStateDir } from "../io/state.ts";
import { loadTokenizer } from "../io/tokenizer.ts";
import { maxSequenceLength, type ModelConfig, resolveMaxLength } from "../model/config.ts";
import { modelNames, paramSpecs } from "../model/params.ts";
import { type HostParams, loadCheckpoint } from "../model/weights.ts";
import {
  describeTruncation,
  type MetricRecord,
  renderTrainReport,
  type Truncation,
} from "../report/train_report.ts";
import { defaultPltCacheDir } from "../score/cache.ts";
import { computePlt, textMaskProbs } from "../score/pipeline.ts";
import { note, Progress } from "../util/progress.ts";
import type { TrainConfig } from "./config.ts";
import { toYaml, withValues } from "./config.ts";
import { countTruncated, encodeRows, type Example } from "./data.ts";
import { evaluate, type Evaluation } from "./metrics.ts";
import { SHUFFLE, shuffled } from "../random/streams.ts";
import { Trainer, type TrainerSettings } from "./trainer.ts";
import { matmulPolicy } from "../kernels/linear.ts";

interface RunState {
  version: 1;
  step: number;
  epoch: number; // epoch in progress
  batchInEpoch: number; // primary batches of `epoch` already done
  phase: "main" | "finetune";
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

/** What a run directory's state/ says about its progress; null when there is no state. */
export async function runProgress(
  dir: string,
): Promise<{ done: boolean; step: number; best: number; bestStep: number } | null> {
  const r = await readStateDir(join(dir, "state"), []);
  if (!r) return null;
  const st = r.json as RunState;
  return { done: st.done, step: st.step, best: st.best, bestStep: st.bestStep };
}

/** What a run writes into its directory (and `overwrite` removes), besides temporary files. */
const RUN_ENTRIES = [
  "config.yaml",
  "metrics.jsonl",
  "best",
  "state",
  "state.new",
  "state.old",
  "predictions",
  "report.html",
];

/** A run entry, or the temporary file of an interrupted atomic write of one (src/io/atomic.ts). */
const isRunEntry = (name: string) =>
  RUN_ENTRIES.some((e) => name === e || name.startsWith(`${e}.tmp-`));

/**
 * Checks the run directory before any work starts: writable (created if missing), and for a new
 * run either empty or, with `overwrite`, an earlier run, whose entries are then removed.
 */
export async function prepareRunDir(
  dir: string,
  opts: { resume: boolean; overwrite?: boolean },
): Promise<void> {
  const flag = opts.resume ? "--resume" : "--out";
  if (opts.resume && !(await Deno.stat(dir).catch(() => null))?.isDirectory) {
    throw new UserError(`--resume ${dir}: no such run directory`);
  }
  await checkOutputDir(dir, flag);
  if (opts.resume) return;
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  if (names.length === 0) return;
  const own = names.filter(isRunEntry).sort();
  const isRun = names.includes("config.yaml") || names.includes("metrics.jsonl");
  if (!isRun) {
    throw new UserError(
      `${flag} ${dir}: the directory is not empty and holds no l3mask run (${
        names.slice(0, 3).join(", ")
      }${names.length > 3 ? ", ..." : ""}); choose a new or empty directory for the run`,
    );
  }
  if (!opts.overwrite) {
    throw new UserError(
      `${flag} ${dir}: holds an earlier run (${own.join(", ")}); pass --overwrite to replace ` +
        `it, --resume ${dir} to continue it, or choose another --out`,
    );
  }
  for (const name of own) {
    try {
      await Deno.remove(join(dir, name), { recursive: true });
    } catch (e) {
      throw asFsUserError(
        e,
        `${flag} ${dir}`,
        "remove the earlier run by hand or choose another --out",
      );
    }
  }
}

export async function runTraining(
  c: TrainConfig,
  opts: {
    resume: boolean;
    /** A new run may replace an earlier run in its directory (else that is an error). */
    overwrite?: boolean;
    quiet?: boolean;
    /** A device to run on (kept open, its compiled pipelines reused); default: a new one. */
    ctx?: GpuContext;
  },
): Promise<RunSummary> {
  const t0 = performance.now();
  const outDir = c.out!;
  const say = (msg: string) => {
    if (!opts.quiet) note(msg);
  };
  await prepareRunDir(outDir, opts);
  const stateDir = join(outDir, "state");
  if (opts.resume) {
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
  }
  // ---- data
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
  let trainRows = trainData.rows;
  if (c.maxTrainExamples && trainRows.length > c.maxTrainExamples) {
    const order = shuffled(trainRows.length, c.seed, SHUFFLE.subset, 0).slice(0, c.maxTrainExamples)
      .sort((
        a,
        b,
      ) => a - b);
    trainRows = order.map((i) => trainRows[i]);
    const kept = labelSet(trainRows);
    if (kept.length < 2) {
      throw new UserError(
        `--max-train-examples ${c.maxTrainExamples} keeps only rows labelled ${
          JSON.stringify(kept[0])
        } of the ${labels.length} classes in ${c.train}; classification needs at least two ` +
          `classes: raise --max-train-examples (or change --seed, which draws the rows)`,
      );
    }
  }

  // ---- model
  const dir = await resolveModel(c.model!, { offline: c.offline, progress: say });
  const tok = await loadTokenizer(dir);
  const mtl = c.mode === "mtl";
  const loaded = await loadCheckpoint(
    dir,
    { mlm: mtl ? true : "optional", classifier: "optional" },
    {
      numLabels: labels.length,
      seed: c.seed,
    },
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
  c = withValues(c, { maxLength: resolved.maxLength });
  const maxLength = resolved.maxLength;
  const train = encodeRows(tok, trainRows, labels, maxLength);
  const dev = encodeRows(tok, devData.rows, labels, maxLength);
  const test = testData ? encodeRows(tok, testData.rows, labels, maxLength) : [];
  const truncation: Truncation = {
    max_length: maxLength,
    texts: { train: train.length, dev: dev.length, ...(testData ? { test: test.length } : {}) },
    truncated: {
      train: countTruncated(train),
      dev: countTruncated(dev),
      ...(testData ? { test: countTruncated(test) } : {}),
    },
  };
  const cut = truncation.truncated.train + truncation.truncated.dev +
    (truncation.truncated.test ?? 0);
  if (cut > 0) {
    const limit = maxSequenceLength(cfg);
    say(
      describeTruncation(truncation) +
        (maxLength < limit
          ? ` (the model allows --max-length up to ${limit})`
          : " (the model's positions allow no more)"),
    );
  }

  let ctx: GpuContext;
  try {
    ctx = opts.ctx ?? await createContext();
  } catch (e) {
    throw new UserError((e as Error).message);
  }

  // ---- L3Masking: PLT of the training texts under the vanilla model (cached, never per batch)
  if (mtl && c.masking === "l3") {
    const plt = await computePlt(ctx, loaded, tok, trainRows.map((r) => r.text), {
      maxLength,
      budgetTokens: c.batchTokens,
      cacheDir: c.cacheDir ?? defaultPltCacheDir(),
      progress: !opts.quiet,
    });
    // A pair's second text is not scored by PLT: its tokens get the mean rate pbar.
    train.forEach((e, i) => {
      const m = textMaskProbs(plt.scores[i], {
        pbar: c.pbar,
        complement: c.complement,
        overflow: c.overflow,
      });
      e.maskProb = e.ids.map((
        _,
        j,
      ) => (j < m.length && plt.scores[i].ids[j] === e.ids[j] ? m[j] : e.special[j] ? 0 : c.pbar));
    });
    say(`L3Masking: mask probabilities of ${train.length} texts (${plt.cached} from cache)`);
  }

  // ---- run directory
  await Deno.mkdir(outDir, { recursive: true });
  const metricsPath = join(outDir, "metrics.jsonl");
  const micro = c.batchSize / c.gradAccum;
  const stepsPerEpoch = Math.ceil(train.length / c.batchSize);
  const totalSteps = c.maxSteps ?? stepsPerEpoch * c.maxEpochs;
  const settings: TrainerSettings = {
    mode: c.mode,
    masking: c.masking,
    weighting: c.weighting,
    seed: c.seed,
    batchSize: c.batchSize,
    gradAccum: c.gradAccum,
    mlmBatchSize: c.mlmBatchSize ?? c.batchSize,
    pbar: c.pbar,
    encoder: {
      lr: c.encoderLr,
      betas: c.encoderBetas as [number, number],
      eps: c.encoderEps,
      weightDecay: c.encoderWeightDecay,
      clipNorm: c.clipNorm,
    },
    head: {
      lr: c.headLr,
      betas: c.encoderBetas as [number, number],
      eps: c.encoderEps,
      weightDecay: c.headWeightDecay,
      clipNorm: c.clipNorm,
    },
    warmupRatio: c.warmupRatio,
    totalSteps,
    metaLr: c.metaLr,
    devHead: {
      steps: c.devHeadSteps,
      lr: c.devHeadLr,
      weightDecay: c.devHeadWeightDecay,
      tol: c.devHeadTol,
      examples: c.devHeadExamples,
    },
  };
  const trainer = new Trainer(ctx, cfg, loaded.params, settings, tok, dev);
  // About the encoder's linear products the run will do (forward and two backward products per
  // token padded to max_length; MTL doubles the batches; the META-TARTAN dev pass is left out, so
  // this errs low): lets the matmul policy compile slab at once when the run earns it back.
  const { hidden: C, intermediate: I, layers: L } = cfg;
  const tokensPerStep = c.batchSize * maxLength * (mtl ? 2 : 1);
  matmulPolicy(ctx).expect(3 * totalSteps * tokensPerStep * L * (4 * C * C + 2 * C * I));
  let st: RunState = {
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
  const records: MetricRecord[] = [];
  if (opts.resume) {
    const resumed = await loadState(stateDir);
    if (!resumed) throw new UserError(`${outDir}: state/ disappeared while the run started`);
    st = resumed.state;
    trainer.loadParams(resumed.params, resumed.moments);
    trainer.state = {
      step: st.step,
      taskLogits: { ...st.taskLogits },
      adamOffset: st.adamOffset,
      constantLr: st.phase === "finetune",
    };
    const lines = (await Deno.readTextFile(metricsPath).catch(() => "")).split("\n").filter((l) =>
      l
    ).slice(0, st.metricsLines);
    for (const l of lines) records.push(JSON.parse(l));
    await writeFileAtomic(metricsPath, lines.map((l) => l + "\n").join(""));
    say(`resuming ${outDir} at step ${st.step} (epoch ${st.epoch + 1}, batch ${st.batchInEpoch})`);
  } else {
    await writeFileAtomic(metricsPath, "");
    await writeFileAtomic(join(outDir, "config.yaml"), toYaml(c));
  }
  const metricsFile = await Deno.open(metricsPath, { append: true, create: true });
  const log = async (r: MetricRecord) => {
    records.push(r);
    await metricsFile.write(new TextEncoder().encode(JSON.stringify(r) + "\n"));
    st.metricsLines++;
  };
  // A resumed run has this record from its start (metrics.jsonl was kept up to the state).
  if (!opts.resume) {
    await log({ type: "event", step: 0, message: describeTruncation(truncation), truncation });
  }

  const hfExtras = { head: "classification" as const, labels, original: loaded.raw };
  const saveBest = async () => {
    const params = await trainer.readParams();
    await saveHfModel(join(outDir, "best"), cfg, params, dir, hfExtras);
  };
  const evalDev = async (epoch: number, phase: "main" | "finetune"): Promise<boolean> => {
    const probs = await trainer.predict(dev, micro);
    const ev = evaluate(dev.map((e) => e.label), probs, labels.length);
    const value = c.metric === "accuracy" ? ev.accuracy : ev.macroF1;
    const improved = value > st.best;
    if (improved) {
      st.best = value;
      st.bestStep = st.step;
      st.badEvals = 0;
      await saveBest();
    } else st.badEvals++;
    await log({
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
    say(
      `  dev @ step ${st.step}: accuracy ${ev.accuracy.toFixed(4)}, macro-F1 ${
        ev.macroF1.toFixed(4)
      }${improved ? " (best)" : ""}`,
    );
    return improved;
  };

  const phases: { name: "main" | "finetune"; epochs: number; patience: number }[] = [
    { name: "main", epochs: c.maxEpochs, patience: c.patience },
  ];
  if (c.finetuneEpochs > 0) {
    phases.push({ name: "finetune", epochs: c.finetuneEpochs, patience: c.finetunePatience });
  }
  const progress = opts.quiet ? null : new Progress("train", totalSteps, "steps", st.step);
  let examples = 0;
  const tStart = performance.now();
  for (const phase of phases) {
    if (st.done) break;
    if (phase.name === "finetune" && st.phase === "main") {
      // Continue from the best checkpoint, primary task only, fresh AdamW at the fine-tune lr.
      await reloadBest(trainer, join(outDir, "best"));
      st.phase = "finetune";
      st.adamOffset = st.step;
      st.epoch = 0;
      st.batchInEpoch = 0;
      st.badEvals = 0;
      await log({
        type: "event",
        step: st.step,
        message: `fine-tune phase: lr ${c.finetuneLr}, ${phase.epochs} epochs`,
      });
    }
    if (st.phase !== phase.name) continue;
    if (phase.name === "finetune") {
      // Moments start at zero when the phase starts; a resumed run keeps the saved ones.
      trainer.resetOptimizer({
        encoder: { ...settings.encoder, lr: c.finetuneLr },
        head: { ...settings.head, lr: c.finetuneLr },
      }, st.step === st.adamOffset);
      trainer.state.adamOffset = st.adamOffset;
      trainer.state.constantLr = true;
    }
    let stop = false;
    let orders = { epoch: -1, primary: [] as number[], mlm: [] as number[] };
    while (!stop) {
      if (st.batchInEpoch >= stepsPerEpoch) {
        st.epoch++;
        st.batchInEpoch = 0;
      }
      if (st.epoch >= phase.epochs || (phase.name === "main" && st.step >= totalSteps)) break;
      if (orders.epoch !== st.epoch) {
        orders = {
          epoch: st.epoch,
          primary: shuffled(
            train.length,
            c.seed,
            phase.name === "finetune" ? SHUFFLE.finetunePrimary : SHUFFLE.primary,
            st.epoch,
          ),
          mlm: shuffled(train.length, c.seed, SHUFFLE.mlm, st.epoch),
        };
      }
      const b = st.batchInEpoch;
      const idx = orders.primary.slice(b * c.batchSize, (b + 1) * c.batchSize);
      const primary = chunk(idx.map((i) => train[i]), micro);
      const mlmN = settings.mlmBatchSize;
      const mlmIdx = orders.mlm.slice((b * mlmN) % train.length, (b * mlmN) % train.length + mlmN);
      const mlmBatch = mtl && phase.name === "main"
        ? chunk(mlmIdx.map((i) => train[i]), Math.max(1, Math.ceil(mlmN / c.gradAccum)))
        : null;
      const t1 = performance.now();
      const r = await trainer.step(primary, mlmBatch);
      st.step = trainer.state.step;
      st.taskLogits = { ...trainer.state.taskLogits };
      st.batchInEpoch++;
      examples += idx.length;
      const dt = (performance.now() - t1) / 1000;
      if (!Number.isFinite(r.lossCls) || (r.lossMlm !== null && !Number.isFinite(r.lossMlm))) {
        await log({
          type: "event",
          step: st.step,
          message:
            `non-finite loss (classification ${r.lossCls}, MLM ${r.lossMlm}); stopped, keeping the last good checkpoint`,
        });
        metricsFile.close();
        throw new UserError(
          `training diverged at step ${st.step}: loss is ${r.lossCls}/${r.lossMlm}. The last good model is in ` +
            `${
              join(outDir, "best")
            } and the last good state in ${stateDir}; lower --encoder-lr or raise --warmup-ratio`,
        );
      }
      await log({
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
        time: (performance.now() - tStart) / 1000,
      });
      progress?.update(
        st.step,
        `epoch ${st.epoch + 1}, loss ${r.lossCls.toFixed(4)}${
          r.lossMlm !== null ? `/${r.lossMlm.toFixed(4)}` : ""
        }` +
          (r.weights ? `, w ${r.weights.cls.toFixed(3)}/${r.weights.mlm.toFixed(3)}` : "") +
          `, ${(examples / ((performance.now() - tStart) / 1000)).toFixed(1)} ex/s`,
      );
      const endOfEpoch = st.batchInEpoch === stepsPerEpoch;
      // The phase's last step is always evaluated, so best/ exists (and holds the latest model
      // when nothing was evaluated before) however the steps and evaluations fall.
      const lastOfPhase = (phase.name === "main" && st.step >= totalSteps) ||
        (endOfEpoch && st.epoch + 1 >= phase.epochs);
      const evalNow = lastOfPhase ||
        (c.evalEvery === "epoch" ? endOfEpoch : st.step % c.evalEvery === 0);
      if (evalNow) {
        await evalDev(st.epoch, phase.name);
        if (st.badEvals >= phase.patience) {
          await log({
            type: "event",
            step: st.step,
            message: `early stop: ${st.badEvals} evaluations without improvement`,
          });
          say(`early stop after ${st.badEvals} evaluations without improvement`);
          stop = true;
          st.epoch = phase.epochs; // the phase is over
        }
        await saveState(stateDir, st, trainer, false);
      }
    }
  }
  progress?.finish(st.step);
  st.done = true;

  // ---- test with the best checkpoint; predictions of dev and test
  await reloadBest(trainer, join(outDir, "best"));
  const predsDir = join(outDir, "predictions");
  const summary: RunSummary = {
    outDir,
    bestDev: st.best,
    bestStep: st.bestStep,
    steps: st.step,
    seconds: 0,
  };
  for (
    const [split, exs, rows] of [["dev", dev, devData.rows], [
      "test",
      test,
      testData?.rows ?? [],
    ]] as const
  ) {
    if (!exs.length) continue;
    const probs = await trainer.predict(exs as Example[], micro);
    const ev = evaluate(exs.map((e) => e.label), probs, labels.length);
    await writePredictions(join(predsDir, `${split}.jsonl`), rows, exs as Example[], probs, labels);
    if (split === "test") {
      summary.test = ev;
      // The test split is scored by the best checkpoint: the record carries its step and epoch.
      const best = records.findLast((r) => r.type === "eval" && r.split === "dev" && r.best);
      await log({
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
    } else summary.dev = ev;
  }
  metricsFile.close();
  await saveState(stateDir, st, trainer, true);
  summary.seconds = (performance.now() - t0) / 1000;
  const html = renderTrainReport(records, {
    settings: Object.fromEntries(
      Object.entries(c).filter(([, v]) => v !== undefined && typeof v !== "object").map((
        [k, v],
      ) => [k, v as string]),
    ),
    labels,
    summary: {
      "best dev": st.best,
      "best step": st.bestStep,
      ...(summary.test
        ? { "test accuracy": summary.test.accuracy, "test macro-F1": summary.test.macroF1 }
        : {}),
      "wall time (s)": Number(summary.seconds.toFixed(1)),
    },
  });
  await writeFileAtomic(join(outDir, "report.html"), html);
  trainer.release();
  if (!opts.ctx) ctx.destroy();
  return summary;
}

function chunk<X>(xs: X[], n: number): X[][] {
  const out: X[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Save a Hugging Face sequence-classification model (config.json, model.safetensors, tokenizer.json). */
export async function saveHfModel(
  dir: string,
  cfg: ModelConfig,
  params: HostParams,
  srcDir: string,
  extras: Parameters<typeof toHfConfig>[1],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const specs = paramSpecs(cfg, { mlm: params.has(modelNames(cfg).mlmBias), classifier: true });
  await writeSafetensors(
    join(dir, "model.safetensors"),
    specs.map((p) => ({ name: p.name, shape: p.shape, data: params.get(p.name)! })),
    { format: "pt" },
  );
  await writeFileAtomic(
    join(dir, "config.json"),
    JSON.stringify(toHfConfig(cfg, extras), null, 2) + "\n",
  );
  await writeFileAtomic(
    join(dir, "tokenizer.json"),
    await Deno.readFile(join(srcDir, "tokenizer.json")),
  );
}

async function reloadBest(trainer: Trainer, dir: string): Promise<void> {
  using reader = await openSafetensors(join(dir, "model.safetensors"));
  const host: HostParams = new Map();
  for (const p of trainer.specs) {
    if (!reader.entries.has(p.name)) throw new Error(`${dir}: best checkpoint lacks '${p.name}'`);
    host.set(p.name, await reader.read(p.name));
  }
  trainer.loadParams(host);
}

async function writePredictions(
  path: string,
  rows: readonly { row: number }[],
  exs: Example[],
  probs: Float32Array,
  labels: string[],
): Promise<void> {
  const K = labels.length;
  const lines = exs.map((e, i) => {
    const p = Array.from(probs.subarray(i * K, (i + 1) * K));
    let best = 0;
    for (let k = 1; k < K; k++) if (p[k] > p[best]) best = k;
    return JSON.stringify({
      row: rows[i].row,
      label: e.label >= 0 ? labels[e.label] : null,
      pred: labels[best],
      probs: p,
    });
  });
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await writeFileAtomic(path, lines.join("\n") + "\n");
}

/** Write state/ atomically (see src/io/state.ts). */
async function saveState(
  dir: string,
  st: RunState,
  trainer: Trainer,
  done: boolean,
): Promise<void> {
  const { m, v } = await trainer.readMoments();
  await writeStateDir(dir, { params: await trainer.readParams(), adam_m: m, adam_v: v }, {
    ...st,
    done,
  });
}

async function loadState(
  dir: string,
): Promise<
  { state: RunState; params: HostParams; moments: { m: HostParams; v: HostParams } } | null
> {
  const r = await readStateDir(dir, ["params", "adam_m", "adam_v"]);
  if (!r) return null;
  return {
    state: r.json as RunState,
    params: r.groups.params,
    moments: { m: r.groups.adam_m, v: r.groups.adam_v },
  };
}
