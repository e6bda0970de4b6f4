/** `l3mask train`: flags and --config resolved into a TrainConfig, then a run (src/train/run.ts). */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import {
  configHelp,
  flagsToValues,
  fromResolvedYaml,
  loadConfigFile,
  resolveConfig,
  trainFlagOptions,
} from "../train/config.ts";
import { runTraining } from "../train/run.ts";
import { parse } from "./args.ts";

const USAGE = `Usage: l3mask train --model M --train F --dev F [--test F] [options]
       l3mask train --resume RUN_DIR

Fine-tunes a classifier (stl), or a classifier with a masked-LM auxiliary task on the same
training texts (mtl) whose masks are random (--masking rtm) or follow the vanilla model's
token-wise pseudo-likelihood (--masking l3, L3Masking), with fixed or META-TARTAN task weights.
Flags override the --config file; the resolved configuration is saved in RUN_DIR/config.yaml.

`;

export async function train(args: string[]): Promise<void> {
  const { values } = parse(
    "train",
    args,
    {
      ...trainFlagOptions(),
      config: { type: "string" },
      resume: { type: "string" },
    },
    USAGE +
      configHelp([[
        "--resume RUN_DIR",
        "continue an interrupted run from its state/ (bit-identical)",
      ]]),
  );
  let config;
  if (values.resume) {
    const dir = values.resume as string;
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, "config.yaml"));
    } catch {
      throw new UserError(
        `${dir}: no config.yaml; --resume takes a run directory written by 'l3mask train'`,
      );
    }
    config = fromResolvedYaml(text, join(dir, "config.yaml"));
    config.out = dir;
  } else {
    const layers = [];
    if (values.config) {
      layers.push({
        source: values.config as string,
        values: await loadConfigFile(values.config as string),
      });
    }
    layers.push({
      source: "command line",
      values: flagsToValues(values as Record<string, string | boolean>),
      flags: true,
    });
    config = resolveConfig(layers);
    config.out ??= join("runs", new Date().toISOString().replace(/[:.]/g, "-"));
  }
  const summary = await runTraining(config, { resume: Boolean(values.resume) });
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  console.log(`run: ${summary.outDir}`);
  console.log(`best dev ${config.metric}: ${fmt(summary.bestDev)} at step ${summary.bestStep}`);
  if (summary.dev) {
    console.log(
      `dev:  accuracy ${fmt(summary.dev.accuracy)}, macro-F1 ${fmt(summary.dev.macroF1)}`,
    );
  }
  if (summary.test) {
    console.log(
      `test: accuracy ${fmt(summary.test.accuracy)}, macro-F1 ${fmt(summary.test.macroF1)}`,
    );
  }
  console.log(`steps: ${summary.steps}, wall time ${summary.seconds.toFixed(1)}s`);
}
