/**
 * Checkpoints as older hub repositories ship them (issue 16): pytorch_model.bin with vocab.txt
 * (BERT) or vocab.json + merges.txt (RoBERTa) and their config files, no model.safetensors and no
 * tokenizer.json. `score` gives byte for byte the output of the same weights and tokenizer in
 * safetensors + tokenizer.json, and `train` then `eval` run on such a directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

const BIN = `${FIXTURE_MODELS}torch_bin/`;
const VOCAB = `${FIXTURE_MODELS}vocab_files/`;

/** config.json, pytorch_model.bin and the vocabulary files of the tiny `kind` model. */
async function oldStyleDir(dir: string, kind: "bert" | "roberta"): Promise<string> {
  const to = join(dir, `old-${kind}`);
  await Deno.mkdir(to);
  await Deno.copyFile(`${FIXTURE_MODELS}tiny-${kind}/config.json`, join(to, "config.json"));
  await Deno.copyFile(`${BIN}tiny-${kind}.bin`, join(to, "pytorch_model.bin"));
  for (const e of Deno.readDirSync(`${VOCAB}tiny-${kind}`)) {
    await Deno.copyFile(`${VOCAB}tiny-${kind}/${e.name}`, join(to, e.name));
  }
  const names = [...Deno.readDirSync(to)].map((e) => e.name);
  assert.ok(
    !names.includes("tokenizer.json") && !names.includes("model.safetensors"),
    names.join(),
  );
  return to;
}

const TEXTS = [
  "The model shows results.",
  "A souvenir parser, 2024: café tables (Naïve) — 東京!",
  "We model data 2024-25 with [MASK] and <mask> tokens.",
  "",
  "Citation intents differ: background, uses, extends, motivation, future work.",
];

function csv(texts: string[]): string {
  return "text\n" + texts.map((t) => `"${t.replaceAll('"', '""')}"`).join("\n") + "\n";
}

for (const kind of ["bert", "roberta"] as const) {
  Deno.test(`score: pytorch_model.bin + vocabulary files of tiny-${kind} give the JSONL of safetensors + tokenizer.json`, async () => {
    await withTempDir(async (dir) => {
      const old = await oldStyleDir(dir, kind);
      const input = join(dir, "in.csv");
      await Deno.writeTextFile(input, csv(TEXTS));
      const out: string[] = [];
      for (const [name, model] of [["old", old], ["new", `${FIXTURE_MODELS}tiny-${kind}`]]) {
        const file = join(dir, `${name}.jsonl`);
        const r = await runCli([
          "score",
          input,
          "--model",
          model,
          "--max-length",
          "48",
          "--cache-dir",
          join(dir, `cache-${name}`),
          "--out",
          file,
        ]);
        assert.equal(r.code, 0, r.stderr);
        out.push(await Deno.readTextFile(file));
      }
      assert.equal(out[0].trim().split("\n").length, TEXTS.length);
      assert.equal(out[0], out[1], "byte-identical JSONL");
      // A second run on the old-style directory is answered by its cache (its fingerprint reads
      // pytorch_model.bin and the tokenizer built from the vocabulary files).
      const again = await runCli(
        [
          "score",
          input,
          "--model",
          old,
          "--max-length",
          "48",
          "--cache-dir",
          join(dir, "cache-old"),
        ],
      );
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /5 rows, 5 from cache, 0 tokens scored/);
      assert.equal(again.stdout, out[0]);
    });
  });
}

Deno.test("train and eval run on a pytorch_model.bin + vocab.txt directory; best/ loads back", async () => {
  await withTempDir(async (dir) => {
    const old = await oldStyleDir(dir, "bert");
    const data = join(dir, "data.jsonl");
    const rows = Array.from({ length: 24 }, (_, i) =>
      JSON.stringify({
        text: i % 2 ? `the parser shows results ${i}` : `a souvenir cafe table ${i}`,
        label: i % 2 ? "yes" : "no",
      }));
    await Deno.writeTextFile(data, rows.join("\n") + "\n");
    const run = join(dir, "run");
    const t = await runCli([
      "train",
      "--model",
      old,
      "--train",
      data,
      "--dev",
      data,
      "--out",
      run,
      "--mode",
      "mtl",
      "--masking",
      "l3",
      "--weighting",
      "fixed",
      "--max-epochs",
      "1",
      "--batch-size",
      "8",
      "--max-length",
      "32",
      "--cache-dir",
      join(dir, "cache"),
    ]);
    assert.equal(t.code, 0, t.stderr.slice(-2000));
    // The saved checkpoint carries the tokenizer as tokenizer.json (built from the vocab files).
    assert.ok((await Deno.stat(join(run, "best", "tokenizer.json"))).isFile);
    const e = await runCli(["eval", "--model", join(run, "best"), "--data", data]);
    assert.equal(e.code, 0, e.stderr.slice(-2000));
    assert.match(e.stdout + e.stderr, /accuracy/);
  });
});
