/**
 * Classification metrics for `train`'s dev and test evaluations (SPEC §5, §6): accuracy, per-class
 * precision/recall/F1, macro-F1 over the label set of the training data, the confusion matrix and
 * the mean cross-entropy.
 *
 * Conventions follow scikit-learn with `labels=range(K)` and `zero_division=0`:
 * `precision_recall_fscore_support(y, p, labels=range(K), zero_division=0)` and
 * `f1_score(y, p, average="macro", labels=range(K), zero_division=0)`.
 * - A class's precision is tp / (tp + fp), 0 when nothing was predicted as it; recall is
 *   tp / (tp + fn), 0 when it has no true examples; F1 is 2 tp / (2 tp + fp + fn), 0 when that
 *   denominator is 0 (equal to 2PR / (P + R) whenever tp > 0, and 0 whenever tp = 0).
 * - Macro-F1 is the plain mean over all K classes, so a class that occurs neither in the labels
 *   nor in the predictions of the evaluated split still counts, with F1 = 0. This is what
 *   "mean of per-class F1 over the label set of the training data" asks for: scores of splits that
 *   lack a class stay comparable with each other (they are not averaged over fewer classes).
 * - Predictions are the argmax of each row; ties go to the lowest class index (numpy's argmax).
 *
 * Counts are exact integers; means are accumulated in f64.
 */

/** Per-class counts and scores of one class. */
export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** True examples of the class (row sum of the confusion matrix). */
  support: number;
  /** Examples predicted as the class (column sum). */
  predicted: number;
}

export interface Evaluation {
  /** Share of examples whose argmax is the label; NaN for an empty split. */
  accuracy: number;
  /** Mean F1 over all K classes (see the module comment). */
  macroF1: number;
  perClass: ClassScores[];
  /** confusion[t][p]: examples with label t predicted as p. (K, K) */
  confusion: number[][];
  /** Mean over examples of -log probs[label], probabilities clamped below at MIN_PROB; NaN if N = 0. */
  loss: number;
}

/**
 * Floor for a probability inside the log of the cross-entropy: the smallest normal float32, so a
 * probability that underflowed to 0 in float32 gives a large finite loss (about 87.3), not ∞.
 */
export const MIN_PROB = 1.1754943508222875e-38;

function checkClasses(name: string, xs: ArrayLike<number>, K: number): void {
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (!Number.isInteger(v) || v < 0 || v >= K) {
      throw new Error(`metrics: ${name}[${i}] = ${v} is not a class index in [0, ${K})`);
    }
  }
}

function checkK(K: number): void {
  if (!Number.isInteger(K) || K < 1) throw new Error(`metrics: numClasses ${K} must be >= 1`);
}

function checkSameLength(labels: ArrayLike<number>, preds: ArrayLike<number>): void {
  if (labels.length !== preds.length) {
    throw new Error(
      `metrics: ${labels.length} labels but ${preds.length} predictions`,
    );
  }
}

/** Share of positions where preds equals labels; NaN when there are none. */
export function accuracy(labels: ArrayLike<number>, preds: ArrayLike<number>): number {
  checkSameLength(labels, preds);
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === preds[i]) hit++;
  return hit / labels.length;
}

/** confusion[t][p] = number of examples with label t and prediction p. (K, K) */
export function confusionMatrix(
  labels: ArrayLike<number>, // (N)
  preds: ArrayLike<number>, // (N)
  numClasses: number,
): number[][] {
  checkK(numClasses);
  checkSameLength(labels, preds);
  checkClasses("labels", labels, numClasses);
  checkClasses("preds", preds, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][preds[i]]++;
  return m;
}

/** Precision, recall, F1, support and predicted count of every class from a (K, K) confusion. */
export function perClassScores(confusion: readonly (readonly number[])[]): ClassScores[] {
  const K = confusion.length;
  for (const [t, row] of confusion.entries()) {
    if (row.length !== K) {
      throw new Error(`metrics: confusion row ${t} has ${row.length} entries, expected ${K}`);
    }
  }
  const out: ClassScores[] = [];
  for (let k = 0; k < K; k++) {
    const tp = confusion[k][k];
    let support = 0, predicted = 0;
    for (let j = 0; j < K; j++) {
      support += confusion[k][j];
      predicted += confusion[j][k];
    }
    const fp = predicted - tp, fn = support - tp;
    const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
    out.push({
      precision: div(tp, tp + fp),
      recall: div(tp, tp + fn),
      f1: div(2 * tp, 2 * tp + fp + fn),
      support,
      predicted,
    });
  }
  return out;
}

/** Mean of per-class F1 over all classes of a (K, K) confusion matrix. */
export function macroF1FromConfusion(confusion: readonly (readonly number[])[]): number {
  const scores = perClassScores(confusion);
  let s = 0;
  for (const c of scores) s += c.f1;
  return s / scores.length;
}

/** Macro-F1 over classes 0..numClasses-1 (scikit-learn labels=range(K), zero_division=0). */
export function macroF1(
  labels: ArrayLike<number>, // (N)
  preds: ArrayLike<number>, // (N)
  numClasses: number,
): number {
  return macroF1FromConfusion(confusionMatrix(labels, preds, numClasses));
}

/**
 * Row-wise argmax of (N, K) scores; the first maximum wins. NaN never wins; a row of NaN gives 0
 * (the loss of such a row is NaN, which is how a broken evaluation shows).
 */
export function argmaxRows(
  scores: ArrayLike<number>, // (N, K)
  N: number,
  K: number,
): Uint32Array {
  if (scores.length !== N * K) {
    throw new Error(`metrics: scores have ${scores.length} values, expected N*K = ${N}*${K}`);
  }
  const out = new Uint32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0, bestV = -Infinity;
    for (let k = 0; k < K; k++) {
      const v = scores[n * K + k];
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    out[n] = best;
  }
  return out;
}

/**
 * Everything a dev or test evaluation reports, from the labels and the (N, K) class probabilities
 * (softmax outputs). K is the number of classes of the training data.
 */
export function evaluate(
  labels: ArrayLike<number>, // (N)
  probs: Float32Array | Float64Array | readonly number[], // (N, K)
  K: number,
): Evaluation {
  checkK(K);
  const N = labels.length;
  checkClasses("labels", labels, K);
  const preds = argmaxRows(probs, N, K);
  const confusion = confusionMatrix(labels, preds, K);
  let lossSum = 0;
  for (let n = 0; n < N; n++) lossSum -= Math.log(Math.max(probs[n * K + labels[n]], MIN_PROB));
  // Math.max(NaN, x) is NaN, so a NaN probability makes the loss NaN rather than hiding.
  const perClass = perClassScores(confusion);
  let f1Sum = 0;
  for (const c of perClass) f1Sum += c.f1;
  return {
    accuracy: accuracy(labels, preds),
    macroF1: f1Sum / K,
    perClass,
    confusion,
    loss: lossSum / N,
  };
}
