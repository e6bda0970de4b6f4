/**
 * Training: 10 AdamW steps match PyTorch's loss sequence; the same seed gives bit-identical
 * metrics; a tiny model fits a small synthetic task; an interrupted run resumes bit-identically.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Encoder } from "../src/model/encoder.ts";
import { GpuBackend } from "../src/model/gpu_backend.ts";
import { gpuStore, gpuZerosLike, loadCheckpoint } from "../src/model/weights.ts";
import { GroupOptimizer } from "../src/optim/optimizer.ts";
import { resolveConfig } from "../src/train/config.ts";
import { runTraining } from "../src/train/run.ts";
import { FIXTURES, loadGolden } from "./golden.ts";
import { gpuTest, rng } from "./util.ts";

for (const name of ["tiny-bert", "tiny-roberta"] as const) {
  gpuTest(`${name}: 10 AdamW steps give PyTorch's loss sequence (rel ≤ 1e-4)`, async (ctx) => {
    const g = await loadGolden(name);
    const tr = g.train;
    const a = tr.adamw;
    const m = await loadCheckpoint(`${FIXTURES}${name}`, { mlm: true, classifier: true });
    const params = gpuStore(ctx, m.config, m.params);
    const grads = gpuZerosLike(ctx, m.config, m.params, "grad");
    const moments = {
      m: gpuZerosLike(ctx, m.config, m.params, "m"),
      v: gpuZerosLike(ctx, m.config, m.params, "v"),
    };
    const model = new Encoder(new GpuBackend(ctx), m.config, params, {
      mlm: true,
      classifier: true,
    });
    const opt = new GroupOptimizer(ctx, model.specs, params, moments, {
      lr: a.lr,
      betas: a.betas,
      eps: a.eps,
      weightDecay: a.weight_decay,
      clipNorm: Infinity,
    }, model.names.wte);
    const batch = {
      B: g.B,
      T: g.T,
      ids: Uint32Array.from(tr.masked_ids.flat()),
      mask: Uint32Array.from(g.attention_mask.flat()),
    };
    const opts = {
      mlm: { rows: Uint32Array.from(tr.mlm_rows), targets: Uint32Array.from(tr.mlm_targets) },
      labels: Uint32Array.from(tr.labels),
      train: false,
      seed: 0,
    };
    const M = tr.mlm_rows.length;
    for (let step = 0; step < 10; step++) {
      for (const c of grads.wte.chunks) ctx.fill(c.tensor, 0);
      for (const t of grads.t.values()) ctx.fill(t, 0);
      const pass = model.forward(batch, opts);
      model.backward(pass, grads, { mlm: 1, cls: 1 });
      const [logp, losses] = await ctx.readMany([pass.mlm!.logp, pass.cls!.losses]);
      model.releasePass(pass);
      let loss = 0;
      for (let i = 0; i < M; i++) loss -= logp[i] / M;
      for (let b = 0; b < g.B; b++) loss += losses[b] / g.B;
      const want = a.losses[step];
      assert.ok(
        Math.abs(loss - want) <= 1e-4 * Math.abs(want),
        `${name} step ${step}: loss ${loss} vs PyTorch ${want}`,
      );
      opt.step(grads, 1, step + 1);
    }
    opt.release();
  });
}

/** A small two-class task the tiny BERT's vocabulary covers: the label is whether "results" occurs. */
async function syntheticTask(dir: string, n: number, seed: number): Promise<void> {
  const r = rng(seed);
  const words = ["the", "model", "shows", "table", "parser", "data", "we", "a", "souvenir", "cafe"];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const toks = Array.from(
      { length: 4 + Math.floor(r() * 4) },
      () => words[Math.floor(r() * words.length)],
    );
    if (label) toks.splice(Math.floor(r() * toks.length), 0, "results");
    lines.push(JSON.stringify({ text: toks.join(" "), label: label ? "yes" : "no" }));
  }
  await Deno.writeTextFile(join(dir, "data.jsonl"), lines.join("\n") + "\n");
}

function baseConfig(dir: string, extra: Record<string, unknown>) {
  return resolveConfig([{
    source: "test",
    values: {
      model: `${FIXTURES}tiny-bert`,
      train: join(dir, "data.jsonl"),
      dev: join(dir, "data.jsonl"),
      out: join(dir, "run"),
      max_length: 32,
      batch_size: 16,
      cache_dir: join(dir, "cache"),
      dev_head_steps: 3,
      dev_head_examples: 8,
      ...extra,
    },
  }]);
}

/** metrics.jsonl without the wall-clock fields (time, examples/s): everything else must be identical. */
async function metricsWithoutTiming(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l).map((l) => {
    const o = JSON.parse(l);
    delete o.time;
    delete o.examples_per_s;
    return JSON.stringify(o);
  });
}

gpuTest("the same seed gives bit-identical metrics (mtl, L3Masking, META-TARTAN)", async () => {
  const dir = await Deno.makeTempDir();
  await syntheticTask(dir, 48, 3);
  const runs: string[][] = [];
  for (const out of ["a", "b"]) {
    const c = baseConfig(dir, {
      mode: "mtl",
      masking: "l3",
      weighting: "meta",
      max_epochs: 2,
      out: join(dir, out),
    });
    await runTraining(c, { resume: false, quiet: true });
    runs.push(await metricsWithoutTiming(join(dir, out, "metrics.jsonl")));
  }
  assert.ok(runs[0].length >= 8, `expected step and eval records, got ${runs[0].length}`);
  assert.deepEqual(runs[1], runs[0]);
  // The task weights moved off 1/2 (META-TARTAN updates them every step).
  const last = JSON.parse(runs[0].filter((l) => l.includes('"type":"step"')).at(-1)!);
  assert.notEqual(last.weights.cls, 0.5);
  await Deno.remove(dir, { recursive: true });
});

gpuTest(
  "train --copies K: L3Masking's probabilities come from K word groups, and the run says so",
  async () => {
    const dir = await Deno.makeTempDir();
    await syntheticTask(dir, 16, 4);
    const c = baseConfig(dir, {
      mode: "mtl",
      masking: "l3",
      weighting: "fixed",
      max_epochs: 1,
      copies: 2,
    });
    await runTraining(c, { resume: false, quiet: true });
    // Every text has 4-8 words: each was scored from 2 word groups, and cached under K = 2.
    const [cacheFile] = [...Deno.readDirSync(join(dir, "cache"))].map((e) =>
      join(dir, "cache", e.name)
    );
    const records = (await Deno.readTextFile(cacheFile)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.ok(records.length >= 8 && records.every((r) => r.g === 2), JSON.stringify(records[0]));
    assert.match(await Deno.readTextFile(join(dir, "run", "config.yaml")), /^copies: 2$/m);
    await Deno.remove(dir, { recursive: true });
  },
);

gpuTest("a tiny model fits a small synthetic task to 100% training accuracy", async () => {
  const dir = await Deno.makeTempDir();
  await syntheticTask(dir, 32, 5);
  const c = baseConfig(dir, {
    mode: "stl",
    encoder_lr: 2e-3,
    head_lr: 5e-3,
    warmup_ratio: 0,
    dropout: 0,
    max_epochs: 20,
    patience: 20,
    metric: "accuracy",
  });
  const s = await runTraining(c, { resume: false, quiet: true });
  assert.equal(s.dev!.accuracy, 1, `training accuracy ${s.dev!.accuracy} after ${s.steps} steps`);
  await Deno.remove(dir, { recursive: true });
});

gpuTest("a run killed mid-training resumes with --resume and ends bit-identically", async () => {
  const dir = await Deno.makeTempDir();
  await syntheticTask(dir, 64, 9);
  const args = (out: string) => [
    "run",
    "-A",
    "main.ts",
    "train",
    "--model",
    `${FIXTURES}tiny-bert`,
    "--train",
    join(dir, "data.jsonl"),
    "--dev",
    join(dir, "data.jsonl"),
    "--out",
    join(dir, out),
    "--max-length",
    "32",
    "--batch-size",
    "16",
    "--max-epochs",
    "4",
    "--patience",
    "9",
    "--mode",
    "mtl",
    "--masking",
    "rtm",
    "--weighting",
    "fixed",
    "--cache-dir",
    join(dir, "cache"),
  ];
  const quiet = { stdout: "null", stderr: "null" } as const;
  assert.ok(
    (await new Deno.Command(Deno.execPath(), { args: args("full"), ...quiet }).output()).success,
  );
  // Kill the second run as soon as its first state/ exists (end of epoch 1).
  const child = new Deno.Command(Deno.execPath(), { args: args("killed"), ...quiet }).spawn();
  const state = join(dir, "killed", "state", "state.json");
  for (let i = 0; i < 6000; i++) {
    if (await Deno.stat(state).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGKILL");
  await child.status;
  const before = JSON.parse(await Deno.readTextFile(state));
  assert.ok(!before.done, "the run finished before it could be killed");
  const resumed = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "train", "--resume", join(dir, "killed")],
    ...quiet,
  }).output();
  assert.ok(resumed.success);
  assert.deepEqual(
    await metricsWithoutTiming(join(dir, "killed", "metrics.jsonl")),
    await metricsWithoutTiming(join(dir, "full", "metrics.jsonl")),
  );
  const a = await Deno.readFile(join(dir, "full", "best", "model.safetensors"));
  const b = await Deno.readFile(join(dir, "killed", "best", "model.safetensors"));
  assert.deepEqual(b, a, "the best checkpoints differ");
  await Deno.remove(dir, { recursive: true });
});

gpuTest(
  "the saved best/ reproduces predictions/test.jsonl when reloaded with l3mask eval",
  async () => {
    const dir = await Deno.makeTempDir();
    await syntheticTask(dir, 32, 11);
    const c = baseConfig(dir, {
      mode: "mtl",
      masking: "rtm",
      weighting: "fixed",
      max_epochs: 2,
      test: join(dir, "data.jsonl"),
    });
    await runTraining(c, { resume: false, quiet: true });
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "main.ts",
        "eval",
        "--model",
        join(dir, "run", "best"),
        "--data",
        join(dir, "data.jsonl"),
        "--out",
        join(dir, "eval.jsonl"),
        "--max-length",
        "32",
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.ok(out.success);
    const saved = (await Deno.readTextFile(join(dir, "run", "predictions", "test.jsonl"))).trim()
      .split("\n").map((l) => JSON.parse(l));
    const again = (await Deno.readTextFile(join(dir, "eval.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(again.length, saved.length);
    again.forEach((r, i) => {
      assert.equal(r.pred, saved[i].pred, `row ${i}`);
      r.probs.forEach((p: number, k: number) =>
        assert.ok(
          Math.abs(p - saved[i].probs[k]) <= 1e-6,
          `row ${i} class ${k}: ${p} vs ${saved[i].probs[k]}`,
        )
      );
    });
    const config = JSON.parse(await Deno.readTextFile(join(dir, "run", "best", "config.json")));
    assert.deepEqual(config.architectures, ["BertForSequenceClassification"]);
    assert.deepEqual(Object.values(config.id2label), ["no", "yes"]);
    await Deno.remove(dir, { recursive: true });
  },
);
