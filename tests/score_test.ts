/**
 * score: PLL-word-l2r copies, PLT against the PyTorch reference, independence from batching and
 * padding, resume after an interrupted run, and the CLI's output and errors.
 */
import assert from "node:assert/strict";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { maskedSet, scoredPositions } from "../src/score/copies.ts";
import { computePlt, textMaskProbs } from "../src/score/pipeline.ts";
import { PltScorer } from "../src/score/scorer.ts";
import { FIXTURES, loadGolden } from "./golden.ts";
import { gpuTest } from "./util.ts";

Deno.test("PLL-word-l2r: the masked sets of so ##uven ##ir have sizes 3, 2, 1", async () => {
  const tok = await loadTokenizer(`${FIXTURES}tiny-bert`);
  const e = tok.encode("a souvenir café!");
  assert.deepEqual(e.tokens, ["[CLS]", "a", "so", "##uven", "##ir", "cafe", "!", "[SEP]"]);
  const sets = scoredPositions(e.special).map((p) => maskedSet(p, e.words, e.special));
  assert.deepEqual(sets, [[1], [2, 3, 4], [3, 4], [4], [5], [6]]);
});

for (const name of ["tiny-bert", "tiny-roberta"] as const) {
  gpuTest(
    `${name}: PLT of the golden sentences equals PyTorch's PLL-word-l2r (rel ≤ 1e-4)`,
    async (ctx) => {
      const g = await loadGolden(name);
      const tok = await loadTokenizer(`${FIXTURES}${name}`);
      const model = await loadCheckpoint(`${FIXTURES}${name}`, { mlm: true, classifier: false });
      const enc = (g.sentences as string[]).map((s) => tok.encode(s));
      enc.forEach((e, i) => {
        const sets = scoredPositions(e.special).map((p) => maskedSet(p, e.words, e.special));
        assert.deepEqual(sets, g.plt.masked_sets[i], `masked sets of sentence ${i}`);
      });
      const scorer = new PltScorer(ctx, model.config, model.params, {
        mask: tok.specialIds.mask,
        pad: tok.specialIds.pad,
      });
      const logp = await scorer.score(enc);
      scorer.release();
      enc.forEach((e, i) => {
        const got = scoredPositions(e.special).map((p) => logp[i][p]);
        const want: number[] = g.plt.logp[i];
        got.forEach((x, j) => {
          const rel = Math.abs(x - want[j]) / Math.abs(want[j]);
          assert.ok(
            rel <= 1e-4,
            `${name} sentence ${i} token ${j}: logp ${x} vs ${want[j]} (rel ${
              rel.toExponential(2)
            })`,
          );
        });
        const m = textMaskProbs(
          {
            special: e.special,
            logp: Array.from(logp[i], (x) => (Number.isNaN(x) ? null : x)),
          },
          { pbar: 0.15, complement: "one-minus", overflow: "redistribute" },
        );
        const mScored = scoredPositions(e.special).map((p) => m[p]);
        mScored.forEach((x, j) =>
          assert.ok(Math.abs(x - g.plt.mask_prob[i][j]) <= 1e-6, `mask prob ${i}/${j}`)
        );
      });
    },
  );

  gpuTest(`${name}: PLT does not depend on batching or padding`, async (ctx) => {
    const tok = await loadTokenizer(`${FIXTURES}${name}`);
    const model = await loadCheckpoint(`${FIXTURES}${name}`, { mlm: true, classifier: false });
    const texts = [
      "The parser's table (2) shows results.",
      "A souvenir café!",
      "We model data 2024-25.",
      "data",
    ];
    const enc = texts.map((s) => tok.encode(s));
    const scorer = new PltScorer(ctx, model.config, model.params, {
      mask: tok.specialIds.mask,
      pad: tok.specialIds.pad,
    });
    const big = await scorer.score(enc, { budgetTokens: 100000 }); // one batch, padded to the longest
    const small = await scorer.score(enc, { budgetTokens: 16 }); // one copy per batch, no padding
    const alone = await Promise.all(enc.map((e) => scorer.score([e], { budgetTokens: 40 })));
    scorer.release();
    enc.forEach((_, i) => {
      for (const p of scoredPositions(enc[i].special)) {
        for (const [what, other] of [["small", small[i][p]], ["alone", alone[i][0][p]]] as const) {
          assert.ok(
            Math.abs(big[i][p] - other) <= 1e-6 * Math.abs(big[i][p]),
            `${what}: text ${i} pos ${p}: ${big[i][p]} vs ${other}`,
          );
        }
      }
    });
  });
}

gpuTest(
  "an interrupted scoring run resumes from the cache and gives identical results",
  async (ctx) => {
    const dir = `${FIXTURES}tiny-roberta`;
    const tok = await loadTokenizer(dir);
    const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
    const texts = Array.from(
      { length: 12 },
      (_, i) => `The model ${i} shows the parser's table (${i}).`,
    );
    const cacheA = await Deno.makeTempDir();
    const cacheB = await Deno.makeTempDir();
    const opts = { maxLength: 128, budgetTokens: 64 };
    const fresh = await computePlt(ctx, model, tok, texts, { ...opts, cacheDir: cacheA });
    assert.equal(fresh.cached, 0);
    // A run killed after its first batches: simulate with a scorer hook that throws.
    const original = PltScorer.prototype.score;
    let calls = 0;
    PltScorer.prototype.score = function (t, o = {}) {
      return original.call(this, t, {
        ...o,
        onBatch: async (d) => {
          await o.onBatch?.(d);
          if (++calls === 6) {
            throw new Error("killed");
          }
        },
      });
    };
    await assert.rejects(
      () => computePlt(ctx, model, tok, texts, { ...opts, cacheDir: cacheB }),
      /killed/,
    );
    PltScorer.prototype.score = original;
    // Append a torn line, as a kill in the middle of a write leaves.
    const [file] = [...Deno.readDirSync(cacheB)].map((e) => `${cacheB}/${e.name}`);
    await Deno.writeTextFile(file, '{"k":"abc","logp":[nul', { append: true });
    const resumed = await computePlt(ctx, model, tok, texts, { ...opts, cacheDir: cacheB });
    assert.ok(
      resumed.cached > 0 && resumed.cached < texts.length,
      `resumed with ${resumed.cached} cached texts`,
    );
    assert.deepEqual(resumed.scores.map((s) => s.logp), fresh.scores.map((s) => s.logp));
    const again = await computePlt(ctx, model, tok, texts, { ...opts, cacheDir: cacheB });
    assert.equal(again.cached, texts.length);
    await Deno.remove(cacheA, { recursive: true });
    await Deno.remove(cacheB, { recursive: true });
  },
);

for (const name of ["tiny-bert", "tiny-roberta"] as const) {
  gpuTest(
    `${name}: a text's PLT is bit-identical alone, in two different batches and after a resume`,
    async (ctx) => {
      const dir = `${FIXTURES}${name}`;
      const tok = await loadTokenizer(dir);
      const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
      const texts = [
        "data",
        "We model data 2024-25.",
        "The parser's table (2) shows the results of every model we trained on the data.",
        "A souvenir café!",
        "Citation intents differ: background, uses, extends, motivation, future work.",
      ];
      const enc = texts.map((s) => tok.encode(s, { maxLength: 48 }));
      const scorer = new PltScorer(ctx, model.config, model.params, {
        mask: tok.specialIds.mask,
        pad: tok.specialIds.pad,
      });
      // Alone (each text padded to its own length), in one batch padded to the longest, and in
      // another order under a small budget (other companions, other padded lengths).
      const alone = await Promise.all(enc.map(async (e) => (await scorer.score([e]))[0]));
      const together = await scorer.score(enc, { budgetTokens: 100000 });
      const order = [4, 2, 0, 3, 1];
      const mixed = await scorer.score(order.map((i) => enc[i]), { budgetTokens: 96 });
      scorer.release();
      // A resumed run: two texts scored (and cached) by an earlier run with other companions.
      const cacheDir = await Deno.makeTempDir();
      const opts = { maxLength: 48, budgetTokens: 64, cacheDir };
      await computePlt(
        ctx,
        model,
        tok,
        [texts[3], texts[1], "An unrelated longer text here."],
        opts,
      );
      const resumed = await computePlt(ctx, model, tok, texts, opts);
      await Deno.remove(cacheDir, { recursive: true });
      assert.equal(resumed.cached, 2);
      enc.forEach((e, i) => {
        const runs: [string, ArrayLike<number | null>][] = [
          ["in one batch", together[i]],
          ["in another batch", mixed[order.indexOf(i)]],
          ["after a resume", resumed.scores[i].logp],
        ];
        for (const p of scoredPositions(e.special)) {
          for (const [what, got] of runs) {
            assert.ok(
              Object.is(got[p], alone[i][p]),
              `${what}: text ${i} position ${p}: ${got[p]} vs ${alone[i][p]} alone`,
            );
          }
        }
      });
    },
  );
}
