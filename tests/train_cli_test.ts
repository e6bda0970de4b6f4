/**
 * `l3mask train` from the command line: outputs checked before any work, earlier runs replaced only
 * with --overwrite, --resume refusing flags that would change the run and not re-scoring a
 * finished one, the last step always evaluated, truncation counted, --max-train-examples checked
 * for two classes, max_length resolved from the model, one Usage block. The runs are tiny (the
 * tiny BERT fixture, 24 rows, 1 step); the error cases stop before the model is loaded.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertCliError, FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

const TINY_BERT = `${FIXTURE_MODELS}tiny-bert`;
/** A model path that fails to load: an error about anything else proves the check came first. */
const NO_MODEL = "/nonexistent/l3mask-model";
const WORDS = ["the", "model", "table", "data", "we", "a", "results", "cafe"];

/** 24 rows, two labels; every third text has 10 words (over max_length 8), the rest 3. */
async function writeData(dir: string): Promise<string> {
  const lines = Array.from({ length: 24 }, (_, i) => {
    const n = i % 3 === 0 ? 10 : 3;
    const text = Array.from({ length: n }, (_, j) => WORDS[(i + j) % WORDS.length]).join(" ");
    return JSON.stringify({ text, label: i % 2 ? "yes" : "no" });
  });
  const path = join(dir, "data.jsonl");
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

function trainArgs(data: string, out: string, model = TINY_BERT): string[] {
  return [
    "train",
    "--model",
    model,
    "--train",
    data,
    "--dev",
    data,
    "--out",
    out,
    "--mode",
    "stl",
    "--batch-size",
    "8",
    "--max-steps",
    "1",
  ];
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

test("train --help prints one Usage block, with --overwrite and what --resume accepts", async () => {
  const r = await runCli(["train", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/^Usage:/gm)?.length, 1, r.stdout.slice(0, 800));
  assert.match(r.stdout, /--overwrite +replace the earlier run/);
  assert.match(r.stdout, /only --offline and --cache-dir may\s+be\s+given with it/);
  assert.match(r.stdout, /--max-length N .*\n.*\(default: min\(128, the model's positions\)\)/);
});

test("an unwritable --out is a one-line error before the model is loaded", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "keep me");
    for (
      const [out, why] of [
        ["/proc/nonexistent/run", "cannot write"],
        [file, "exists and is not a directory"],
        [join(file, "run"), "a part of the path is not a directory"],
      ]
    ) {
      const r = await runCli(trainArgs(data, out, NO_MODEL));
      assertCliError(r, "train", [`--out ${out}: `, why, "choose a writable location"]);
    }
    assert.equal(await Deno.readTextFile(file), "keep me", "the file in the way is untouched");
    assert.ok(!(await exists("/proc/nonexistent")));
  });
});

test("--out over an earlier run or a non-empty directory is refused before any work", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const run = join(dir, "run");
    await Deno.mkdir(join(run, "predictions"), { recursive: true });
    await Deno.writeTextFile(join(run, "config.yaml"), "old\n");
    await Deno.writeTextFile(join(run, "predictions", "test.jsonl"), "old\n");
    let r = await runCli(trainArgs(data, run, NO_MODEL));
    assertCliError(r, "train", [`--out ${run}: holds an earlier run`, "--overwrite", "--resume"]);
    assert.equal(await Deno.readTextFile(join(run, "config.yaml")), "old\n", "untouched");

    const other = join(dir, "other");
    await Deno.mkdir(other);
    await Deno.writeTextFile(join(other, "thesis.tex"), "mine\n");
    for (const extra of [[], ["--overwrite"]]) {
      r = await runCli([...trainArgs(data, other, NO_MODEL), ...extra]);
      assertCliError(r, "train", ["not empty", "holds no l3mask run", "choose a new or empty"]);
    }
    assert.equal(await Deno.readTextFile(join(other, "thesis.tex")), "mine\n", "never cleared");
  });
});

test("--resume refuses flags that would change the run, naming them", async () => {
  await withTempDir(async (dir) => {
    const r = await runCli([
      "train",
      "--resume",
      dir,
      "--max-steps",
      "5",
      "--encoder-lr",
      "1e-3",
      "--cache-dir",
      dir,
    ]);
    const line = assertCliError(r, "train", [
      "--encoder-lr, --max-steps: not allowed with --resume",
      "only --offline and --cache-dir may be given",
      "start a new run with --config",
      "a new --out",
    ]);
    assert.ok(!line.includes("--cache-dir,"), `--cache-dir is allowed: ${line}`);
    assertCliError(await runCli(["train", "--resume", dir, "--overwrite"]), "train", [
      "--overwrite: not allowed with --resume",
    ]);
  });
});

test("--max-train-examples that keeps a single class is an error", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const r = await runCli([
      ...trainArgs(data, join(dir, "run"), NO_MODEL),
      "--max-train-examples",
      "1",
    ]);
    assertCliError(r, "train", [
      "--max-train-examples 1 keeps only rows labelled",
      "at least two classes",
      "raise --max-train-examples",
    ]);
  });
});

test("an explicit --max-length over the model's positions keeps its clear error", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const run = join(dir, "run");
    await Deno.mkdir(run); // an empty directory is a fine --out: the run gets as far as the model
    const r = await runCli([...trainArgs(data, run), "--max-length", "100"]);
    assertCliError(r, "train", ["--max-length 100 exceeds the 64 tokens", "--max-length 64"]);
    assert.deepEqual([...Deno.readDirSync(run)], [], "nothing written into the run directory");
  });
});

test("--overwrite replaces an earlier run; max_length defaults to the model's and is recorded", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const run = join(dir, "run");
    await Deno.mkdir(join(run, "predictions"), { recursive: true });
    await Deno.mkdir(join(run, "best"), { recursive: true });
    await Deno.writeTextFile(join(run, "config.yaml"), "old\n");
    await Deno.writeTextFile(join(run, "metrics.jsonl"), "old\n");
    await Deno.writeTextFile(join(run, "predictions", "test.jsonl"), "old\n");
    await Deno.writeTextFile(join(run, "best", "old.bin"), "old\n");
    await Deno.writeTextFile(join(run, "notes.txt"), "mine\n");
    const r = await runCli([...trainArgs(data, run), "--overwrite"]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.ok(!(await exists(join(run, "predictions", "test.jsonl"))), "old predictions removed");
    assert.ok(!(await exists(join(run, "best", "old.bin"))), "old best/ removed");
    assert.ok(await exists(join(run, "predictions", "dev.jsonl")));
    assert.equal(await Deno.readTextFile(join(run, "notes.txt")), "mine\n", "not the run's");
    // tiny-bert has 64 positions: the default is min(128, 64), written as a value for --resume.
    assert.match(await Deno.readTextFile(join(run, "config.yaml")), /^max_length: 64$/m);
    const first = JSON.parse((await Deno.readTextFile(join(run, "metrics.jsonl"))).split("\n")[0]);
    assert.equal(first.truncation.max_length, 64);
  });
});

test("a run ending before its first evaluation evaluates its last step; truncation is counted; resuming it when finished changes nothing", async () => {
  await withTempDir(async (dir) => {
    const data = await writeData(dir);
    const run = join(dir, "run");
    // 24 rows in batches of 8: 3 steps an epoch, evaluated per epoch, but only 1 step is run.
    const r = await runCli([...trainArgs(data, run), "--max-length", "8", "--test", data]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.ok(await exists(join(run, "best", "model.safetensors")));
    assert.match(
      r.stderr,
      /truncated to max_length 8: 8 of 24 train texts, 8 of 24 dev, 8 of 24 test/,
    );
    const metrics = await Deno.readTextFile(join(run, "metrics.jsonl"));
    const records = metrics.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(records[0].truncation, {
      max_length: 8,
      texts: { train: 24, dev: 24, test: 24 },
      truncated: { train: 8, dev: 8, test: 8 },
    });
    const dev = records.filter((x) => x.type === "eval" && x.split === "dev");
    assert.deepEqual(dev.map((x) => [x.step, x.best]), [[1, true]]);
    assert.equal(records.filter((x) => x.type === "eval" && x.split === "test").length, 1);
    const html = await Deno.readTextFile(join(run, "report.html"));
    assert.ok(html.includes("texts truncated to 8 tokens"), "report.html");

    for (const extra of [[], ["--offline", "--cache-dir", join(dir, "cache")]]) {
      const again = await runCli(["train", "--resume", run, ...extra]);
      assert.equal(again.code, 0, again.stderr.slice(-2000));
      assert.match(again.stdout, /finished already \(1 step, .*\); nothing to resume/);
      assert.equal(await Deno.readTextFile(join(run, "metrics.jsonl")), metrics, "no new record");
    }
  });
});
