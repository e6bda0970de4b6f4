/**
 * Classification metrics against hand-computed cases and scikit-learn's documented values
 * (f1_score / precision_recall_fscore_support with labels=range(K), zero_division=0), written out
 * here from the definitions rather than recomputed with the code under test.
 */
import assert from "node:assert/strict";
import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  evaluate,
  macroF1,
  macroF1FromConfusion,
  MIN_PROB,
  perClassScores,
} from "../src/classify/metrics.ts";
import { rng } from "./util.ts";

const close = (a: number, b: number, what = "") =>
  assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} != ${b}`);

Deno.test("scikit-learn's f1_score docstring example: macro 0.2667, per class [0.8, 0, 0]", () => {
  // y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
  // f1_score(average='macro') == 0.26666666666666666, average=None == [0.8, 0., 0.]
  const y = [0, 1, 2, 0, 1, 2], p = [0, 2, 1, 0, 0, 1];
  close(macroF1(y, p, 3), 0.26666666666666666, "macro");
  const pc = perClassScores(confusionMatrix(y, p, 3));
  assert.deepEqual(pc.map((c) => c.f1), [0.8, 0, 0]);
  // precision_recall_fscore_support(average='macro') == (0.222..., 0.333..., 0.266...)
  close(pc.reduce((s, c) => s + c.precision, 0) / 3, 2 / 9, "macro precision");
  close(pc.reduce((s, c) => s + c.recall, 0) / 3, 1 / 3, "macro recall");
  close(accuracy(y, p), 2 / 6, "accuracy");
});

Deno.test("binary case by hand", () => {
  // class 1: tp 2, fp 1, fn 1 -> P = R = F1 = 2/3; class 0: tp 1, fp 1, fn 1 -> F1 = 1/2
  const y = [1, 1, 1, 0, 0], p = [1, 0, 1, 1, 0];
  assert.deepEqual(confusionMatrix(y, p, 2), [[1, 1], [1, 2]]);
  close(macroF1(y, p, 2), (2 / 3 + 1 / 2) / 2, "macro");
  close(accuracy(y, p), 3 / 5, "accuracy");
  const pc = perClassScores(confusionMatrix(y, p, 2));
  assert.deepEqual(pc.map((c) => [c.support, c.predicted]), [[2, 2], [3, 3]]);
  close(pc[0].precision, 0.5);
  close(pc[1].recall, 2 / 3);
});

Deno.test("a class absent from labels and predictions still counts, with F1 0", () => {
  // K = 4, class 3 never occurs. F1: class 0 = 2/3 (tp 1, fn 1), class 1 = 4/5 (tp 2, fp 1),
  // class 2 = 1, class 3 = 0 -> macro = (2/3 + 4/5 + 1 + 0) / 4, as sklearn with labels=range(4).
  const y = [0, 0, 1, 1, 2], p = [0, 1, 1, 1, 2];
  close(macroF1(y, p, 4), (2 / 3 + 0.8 + 1) / 4, "macro K=4");
  // averaging only over the classes present would give a different (larger) value
  close(macroF1(y, p, 3), (2 / 3 + 0.8 + 1) / 3, "macro K=3");
  const pc = perClassScores(confusionMatrix(y, p, 4));
  assert.deepEqual(pc[3], { precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
});

Deno.test("zero_division=0: never predicted -> precision 0; predicted but absent -> recall 0", () => {
  // class 2 is predicted once but never true; class 1 is true once but never predicted.
  const y = [0, 0, 1], p = [0, 2, 0];
  const pc = perClassScores(confusionMatrix(y, p, 3));
  // class 0: tp 1, fp 1, fn 1 -> P = R = F1 = 1/2
  close(pc[0].f1, 0.5);
  assert.deepEqual([pc[1].precision, pc[1].recall, pc[1].f1], [0, 0, 0]);
  assert.deepEqual([pc[2].precision, pc[2].recall, pc[2].f1], [0, 0, 0]);
  close(macroF1(y, p, 3), 0.5 / 3);
});

Deno.test("perfect and all-wrong predictions", () => {
  const y = [0, 1, 2, 2];
  close(macroF1(y, y, 3), 1);
  close(accuracy(y, y), 1);
  close(macroF1(y, [1, 2, 0, 0], 3), 0);
  // a perfect run on a split lacking class 3 of K = 4 scores 3/4, by the stated definition
  close(macroF1(y, y, 4), 0.75);
});

Deno.test("F1 = 2PR/(P+R) on random data (the definition, computed independently)", () => {
  const r = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const K = 2 + Math.floor(r() * 5), N = 1 + Math.floor(r() * 60);
    const y = Array.from({ length: N }, () => Math.floor(r() * K));
    const p = Array.from({ length: N }, () => Math.floor(r() * K));
    let sum = 0;
    for (let k = 0; k < K; k++) {
      let tp = 0, pred = 0, tru = 0;
      for (let i = 0; i < N; i++) {
        if (p[i] === k) pred++;
        if (y[i] === k) tru++;
        if (p[i] === k && y[i] === k) tp++;
      }
      const P = pred ? tp / pred : 0, R = tru ? tp / tru : 0;
      sum += P + R > 0 ? (2 * P * R) / (P + R) : 0;
    }
    assert.ok(Math.abs(macroF1(y, p, K) - sum / K) < 1e-12, `trial ${trial}`);
    const cm = confusionMatrix(y, p, K);
    assert.equal(cm.flat().reduce((a, b) => a + b, 0), N);
    close(macroF1FromConfusion(cm), macroF1(y, p, K));
  }
});

Deno.test("evaluate: argmax predictions, confusion, mean cross-entropy", () => {
  // N = 4, K = 3
  const probs = new Float32Array([
    0.7,
    0.2,
    0.1, // label 0, pred 0
    0.1,
    0.3,
    0.6, // label 1, pred 2
    0.2,
    0.2,
    0.6, // label 2, pred 2
    0.5,
    0.5,
    0.0, // label 1, tie -> pred 0
  ]);
  const labels = [0, 1, 2, 1];
  const e = evaluate(labels, probs, 3);
  assert.deepEqual(e.confusion, [[1, 0, 0], [1, 0, 1], [0, 0, 1]]);
  close(e.accuracy, 0.5);
  // class 0: tp 1, fp 1 -> F1 2/3; class 1: 0; class 2: tp 1, fp 1 -> 2/3
  close(e.macroF1, (2 / 3 + 0 + 2 / 3) / 3);
  const expectLoss = -(Math.log(Math.fround(0.7)) + Math.log(Math.fround(0.3)) +
    Math.log(Math.fround(0.6)) + Math.log(Math.fround(0.5))) / 4;
  close(e.loss, expectLoss, "loss");
  assert.equal(e.perClass.length, 3);
  assert.deepEqual(e.perClass.map((c) => c.support), [1, 2, 1]);
});

Deno.test("evaluate: a zero probability gives a large finite loss; NaN shows as NaN", () => {
  const e = evaluate([1], new Float32Array([1, 0]), 2);
  close(e.loss, -Math.log(MIN_PROB));
  assert.ok(e.loss > 87 && e.loss < 88);
  const bad = evaluate([0, 1], new Float32Array([NaN, NaN, 0.2, 0.8]), 2);
  assert.ok(Number.isNaN(bad.loss));
  assert.deepEqual([...argmaxRows(new Float32Array([NaN, NaN, 0.2, 0.8]), 2, 2)], [0, 1]);
});

Deno.test("empty split: accuracy and loss NaN, macro-F1 0 (all zero-division)", () => {
  const e = evaluate([], new Float32Array(0), 3);
  assert.ok(Number.isNaN(e.accuracy) && Number.isNaN(e.loss));
  assert.equal(e.macroF1, 0);
  assert.deepEqual(e.confusion, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
});

Deno.test("bad input is an error that says what is wrong", () => {
  assert.throws(
    () => macroF1([0, 3], [0, 1], 3),
    /labels\[1\] = 3 is not a class index in \[0, 3\)/,
  );
  assert.throws(() => macroF1([0, 1], [0, -1], 3), /preds\[1\] = -1/);
  assert.throws(() => accuracy([0, 1], [0]), /2 labels but 1 predictions/);
  assert.throws(() => evaluate([0, 1], new Float32Array(5), 3), /expected N\*K = 2\*3/);
  assert.throws(() => confusionMatrix([], [], 0), /numClasses 0/);
  assert.throws(() => perClassScores([[1, 0], [0]]), /row 1 has 1 entries/);
});
