/** `l3mask eval --model RUN_DIR/best --data F`: accuracy, macro-F1 and predictions of a saved model. */
import { join } from "node:path";
import { readDataset } from "../data/read.ts";
import { checkLabelsSeen } from "../data/labels.ts";
import { UserError } from "../errors.ts";
import { createContext } from "../gpu/context.ts";
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
import { choice, positiveInt } from "./flags.ts";

const USAGE = `Usage: l3mask eval --model DIR --data F [--out PREDICTIONS.jsonl] [options]

Scores a saved classifier (a run's best/ directory, or any Hugging Face
*ForSequenceClassification checkpoint with id2label) on a labelled file and writes one
prediction per row: {"row", "label", "pred", "probs"} with probs in id2label order.

  --model DIR          the model directory (config.json with id2label, model.safetensors, tokenizer.json)
  --data F             CSV, TSV or JSONL with text (and label) columns
  --out FILE           predictions (default: stdout summary only)
  --text-column NAME   default text;  --label-column NAME   default label
  --input-format F     csv, tsv or jsonl (default: from the extension)
  --max-length N       default 128 (or fewer where the model's positions end)
  --batch-size N       default 32
  --offline            never touch the network`;

export async function evalCommand(args: string[]): Promise<void> {
  const { values } = parse("eval", args, {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    "text-column": { type: "string" },
    "label-column": { type: "string" },
    "input-format": { type: "string" },
    "max-length": { type: "string" },
    "batch-size": { type: "string" },
    offline: { type: "boolean" },
  }, USAGE);
  if (!values.model || !values.data) {
    throw new UserError("--model and --data are required. See 'l3mask eval --help'.");
  }
  const requestedLength = values["max-length"] === undefined
    ? undefined
    : positiveInt(values["max-length"], "--max-length");
  const batch = positiveInt(values["batch-size"] ?? "32", "--batch-size");
  const format = values["input-format"] === undefined
    ? undefined
    : choice(values["input-format"], "--input-format", ["csv", "tsv", "jsonl"] as const);
  if (values.out) await checkOutputFile(values.out, "--out");
  const dir = await resolveModel(values.model, { offline: values.offline });
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
  const resolved = resolveMaxLength(loaded.config, requestedLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const maxLength = resolved.maxLength;
  const data = await readDataset(values.data, {
    textColumn: values["text-column"] ?? "text",
    labelColumn: values["label-column"] ?? "label",
    format,
  });
  checkLabelsSeen(labels, data, join(dir, "config.json"));
  const ctx = await createContext().catch((e) => {
    throw new UserError((e as Error).message);
  });
  const cfg = { ...loaded.config, numLabels: labels.length };
  const classifier = new Classifier(ctx, cfg, loaded.params);
  const exs = encodeRows(tok, data.rows, labels, maxLength);
  const probs = await classifier.predict(exs, tok.specialIds.pad, batch);
  const ev = evaluate(exs.map((e) => e.label), probs, labels.length);
  if (values.out) await writePredictions(values.out, exs, probs, labels);
  classifier.release();
  ctx.destroy();
  console.log(`rows: ${exs.length}`);
  console.log(`accuracy: ${ev.accuracy.toFixed(4)}`);
  console.log(`macro-F1: ${ev.macroF1.toFixed(4)}`);
  if (values.out) console.log(`predictions: ${values.out}`);
}
