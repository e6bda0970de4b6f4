/**
 * `--copies K` (issue 15): the word-group copies of src/score/copies.ts, exact scoring when K
 * covers every word (bit for bit), the approximate PLT against the CPU reference model run on the
 * same copies, and the cache keeping exact and approximate values apart.
 */
import assert from "node:assert/strict";
import { loadTokenizer } from "../src/io/tokenizer.ts";
import { CpuBackend } from "../src/model/cpu_backend.ts";
import { Encoder } from "../src/model/encoder.ts";
import { cpuStore, loadCheckpoint } from "../src/model/weights.ts";
import {
  maskedSet,
  parseSchemeName,
  schemeName,
  scoredPositions,
  textCopies,
  textScheme,
  wordUnits,
} from "../src/score/copies.ts";
import { computePlt } from "../src/score/pipeline.ts";
import { PltScorer } from "../src/score/scorer.ts";
import { FIXTURES } from "./golden.ts";
import { gpuTest, rng, withTempDir } from "./util.ts";

const TEXTS = [
  "data",
  "A souvenir café!",
  "We model data 2024-25.",
  "The parser's table (2) shows the results of every model we trained on the data.",
  "Citation intents differ: background, uses, extends, motivation, future work.",
  "Thus, over the past few years, along with advances in statistical parsers (Collins, 1997; Charniak, 1997a), significant progress has been made.",
];

Deno.test("copies: 'a souvenir café !' in 2 word groups is 4 copies, K apart, words left to right", async () => {
  const tok = await loadTokenizer(`${FIXTURES}tiny-bert`);
  const e = tok.encode("a souvenir café!");
  assert.deepEqual(e.tokens, ["[CLS]", "a", "so", "##uven", "##ir", "cafe", "!", "[SEP]"]);
  assert.deepEqual(wordUnits(e.words, e.special), [[1], [2, 3, 4], [5], [6]]);
  assert.deepEqual(textScheme(e.words, e.special, 2), { groups: 2 });
  assert.deepEqual(textCopies(e.words, e.special, { groups: 2 }), [
    { targets: [1, 5], masked: [1, 5] }, // a, cafe
    { targets: [2, 6], masked: [2, 3, 4, 6] }, // so ##uven ##ir, !
    { targets: [3], masked: [3, 4] },
    { targets: [4], masked: [4] },
  ]);
  // One group: every word masked at once in the first copy.
  assert.deepEqual(textCopies(e.words, e.special, { groups: 1 })[0], {
    targets: [1, 2, 5, 6],
    masked: [1, 2, 3, 4, 5, 6],
  });
  // As many groups as words (or more): the copies of exact PLL-word-l2r.
  const exact = scoredPositions(e.special).map((p) => ({
    targets: [p],
    masked: maskedSet(p, e.words, e.special),
  }));
  assert.deepEqual(textCopies(e.words, e.special, "exact"), exact);
  assert.equal(textScheme(e.words, e.special, 4), "exact");
  assert.equal(textScheme(e.words, e.special, 1000), "exact");
  assert.deepEqual(textCopies(e.words, e.special, { groups: 4 }), exact);
  for (const s of ["exact", { groups: 8 }] as const) {
    assert.deepEqual(parseSchemeName(schemeName(s)), s);
  }
  assert.equal(parseSchemeName("groups-0"), undefined);
});

Deno.test("copies: every scored token is the target of exactly one copy, and a group's words are K apart", () => {
  const next = rng(7);
  for (let trial = 0; trial < 300; trial++) {
    // A random text: [CLS], words of 1-4 tokens (sometimes an in-text special), [SEP].
    const words: (number | null)[] = [null];
    const special = [true];
    const nWords = 1 + Math.floor(next() * 30);
    for (let w = 0; w < nWords; w++) {
      if (next() < 0.05) {
        words.push(null);
        special.push(true);
      }
      const len = 1 + Math.floor(next() * next() * 4);
      for (let t = 0; t < len; t++) {
        words.push(w);
        special.push(false);
      }
    }
    words.push(null);
    special.push(true);
    const units = wordUnits(words, special);
    assert.equal(units.length, nWords);
    const K = 1 + Math.floor(next() * 10);
    const scheme = textScheme(words, special, K);
    const copies = textCopies(words, special, scheme);
    const targets = copies.flatMap((c) => c.targets).sort((a, b) => a - b);
    assert.deepEqual(targets, scoredPositions(special), `trial ${trial}: targets`);
    const unitOf = new Map(units.flatMap((u, i) => u.map((p) => [p, i] as const)));
    const longest = Array.from(
      { length: Math.min(K, nWords) },
      (_, g) => Math.max(...units.filter((_, u) => u % K === g).map((u) => u.length)),
    );
    assert.equal(copies.length, longest.reduce((a, b) => a + b, 0), `trial ${trial}: copies`);
    for (const c of copies) {
      const us = c.targets.map((p) => unitOf.get(p)!);
      // A word's target is masked with every later token of its word and nothing before it.
      for (const [i, p] of c.targets.entries()) {
        const u = units[us[i]];
        for (const q of u) assert.equal(c.masked.includes(q), q >= p, `trial ${trial}`);
        if (i > 0) assert.equal((us[i] - us[i - 1]) % K, 0, `trial ${trial}: K apart`);
      }
      assert.equal(
        c.masked.length,
        us.reduce((n, u, i) => n + units[u].length - units[u].indexOf(c.targets[i]), 0),
      );
    }
    if (scheme === "exact") assert.ok(nWords <= K && copies.every((c) => c.targets.length === 1));
  }
});

for (const name of ["tiny-bert", "tiny-roberta"] as const) {
  gpuTest(
    `${name}: --copies K with K >= the words of every text is exact scoring, bit for bit`,
    async (ctx) => {
      const dir = `${FIXTURES}${name}`;
      const tok = await loadTokenizer(dir);
      const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
      await withTempDir(async (cacheDir) => {
        const opts = { maxLength: 48, budgetTokens: 512 };
        const exact = await computePlt(ctx, model, tok, TEXTS, {
          ...opts,
          cacheDir: `${cacheDir}/a`,
        });
        const wide = await computePlt(ctx, model, tok, TEXTS, {
          ...opts,
          cacheDir: `${cacheDir}/b`,
          copies: 64,
        });
        assert.equal(wide.copies, exact.copies);
        // Texts of at most K words among approximated ones (copies with several targets in their
        // batches): still exact, bit for bit.
        const mixed = await computePlt(ctx, model, tok, TEXTS, {
          ...opts,
          budgetTokens: 100000,
          cacheDir: `${cacheDir}/c`,
          copies: 4,
        });
        const exactTexts = mixed.scores.filter((s) => s.scheme === "exact").length;
        assert.ok(exactTexts >= 2 && exactTexts < TEXTS.length, `${exactTexts} exact texts`);
        mixed.scores.forEach((s, i) => {
          if (s.scheme !== "exact") return;
          s.logp.forEach((x, p) =>
            assert.ok(Object.is(x, exact.scores[i].logp[p]), `K = 4, text ${i} position ${p}`)
          );
        });
        exact.scores.forEach((s, i) => {
          assert.equal(wide.scores[i].scheme, "exact");
          s.logp.forEach((x, p) =>
            assert.ok(Object.is(wide.scores[i].logp[p], x), `text ${i} position ${p}`)
          );
        });
      });
    },
  );

  gpuTest(
    `${name}: PLT from 3 word groups equals the CPU reference model on the same copies`,
    async (ctx) => {
      const dir = `${FIXTURES}${name}`;
      const tok = await loadTokenizer(dir);
      const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
      const enc = TEXTS.map((t) => tok.encode(t, { maxLength: 48 }));
      const scorer = new PltScorer(ctx, model.config, model.params, {
        mask: tok.specialIds.mask,
        pad: tok.specialIds.pad,
      });
      const got = await scorer.score(enc, { copies: 3, budgetTokens: 256 });
      scorer.release();
      const cpu = new Encoder(
        new CpuBackend(),
        model.config,
        cpuStore(model.config, model.params),
        {
          mlm: true,
          classifier: false,
        },
      );
      let approximate = 0;
      enc.forEach((e, i) => {
        const scheme = textScheme(e.words, e.special, 3);
        if (scheme !== "exact") approximate++;
        for (const c of textCopies(e.words, e.special, scheme)) {
          const ids = Uint32Array.from(e.ids);
          for (const p of c.masked) ids[p] = tok.specialIds.mask;
          const pass = cpu.forward(
            { B: 1, T: ids.length, ids, mask: new Uint32Array(ids.length).fill(1) },
            {
              mlm: {
                rows: Uint32Array.from(c.targets),
                targets: Uint32Array.from(c.targets, (p) => e.ids[p]),
              },
              train: false,
              seed: 0,
            },
          );
          const want = pass.mlm!.logp as Float32Array;
          c.targets.forEach((p, j) => {
            const diff = Math.abs(got[i][p] - want[j]);
            assert.ok(
              diff <= 1e-5 + 1e-5 * Math.abs(want[j]),
              `text ${i} position ${p}: ${got[i][p]} vs CPU ${want[j]}`,
            );
          });
        }
      });
      assert.ok(approximate >= 3, `${approximate} texts approximated`);
    },
  );
}

gpuTest("the PLT cache keeps exact and approximate values apart, and each resumes", async (ctx) => {
  const dir = `${FIXTURES}tiny-roberta`;
  const tok = await loadTokenizer(dir);
  const model = await loadCheckpoint(dir, { mlm: true, classifier: false });
  await withTempDir(async (cacheDir) => {
    const opts = { maxLength: 48, budgetTokens: 512, cacheDir };
    const approx = await computePlt(ctx, model, tok, TEXTS, { ...opts, copies: 2 });
    // "data" has one word: it is exact under any K, and cached as such.
    assert.equal(approx.scores[0].scheme, "exact");
    assert.deepEqual(
      approx.scores.slice(1).map((s) => s.scheme),
      TEXTS.slice(1).map(() => ({ groups: 2 })),
    );
    const exact = await computePlt(ctx, model, tok, TEXTS, opts);
    assert.equal(exact.cached, 1, "only the one-word text is served from the approximate run");
    assert.ok(
      exact.scores.slice(1).some((s, i) =>
        s.logp.some((x, p) => x !== approx.scores[i + 1].logp[p])
      ),
    );
    const again = await computePlt(ctx, model, tok, TEXTS, { ...opts, copies: 2 });
    assert.equal(again.cached, TEXTS.length);
    assert.deepEqual(again.scores, approx.scores);
    const other = await computePlt(ctx, model, tok, TEXTS, { ...opts, copies: 3 });
    const exactUnder3 = other.scores.filter((s) => s.scheme === "exact").length;
    assert.ok(exactUnder3 < TEXTS.length - 2);
    assert.equal(other.cached, exactUnder3, "K = 3 is served only its exact texts");
  });
});
