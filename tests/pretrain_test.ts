/** vocab → pretrain → adapt (L3Masking) end to end on a small corpus, through the CLI. */
import assert from "node:assert/strict";
import "./tune_env.ts";
import { join } from "node:path";
import { loadCheckpoint } from "../src/model/weights.ts";
import { loadTokenizer } from "../src/io/tokenizer.ts";

const CORPUS = Array.from(
  { length: 60 },
  (_, i) =>
    `The whale swam near the ship ${i}. The captain watched the sea and the men worked on the deck. ` +
    `A storm came from the north and the sails were torn.`,
).join("\n\n");

async function cli(args: string[]): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr).slice(-1500));
  return new TextDecoder().decode(r.stdout);
}

Deno.test({
  name:
    "vocab → pretrain from scratch → adapt with L3Masking: HF checkpoints that load back, loss falls",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(join(dir, "corpus.txt"), CORPUS);
    await cli([
      "vocab",
      "--corpus",
      join(dir, "corpus.txt"),
      "--size",
      "120",
      "--min-frequency",
      "1",
      "--out",
      join(dir, "m"),
    ]);
    await Deno.writeTextFile(
      join(dir, "cfg.yaml"),
      "model: { type: bert, layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 40 }\n" +
        "training: { max_length: 32, batch_size: 8, steps: 30, lr: 3.0e-3, eval_every: 30, save_every: 30, heldout_fraction: 0.1 }\n",
    );
    const out = await cli([
      "pretrain",
      "--corpus",
      join(dir, "corpus.txt"),
      "--tokenizer",
      join(dir, "m"),
      "--config",
      join(dir, "cfg.yaml"),
      "--out",
      join(dir, "m"),
    ]);
    const ppl = Number(/perplexity ([\d.]+)/.exec(out)![1]);
    assert.ok(
      ppl < 60,
      `held-out perplexity ${ppl} after 30 steps on a repetitive corpus (vocabulary 120)`,
    );
    const m = await loadCheckpoint(join(dir, "m"), { mlm: true, classifier: false });
    assert.equal(m.config.layers, 1);
    assert.equal((await loadTokenizer(join(dir, "m"))).vocabSize, 120);
    const out2 = await cli([
      "adapt",
      "--model",
      join(dir, "m"),
      "--corpus",
      join(dir, "corpus.txt"),
      "--out",
      join(dir, "a"),
      "--masking",
      "l3",
      "--steps",
      "4",
      "--batch-size",
      "8",
      "--max-length",
      "32",
      "--eval-every",
      "4",
    ]);
    assert.match(out2, /held-out MLM loss [\d.]+/);
    const a = await loadCheckpoint(join(dir, "a"), { mlm: true, classifier: false });
    const before = m.params.get("bert.encoder.layer.0.output.dense.weight")!;
    const after = a.params.get("bert.encoder.layer.0.output.dense.weight")!;
    assert.notDeepEqual(after, before, "adapt changed no weight");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "pretrain --until N, then --resume: the schedule of the config's steps, the same weights as one run",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const corpus = join(dir, "corpus.txt");
    await Deno.writeTextFile(corpus, CORPUS);
    await cli([
      "vocab",
      "--corpus",
      corpus,
      "--size",
      "120",
      "--min-frequency",
      "1",
      "--out",
      join(dir, "tok"),
    ]);
    await Deno.writeTextFile(
      join(dir, "cfg.yaml"),
      "model: { type: bert, layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 40 }\n" +
        "training: { max_length: 32, batch_size: 8, steps: 12, lr: 3.0e-3, eval_every: 4, save_every: 4, heldout_fraction: 0.1 }\n",
    );
    const pretrainArgs = (out: string, more: string[]) => [
      "pretrain",
      "--corpus",
      corpus,
      "--tokenizer",
      join(dir, "tok"),
      "--config",
      join(dir, "cfg.yaml"),
      "--out",
      join(dir, out),
      ...more,
    ];
    const pretrain = (out: string, more: string[]) => cli(pretrainArgs(out, more));
    await pretrain("whole", []);
    const stopped = await pretrain("split", ["--until", "6"]);
    assert.match(stopped, /6 steps/);
    const state = JSON.parse(await Deno.readTextFile(join(dir, "split", "state", "state.json")));
    assert.equal(state.step, 6, "state/ saved at the --until step, between save points");
    await pretrain("split", ["--resume"]);
    const records = async (run: string) =>
      (await Deno.readTextFile(join(dir, run, "metrics.jsonl"))).trim().split("\n").map((l) => {
        const r = JSON.parse(l);
        return { type: r.type, step: r.step, loss: r.loss, lr: r.lr };
      });
    const split = await records("split");
    assert.ok(split.some((r) => r.type === "eval" && r.step === 6), "held-out loss at --until");
    // The split run's extra evaluation at step 6 aside, every record is the whole run's.
    assert.deepEqual(
      split.filter((r) => !(r.type === "eval" && r.step === 6)),
      await records("whole"),
      "losses and rates per step",
    );
    const [a, b] = await Promise.all(
      ["whole", "split"].map((r) => loadCheckpoint(join(dir, r), { mlm: true, classifier: false })),
    );
    for (const [name, w] of a.params) assert.deepEqual(b.params.get(name), w, name);
    const err = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", ...pretrainArgs("split", ["--resume", "--until", "5"])],
      stderr: "piped",
    }).output();
    assert.equal(err.code, 2);
    assert.match(new TextDecoder().decode(err.stderr), /already at --until 5/);
    await Deno.remove(dir, { recursive: true });
  },
});
