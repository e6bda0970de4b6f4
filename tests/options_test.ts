/**
 * The option table (src/options/): one definition per key, so a key checks, defaults and reads the
 * same in every command that takes it; single-flag reading and layered resolution; the pretrain
 * config file's sections with file:line errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import { CommandOptions } from "../src/options/command.ts";
import { parseConfigText } from "../src/options/config_file.ts";
import { option } from "../src/options/table.ts";
import { assertCliError, FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

function userError(fn: () => unknown, parts: string[]): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' lacks '${p}'`);
    return e.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}`);
}

const SCORE_LIKE = new CommandOptions("x", ["model", "max_length", "pbar", "corpus"] as const);

Deno.test("options: readFlags applies the table's defaults, ranges and words", () => {
  const o = SCORE_LIKE.readFlags({ model: "m", corpus: ["a"] }, { corpus: ["b", "c"] });
  assert.deepEqual(o, { model: "m", maxLength: undefined, pbar: 0.15, corpus: ["a", "b", "c"] });
  userError(() => SCORE_LIKE.readFlags({ model: "m", corpus: ["a"], "max-length": "2" }), [
    "--max-length must be an integer >= 3, got '2'",
  ]);
  userError(() => SCORE_LIKE.readFlags({ model: "m", corpus: ["a"], pbar: "0" }), [
    "--pbar must be a number in (0, 1], got '0'",
  ]);
  userError(() => SCORE_LIKE.readFlags({ corpus: ["a"] }), ["--model is required"]);
  userError(() => SCORE_LIKE.readFlags({ model: "m" }), ["--corpus is required"]);
});

Deno.test("options: a config layer and a flag layer check a key the same way", () => {
  const layered = new CommandOptions("x", ["max_length", "batch_size"] as const);
  const file = parseConfigText("batch_size: 8\nmax_length: 2\n", "c.yaml");
  userError(() => layered.resolve([{ source: "c.yaml", values: file }]), [
    "c.yaml:2: max_length: expected an integer >= 3, got 2",
  ]);
  const flags = layered.flagsToValues({ "max-length": "2" });
  userError(() => layered.resolve([{ source: "command line", values: flags, flags: true }]), [
    "command line: --max-length: expected an integer >= 3, got 2",
  ]);
  userError(
    () => layered.resolve([{ source: "c.yaml", values: parseConfigText("max_lenght: 9", "c") }]),
    ["unknown key 'max_lenght'; did you mean 'max_length'?"],
  );
  // An alias names the key that does that job here, when this command has it.
  userError(
    () => layered.resolve([{ source: "c", values: { max_seq_length: 9 } }]),
    ["did you mean 'max_length'?"],
  );
});

Deno.test("options: variants share the flag name, each with its own default", () => {
  assert.equal(option("batch_size").default, 64);
  assert.equal(option("batch_size@mlm").default, 32);
  assert.equal(option("batch_size@eval").default, 32);
  const eval_ = new CommandOptions("eval", ["batch_size@eval"] as const);
  assert.deepEqual(Object.keys(eval_.flagOptions()), ["batch-size"]);
  assert.deepEqual(eval_.readFlags({ "batch-size": "5" }), { batchSize: 5 });
  assert.match(eval_.help(), /--batch-size N\s+texts per forward pass \(default: 32\)/);
});

Deno.test("options: help lists each group once, in the order groups first appear", () => {
  const c = new CommandOptions("x", ["model", "pbar", "text_column", "seed"] as const);
  const help = c.help();
  assert.equal(help.match(/^Data:$/gm)?.length, 1, help);
  assert.ok(help.indexOf("--text-column") < help.indexOf("--pbar"), help);
  assert.ok(help.startsWith("Data:"), help);
});

Deno.test("options: score and eval refuse a max length train refuses, with the same range", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, "d.jsonl");
    await Deno.writeTextFile(data, '{"text":"a b","label":"x"}\n{"text":"c","label":"y"}\n');
    const model = join(FIXTURE_MODELS, "tiny-bert");
    for (
      const [cmd, args] of [
        ["score", ["score", data, "--model", model, "--max-length", "2"]],
        ["eval", ["eval", "--model", model, "--data", data, "--max-length", "2"]],
      ] as const
    ) {
      assertCliError(await runCli([...args]), cmd, ["--max-length", "integer >= 3", "'2'"]);
    }
    assertCliError(
      await runCli([
        "train",
        "--model",
        model,
        "--train",
        data,
        "--dev",
        data,
        "--max-length",
        "2",
      ]),
      "train",
      ["--max-length", "integer >= 3", "2"],
    );
  });
});

Deno.test("options: pretrain's config sections are checked key by key, with file:line", async () => {
  await withTempDir(async (dir) => {
    const cfg = join(dir, "p.yaml");
    const args = ["pretrain", "--corpus", cfg, "--tokenizer", dir, "--config", cfg, "--out", dir];
    await Deno.writeTextFile(
      cfg,
      "model:\n  layer: 2\n  hidden: 8\n  heads: 2\n  intermediate: 16\ntraining:\n  steps: 1\n",
    );
    assertCliError(await runCli(args), "pretrain", [
      `${cfg}:2: unknown key 'layer'; did you mean 'layers'?`,
    ]);
    await Deno.writeTextFile(
      cfg,
      "model:\n  layers: 2\n  hidden: 8\n  heads: 2\n  intermediate: 16\ntraining:\n" +
        "  steps: 1\n  pbar: 1.5\n",
    );
    assertCliError(await runCli(args), "pretrain", [
      `${cfg}:8: pbar: expected a number in (0, 1], got 1.5`,
    ]);
    await Deno.writeTextFile(cfg, "model:\n  layers: 2\ntraining:\n  steps: 1\n");
    assertCliError(await runCli(args), "pretrain", [`${cfg}: missing hidden, heads, intermediate`]);
    await Deno.writeTextFile(cfg, "model:\n  layers: 2\ntrainning:\n  steps: 1\n");
    assertCliError(await runCli(args), "pretrain", [`${cfg}:3: unknown section 'trainning'`]);
  });
});
