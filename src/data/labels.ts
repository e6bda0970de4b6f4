/**
 * Label sets and the checks training needs before it starts: the training split has labels on
 * every row and at least two classes, and dev/test use only labels the training data has (macro-F1
 * is taken over the training label set, SPEC §5, and the head has one output per training label).
 */
import { UserError } from "../errors.ts";
import type { Dataset } from "./read.ts";

const INTEGER = /^-?\d+$/;

/**
 * Orders labels: numerically when every label is an integer ("2" before "10"), otherwise by UTF-16
 * code units (locale-independent, so id2label is the same on every machine).
 */
export function sortLabels(labels: Iterable<string>): string[] {
  const all = [...new Set(labels)];
  if (all.every((l) => INTEGER.test(l))) {
    return all.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return all.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The distinct labels of `rows`, sorted (see sortLabels); rows without a label are ignored. */
export function labelSet(rows: readonly { label?: string }[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) if (r.label !== undefined) seen.add(r.label);
  return sortLabels(seen);
}

/** Rows per label, in labelSet order. */
export function labelCounts(rows: readonly { label?: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const label of labelSet(rows)) counts.set(label, 0);
  for (const r of rows) if (r.label !== undefined) counts.set(r.label, counts.get(r.label)! + 1);
  return counts;
}

/** Fails unless every row of `data` has a label (the file was read with a label column). */
function requireLabels(data: Dataset): void {
  const missing = data.rows.find((r) => r.label === undefined);
  if (missing) {
    throw new Error(`${data.path}:${missing.line}: row has no label (read without a label column)`);
  }
}

/**
 * Checks training data for classification and returns its label set: at least two classes (one
 * class gives a constant classifier and an undefined macro-F1).
 */
export function checkTrainLabels(train: Dataset): string[] {
  requireLabels(train);
  const labels = labelSet(train.rows);
  if (labels.length < 2) {
    throw new UserError(
      `${train.path}: every row has the label ${
        JSON.stringify(labels[0])
      }; classification needs at least two classes (check --label-column)`,
    );
  }
  return labels;
}

/**
 * Fails when `data` (dev or test) has labels outside `trainLabels`, listing each unseen label with
 * its row count and first line. `trainSource` names where the training labels came from.
 */
export function checkLabelsSeen(
  trainLabels: readonly string[],
  data: Dataset,
  trainSource: string,
): void {
  requireLabels(data);
  const known = new Set(trainLabels);
  const unseen = new Map<string, { count: number; line: number }>();
  for (const r of data.rows) {
    if (known.has(r.label!)) continue;
    const u = unseen.get(r.label!);
    if (u) u.count++;
    else unseen.set(r.label!, { count: 1, line: r.line });
  }
  if (unseen.size === 0) return;
  const list = [...unseen].map(([label, u]) =>
    `${JSON.stringify(label)} (${u.count} row${u.count === 1 ? "" : "s"}, first on line ${u.line})`
  );
  const firstLine = Math.min(...[...unseen.values()].map((u) => u.line));
  throw new UserError(
    `${data.path}:${firstLine}: label${
      unseen.size === 1 ? "" : "s"
    } not in the training data ${trainSource}: ${list.join(", ")}; training labels: ${
      trainLabels.map((l) => JSON.stringify(l)).join(", ")
    }; fix the labels or add training examples for them`,
  );
}
