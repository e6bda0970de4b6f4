/** `l3mask eval --model RUN_DIR/best --data F`: accuracy, macro-F1 and predictions of a saved model. */
import { join } from "node:path";
import { readDataset } from "../data/read.ts";
import { checkLabelsSeen } from "../data/labels.ts";
import { UserError } from "../errors.ts";
import { openDevice } from "../gpu/context.ts";
import { checkOutputFile } from "../io/outputs.ts";
import { resolveModel } from "../io/hub.ts";
import { loadTokenizer } from "../io/tokenizer.ts";
import { resolveMaxLength } from "../model/config.ts";
import { loadCheckpoint } from "../model/weights.ts";
import { encodeRows } from "../data/examples.ts";
import { evaluate } from "../classify/metrics.ts";
import { Classifier } from "../classify/predict.ts";
import { writePredictions } from "../run/run_dir.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";

const OPTIONS = new CommandOptions(
  "eval",
  [
    "model",
    "data",
    "text_column",
    "label_column",
    "input_format",
    "out@file",
    "max_length",
    "batch_size@eval",
    "offline",
  ] as const,
);

const USAGE = `Usage: l3mask eval --model DIR --data F [--out PREDICTIONS.jsonl] [options]

Scores a saved classifier (a run's best/ directory, or any Hugging Face
*ForSequenceClassification checkpoint with id2label) on a labelled file and writes one
prediction per row: {"row", "label", "pred", "probs"} with probs in id2label order (--out;
without it, only the summary is printed).

Options:
${OPTIONS.help()}`;

export async function evalCommand(args: string[]): Promise<void> {
  const { values } = parse("eval", args, OPTIONS.flagOptions(), USAGE);
  const o = OPTIONS.readFlags(values);
  if (o.out) await checkOutputFile(o.out, "--out");
  const dir = await resolveModel(o.model, { offline: o.offline });
  const tok = await loadTokenizer(dir);
  const loaded = await loadCheckpoint(dir, { mlm: "optional", classifier: true }, {
    tokenizer: tok,
  });
  const labels = loaded.labels;
  if (!labels || labels.length < 2) {
    throw new UserError(
      `${join(dir, "config.json")}: no id2label with at least 2 labels; eval needs a classifier`,
    );
  }
  const resolved = resolveMaxLength(loaded.config, o.maxLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const maxLength = resolved.maxLength;
  const data = await readDataset(o.data, {
    textColumn: o.textColumn,
    labelColumn: o.labelColumn,
    format: o.inputFormat,
  });
  checkLabelsSeen(labels, data, join(dir, "config.json"));
  const ctx = await openDevice();
  const cfg = { ...loaded.config, numLabels: labels.length };
  const classifier = new Classifier(ctx, cfg, loaded.params);
  const exs = encodeRows(tok, data.rows, labels, maxLength);
  const probs = await classifier.predict(exs, tok.specialIds.pad, o.batchSize);
  const ev = evaluate(exs.map((e) => e.label), probs, labels.length);
  if (o.out) await writePredictions(o.out, exs, probs, labels);
  classifier.release();
  ctx.destroy();
  console.log(`rows: ${exs.length}`);
  console.log(`accuracy: ${ev.accuracy.toFixed(4)}`);
  console.log(`macro-F1: ${ev.macroF1.toFixed(4)}`);
  if (o.out) console.log(`predictions: ${o.out}`);
}
