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
