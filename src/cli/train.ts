/** `l3mask train`: flags and --config resolved into a TrainConfig, then a run (src/train/run.ts). */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import {
  configHelp,
  type ConfigKey,
  flagOf,
  flagsToValues,
  fromResolvedYaml,
  loadConfigFile,
  resolveConfig,
  RESUME_KEYS,
  type TrainConfig,
  trainFlagOptions,
} from "../train/config.ts";
import { runProgress, runTraining } from "../train/run.ts";
import { parse } from "../options/args.ts";
import { CommandOptions } from "../options/command.ts";

const RESUME_FLAGS = RESUME_KEYS.map(flagOf).join(" and ");
/** --config, --resume and --overwrite: how the run starts, not what it computes. */
const RUN_CONTROL = new CommandOptions("train", ["config", "resume", "overwrite"] as const);

const USAGE = `Usage: l3mask train --model M --train FILE --dev FILE [--test FILE] [options]
       l3mask train --resume RUN_DIR [--offline] [--cache-dir DIR]

Fine-tunes a classifier (stl), or a classifier with a masked-LM auxiliary task on the same
training texts (mtl) whose masks are random (--masking rtm) or follow the vanilla model's
token-wise pseudo-likelihood (--masking l3, L3Masking), with fixed or META-TARTAN task weights.
The resolved configuration is saved in RUN_DIR/config.yaml; --out must be a new or empty
directory, or an earlier run to replace with --overwrite.
`;

type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

export async function train(args: string[]): Promise<void> {
  const { values } = parse(
    "train",
    args,
    { ...trainFlagOptions(), ...RUN_CONTROL.flagOptions() },
    USAGE + "\n" + configHelp(RUN_CONTROL.helpRows(["resume", "overwrite"])),
  );
  const control = RUN_CONTROL.readFlags(values);
  const flags = flagsToValues(values);
  let config: TrainConfig;
  if (control.resume !== undefined) {
    config = await resumedConfig(control.resume, control, flags);
    const progress = await runProgress(control.resume);
    if (progress?.done) return finishedAlready(control.resume, config, progress);
  } else {
    const layers = [];
    if (control.config !== undefined) {
      layers.push({ source: control.config, values: await loadConfigFile(control.config) });
    }
    layers.push({ source: "command line", values: flags, flags: true });
    config = resolveConfig(layers);
    config.out ??= join("runs", new Date().toISOString().replace(/[:.]/g, "-"));
  }
  const summary = await runTraining(config, {
    resume: control.resume !== undefined,
    overwrite: control.overwrite,
  });
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

/**
 * The configuration of a run to resume: its config.yaml, with only the flags that say where
 * files are found (RESUME_KEYS). A flag that changed what the run computes would break the
 * bit-identical continuation (and the record of what was run), so it is refused.
 */
async function resumedConfig(
  dir: string,
  control: { config?: string; overwrite: boolean },
  flags: Record<string, unknown>,
): Promise<TrainConfig> {
  const changing = [
    ...(control.config !== undefined ? ["--config"] : []),
    ...(control.overwrite ? ["--overwrite"] : []),
    ...Object.keys(flags).filter((k) => !RESUME_KEYS.includes(k as ConfigKey)).map((k) =>
      flagOf(k as ConfigKey)
    ),
  ];
  if (changing.length) {
    throw new UserError(
      `${changing.join(", ")}: not allowed with --resume, which continues ${dir} with the ` +
        `settings of its config.yaml (only ${RESUME_FLAGS} may be given); to change ` +
        `settings, start a new run with --config ${join(dir, "config.yaml")}, the new flags ` +
        `and a new --out`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "config.yaml"));
  } catch {
    throw new UserError(
      `${dir}: no config.yaml; --resume takes a run directory written by 'l3mask train'`,
    );
  }
  const config = fromResolvedYaml(text, join(dir, "config.yaml"));
  config.out = dir;
  if (flags.offline !== undefined) config.offline = flags.offline as boolean;
  if (flags.cache_dir !== undefined) config.cacheDir = flags.cache_dir as string;
  return config;
}

/**
 * Resuming a finished run is not an error (a script may resume until done), but it must not
 * score test again: say so and stop.
 */
function finishedAlready(
  dir: string,
  config: TrainConfig,
  progress: { step: number; best: number; bestStep: number },
): void {
  console.log(`run: ${dir}`);
  console.log(
    `finished already (${progress.step} step${progress.step === 1 ? "" : "s"}, best dev ` +
      `${config.metric} ` +
      `${fmt(progress.best)} at step ${progress.bestStep}); nothing to resume`,
  );
  console.log(
    `to train again, start a new run: l3mask train --config ${
      join(dir, "config.yaml")
    } --out NEW_DIR`,
  );
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}
