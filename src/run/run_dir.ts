/**
 * A run directory and its lifecycle, for every command that makes runs (`train`, `pretrain`,
 * `adapt`; `eval` writes predictions through `writePredictions`):
 *
 *   config.yaml / pretrain.yaml   the resolved configuration (`writeConfig`)
 *   metrics.jsonl                 one record per line (src/run/records.ts), appended by `log`
 *   state/                        resume state: params, AdamW moments, state.json (src/io/state.ts)
 *   best/ (train) or . (MLM)      Hugging Face checkpoint (`saveModel`, `readModel`)
 *   predictions/SPLIT.jsonl       class probabilities per row (`writePredictions`)
 *   report.html                   written by the command's report hook (`writeReport`)
 *
 * Opening checks the directory before any work starts. A `fresh` run (train) goes only into a new
 * or empty directory, or over an earlier run with `overwrite` (its entries are removed first; files
 * that are not the run's are left alone); a `shared` run (pretrain, adapt) writes next to what is
 * there (the tokenizer `vocab` wrote). `resume` needs the directory and its state.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { asFsUserError, checkOutputDir } from "../io/outputs.ts";
import { readStateDir, writeStateDir } from "../io/state.ts";
import type { ParamSpec } from "../model/params.ts";
import {
  type Checkpoint,
  type HostParams,
  readCheckpointParams,
  saveCheckpoint,
} from "../model/weights.ts";

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

/** What the optimizer-owning side of a run gives to (and takes from) state/. */
export interface Resumable {
  readParams(): Promise<HostParams>;
  readMoments(): Promise<{ m: HostParams; v: HostParams }>;
}

/** A run's saved state: its JSON record, parameters and AdamW moments. */
export interface SavedState<S> {
  state: S;
  params: HostParams;
  moments: { m: HostParams; v: HostParams };
}

export interface OpenOptions {
  resume: boolean;
  /** A fresh run may replace an earlier run in its directory (else that is an error). */
  overwrite?: boolean;
  /** `fresh`: the directory must be new, empty or an earlier run; `shared`: anything goes. */
  policy: "fresh" | "shared";
  /** The flag that named the directory (errors name it); default `--resume` / `--out`. */
  flag?: string;
}

export class RunDir<R> {
  private metrics: Deno.FsFile | null = null;
  /** The records of metrics.jsonl, as kept on resume and appended since. */
  readonly records: R[] = [];
  private readonly encoder = new TextEncoder();

  private constructor(readonly path: string) {}

  /** Checks (and for a fresh run clears) the directory; see the module comment. */
  static async open<R>(path: string, opts: OpenOptions): Promise<RunDir<R>> {
    const flag = opts.flag ?? (opts.resume ? "--resume" : "--out");
    if (opts.resume && !(await Deno.stat(path).catch(() => null))?.isDirectory) {
      throw new UserError(`${flag} ${path}: no such run directory`);
    }
    await checkOutputDir(path, flag);
    if (!opts.resume && opts.policy === "fresh") await clearForFreshRun(path, flag, opts);
    return new RunDir<R>(path);
  }

  get stateDir(): string {
    return join(this.path, "state");
  }

  join(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  async writeConfig(name: string, text: string): Promise<void> {
    await writeFileAtomic(join(this.path, name), text);
  }

  /**
   * Opens metrics.jsonl for appending. A new run starts it empty; a resumed run keeps the lines
   * `keep` selects (those up to its state) and rewrites the file to them.
   */
  async openMetrics(keep?: (lines: string[]) => string[]): Promise<void> {
    const file = join(this.path, "metrics.jsonl");
    let lines: string[] = [];
    if (keep) {
      const all = (await Deno.readTextFile(file).catch(() => "")).split("\n").filter((l) => l);
      lines = keep(all);
      for (const l of lines) this.records.push(JSON.parse(l));
    }
    await writeFileAtomic(file, lines.map((l) => l + "\n").join(""));
    this.metrics = await Deno.open(file, { append: true, create: true });
  }

  /** Appends one record to metrics.jsonl. */
  async log(record: R): Promise<void> {
    this.records.push(record);
    await this.metrics!.write(this.encoder.encode(JSON.stringify(record) + "\n"));
  }

  closeMetrics(): void {
    this.metrics?.close();
    this.metrics = null;
  }

  /** Writes state/ atomically: the trainer's parameters and moments, and `state` as JSON. */
  async saveState(trainer: Resumable, state: unknown): Promise<void> {
    const { m, v } = await trainer.readMoments();
    await writeStateDir(
      this.stateDir,
      { params: await trainer.readParams(), adam_m: m, adam_v: v },
      state,
    );
  }

  /** The saved state, or null when there is none. */
  async loadState<S>(): Promise<SavedState<S> | null> {
    const r = await readStateDir(this.stateDir, ["params", "adam_m", "adam_v"]);
    if (!r) return null;
    return {
      state: r.json as S,
      params: r.groups.params,
      moments: { m: r.groups.adam_m, v: r.groups.adam_v },
    };
  }

  /** state.json of the run in `path` alone (no tensors, no checks), or null when there is none. */
  static async peekState<S>(path: string): Promise<S | null> {
    return ((await readStateDir(join(path, "state"), []))?.json ?? null) as S | null;
  }

  /** Writes a Hugging Face checkpoint into `where` (a subdirectory, or "." for the run itself). */
  async saveModel(where: string, checkpoint: Checkpoint): Promise<void> {
    await saveCheckpoint(join(this.path, where), checkpoint);
  }

  /** The parameters `specs` names from the checkpoint in `where`. */
  async readModel(where: string, specs: ParamSpec[]): Promise<HostParams> {
    return await readCheckpointParams(join(this.path, where), specs);
  }

  /** predictions/SPLIT.jsonl: one line per example (see `writePredictions`). */
  async writePredictions(
    split: string,
    rows: readonly Prediction[],
    probs: Float32Array,
    labels: readonly string[],
  ): Promise<void> {
    await Deno.mkdir(join(this.path, "predictions"), { recursive: true });
    await writePredictions(join(this.path, "predictions", `${split}.jsonl`), rows, probs, labels);
  }

  /** The report hook: the command renders, the run directory stores. */
  async writeReport(html: string): Promise<void> {
    await writeFileAtomic(join(this.path, "report.html"), html);
  }
}

/** The row a prediction is for, and its gold label index (-1: none). */
export interface Prediction {
  row: number;
  label: number;
}

/**
 * Writes `{"row", "label", "pred", "probs"}` per example (probs in label order, pred the first
 * most probable label, label null without gold label) to `path`, atomically.
 */
export async function writePredictions(
  path: string,
  rows: readonly Prediction[],
  probs: Float32Array,
  labels: readonly string[],
): Promise<void> {
  const K = labels.length;
  const lines = rows.map((r, i) => {
    const p = Array.from(probs.subarray(i * K, (i + 1) * K));
    let best = 0;
    for (let k = 1; k < K; k++) if (p[k] > p[best]) best = k;
    return JSON.stringify({
      row: r.row,
      label: r.label >= 0 ? labels[r.label] : null,
      pred: labels[best],
      probs: p,
    });
  });
  await writeFileAtomic(path, lines.join("\n") + "\n");
}

/** A fresh run goes into an empty directory, or over an earlier run with `overwrite`. */
async function clearForFreshRun(
  dir: string,
  flag: string,
  opts: { overwrite?: boolean },
): Promise<void> {
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
