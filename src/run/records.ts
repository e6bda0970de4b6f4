/**
 * The records of a run's metrics.jsonl, one JSON object per line, and their schema. `train` writes
 * MetricRecord (steps, evaluations, events); `pretrain` and `adapt` write MlmRecord. Records are
 * appended as they happen; a resumed run first cuts the file back to its state (src/run/run_dir.ts).
 */

export type Phase = "main" | "finetune";

/** One optimizer step. Single-task runs (stl) have loss_mlm and weights null. */
export interface StepRecord {
  type: "step";
  step: number;
  epoch: number;
  phase: Phase;
  loss_cls: number;
  loss_mlm: number | null;
  /** META-TARTAN softmax weights (or the fixed 1/K ones) applied to each task's gradient. */
  weights: { cls: number; mlm: number } | null;
  lr_encoder: number;
  lr_head: number;
  grad_norm_encoder: number;
  grad_norm_head: number;
  examples_per_s: number;
  /** Seconds since the run started. */
  time: number;
}

/** One evaluation on dev (during training) or test (once, with the best checkpoint). */
export interface EvalRecord {
  type: "eval";
  step: number;
  epoch: number;
  phase: Phase;
  split: "dev" | "test";
  accuracy: number;
  macro_f1: number;
  loss: number;
  /** A dev evaluation that became the best so far (its checkpoint was kept). */
  best: boolean;
  /** confusion[true][predicted] over the classes of the training data. */
  confusion?: number[][];
}

/** Something that happened: early stop, resume, a NaN stop, the start of fine-tuning. */
export interface EventRecord {
  type: "event";
  step: number;
  message: string;
  /** On the data event a run logs at step 0: how many texts were cut to max_length tokens. */
  truncation?: Truncation;
}

/** Texts per split, and how many of them were cut to `max_length` tokens (train after the cap). */
export interface Truncation {
  max_length: number;
  texts: SplitCounts;
  truncated: SplitCounts;
}

/** A count per split; `test` only when the run has a test split. */
export interface SplitCounts {
  train: number;
  dev: number;
  test?: number;
}

/** "truncated 3 of 40 train texts, 0 of 20 dev, 1 of 10 test to max_length 32" (or "none ..."). */
export function describeTruncation(t: Truncation): string {
  const splits = (["train", "dev", "test"] as const).filter((s) => t.texts[s] !== undefined);
  const total = splits.reduce((n, s) => n + (t.truncated[s] ?? 0), 0);
  if (total === 0) {
    return `no text truncated to max_length ${t.max_length} (` +
      splits.map((s) => `${t.texts[s]} ${s}`).join(", ") + ")";
  }
  return `truncated to max_length ${t.max_length}: ` +
    splits.map((s, i) => `${t.truncated[s] ?? 0} of ${t.texts[s]} ${s}${i === 0 ? " texts" : ""}`)
      .join(", ");
}

export type MetricRecord = StepRecord | EvalRecord | EventRecord;

/** One masked-LM step (training loss) or held-out evaluation of `pretrain` / `adapt`. */
export interface MlmRecord {
  type: "step" | "eval";
  step: number;
  loss: number;
  lr?: number;
  tokens_per_s?: number;
  perplexity?: number;
  time?: number;
}

/**
 * metrics.jsonl text → records. Blank lines are skipped; a last line without its newline that does
 * not parse is taken as cut off by an interruption and dropped; any other bad line is an error
 * naming its line number.
 */
export function parseMetricsJsonl(text: string, file = "metrics.jsonl"): MetricRecord[] {
  const lines = text.split("\n");
  const out: MetricRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) break; // a partial last line of an interrupted run
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      throw new Error(`${file}:${i + 1}: expected a JSON object`);
    }
    out.push(rec as MetricRecord);
  }
  return out;
}
