/**
 * bench/stats.ts against closed forms and SciPy 1.x values written out here (scipy.special.betainc,
 * scipy.stats.t.sf, scipy.stats.ttest_1samp, numpy.quantile), never recomputed with the code under
 * test; the permutation p-values are counted by hand.
 */
import assert from "node:assert/strict";
import {
  histogram,
  histogramLines,
  logGamma,
  MAX_SIGN_FLIP_N,
  pairedTest,
  populationSd,
  quantileSorted,
  regularizedIncompleteBeta,
  sampleSd,
  signFlipP,
  studentTwoSidedP,
} from "../bench/stats.ts";

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected} (tolerance ${tol})`,
  );

Deno.test("logGamma: factorials and Γ(1/2) = √π", () => {
  close(logGamma(5), Math.log(24), 1e-13, "ln Γ(5)");
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13, "ln Γ(1/2)");
  close(logGamma(20), Math.log(121645100408832000), 1e-13, "ln Γ(20)");
  close(logGamma(0.1), Math.log(9.513507698668732), 1e-13, "ln Γ(0.1)");
});

Deno.test("regularizedIncompleteBeta: closed forms and SciPy values", () => {
  for (const x of [0.05, 0.3, 0.5, 0.9]) {
    close(regularizedIncompleteBeta(x, 1, 1), x, 1e-13, `I_${x}(1,1)`);
    close(regularizedIncompleteBeta(x, 3, 1), x ** 3, 1e-13, `I_${x}(3,1)`);
    close(regularizedIncompleteBeta(x, 1, 4), 1 - (1 - x) ** 4, 1e-13, `I_${x}(1,4)`);
    close(
      regularizedIncompleteBeta(x, 0.5, 0.5),
      (2 / Math.PI) * Math.asin(Math.sqrt(x)),
      1e-12,
      `I_${x}(1/2,1/2)`,
    );
  }
  // Binomial sum: I_0.7(5, 3) = Σ_{j=5..7} C(7,j) 0.7^j 0.3^(7−j).
  close(regularizedIncompleteBeta(0.7, 5, 3), 0.6470695, 1e-12, "I_0.7(5,3)");
  close(regularizedIncompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-11, "I_0.3(2.5,.5)");
  close(regularizedIncompleteBeta(0.45, 30, 40), 0.6447480085585666, 1e-11, "I_0.45(30,40)");
  close(regularizedIncompleteBeta(0.01, 0.5, 20), 0.4713699354850154, 1e-11, "I_0.01(.5,20)");
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.throws(() => regularizedIncompleteBeta(1.5, 2, 3));
  assert.throws(() => regularizedIncompleteBeta(0.5, 0, 3));
});

Deno.test("studentTwoSidedP: critical values, SciPy values, df 1 and 2 closed forms", () => {
  close(studentTwoSidedP(2.776, 4), 0.05002277831997642, 1e-10, "t=2.776 df=4");
  close(studentTwoSidedP(2.0, 10), 0.07338803477074037, 1e-10, "t=2 df=10");
  close(studentTwoSidedP(-2.0, 10), 0.07338803477074037, 1e-10, "t=-2 df=10");
  close(studentTwoSidedP(1.5, 3), 0.23058386524482294, 1e-10, "t=1.5 df=3");
  close(studentTwoSidedP(3.5, 7), 0.009993040881885549, 1e-10, "t=3.5 df=7");
  close(studentTwoSidedP(0.1, 100), 0.9205445310958512, 1e-10, "t=0.1 df=100");
  close(studentTwoSidedP(10, 30) / 4.575251408229618e-11, 1, 1e-8, "t=10 df=30 (relative)");
  for (const t of [0.3, 1, 4, 25]) {
    close(studentTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-12, `Cauchy t=${t}`);
    close(studentTwoSidedP(t, 2), 1 - t / Math.sqrt(t * t + 2), 1e-12, `df=2 t=${t}`);
  }
  assert.equal(studentTwoSidedP(0, 4), 1);
  assert.equal(studentTwoSidedP(Infinity, 4), 0);
  assert.ok(Number.isNaN(studentTwoSidedP(NaN, 4)));
});

Deno.test("signFlipP: counted by hand", () => {
  // All five positive: only all-plus and all-minus reach |sum| = 15.
  assert.equal(signFlipP([1, 2, 3, 4, 5]), 2 / 32);
  assert.equal(signFlipP([-1, -2, -3, -4, -5]), 2 / 32);
  // ±3 ±1 ±1 → 5, 3, 3, 1, −1, −3, −3, −5: six of eight reach |3|.
  assert.equal(signFlipP([3, 1, -1]), 6 / 8);
  // ±2 ±1 → 3, 1, −1, −3 against observed |2 − 1| = 1: all four.
  assert.equal(signFlipP([2, -1]), 1);
  // Ties in floating point: 0.1 + 0.2 vs 0.3 must count as equal.
  assert.equal(signFlipP([0.1, 0.2, -0.3]), 1);
  assert.equal(signFlipP([0.1, 0.2, 0.3]), 2 / 8);
  assert.ok(Number.isNaN(signFlipP([])));
  assert.throws(() => signFlipP(new Array(MAX_SIGN_FLIP_N + 1).fill(1)));
});

Deno.test("pairedTest: SciPy's ttest_1samp and the degenerate cases", () => {
  const r = pairedTest([1, 2, 3, 4, 5]);
  assert.equal(r.n, 5);
  assert.equal(r.df, 4);
  close(r.mean, 3, 1e-15, "mean");
  close(r.sd, Math.sqrt(2.5), 1e-14, "sd");
  close(r.t, 4.242640687119285, 1e-13, "t");
  close(r.pT, 0.01323559956368269, 1e-10, "p");
  assert.equal(r.pPerm, 2 / 32);
  const same = pairedTest([0.02, 0.02, 0.02]);
  assert.equal(same.t, Infinity);
  assert.equal(same.pT, 0);
  const zero = pairedTest([0, 0, 0]);
  assert.equal(zero.t, 0);
  assert.equal(zero.pT, 1);
  assert.ok(Number.isNaN(pairedTest([0.1]).pT));
});

Deno.test("sd, quantiles and histogram", () => {
  close(sampleSd([2, 4, 4, 4, 5, 5, 7, 9]), 2.138089935299395, 1e-14, "sample sd");
  close(populationSd([2, 4, 4, 4, 5, 5, 7, 9]), 2, 1e-14, "population sd");
  assert.ok(Number.isNaN(sampleSd([1])));
  const sorted = [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4].sort((a, b) => a - b);
  const want = [0.13, 0.25, 0.4, 0.6, 0.84]; // numpy.quantile
  [0.05, 0.25, 0.5, 0.75, 0.95].forEach((q, i) =>
    close(quantileSorted(sorted, q), want[i], 1e-14, `q${q}`)
  );
  assert.equal(quantileSorted(sorted, 1), 0.9);
  assert.equal(quantileSorted(sorted, 0), 0.1);
  assert.deepEqual(histogram([0, 0.1, 0.26, 0.5, 0.99, 1, 2, -1], 0, 1, 4), [3, 1, 1, 3]);
  const lines = histogramLines([1, 0, 3], 0, 0.3, 1);
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^\[0\.000, 0\.100\) +█{13} +25\.0%$/);
  assert.match(lines[1], /^\[0\.100, 0\.200\) +0\.0%$/);
  assert.match(lines[2], /^\[0\.200, 1\.000\] +█{40} 75\.0%$/);
});
