/**
 * `l3mask score` as a user runs it (issue 12): every output location checked before any work, a
 * failed write as one line with nothing left half-written, a PLT cache shared by concurrent runs
 * and robust to torn lines, the max length defaulting to what the model's positions allow, and
 * the input-format hint naming the real flag. The tiny fixture models keep each run short.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PltCache } from "../src/score/cache.ts";
import { assertCliError, FIXTURE_MODELS, runCli } from "./cli.ts";

const TINY_BERT = `${FIXTURE_MODELS}tiny-bert`; // 64 positions

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "l3mask-score-cli-" });
}

function csv(texts: string[]): string {
  return "text\n" + texts.map((t) => `"${t.replaceAll('"', '""')}"`).join("\n") + "\n";
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("score: an unwritable --out, --report or --cache-dir is one line, before any work", async () => {
  const dir = await tempDir();
  const input = join(dir, "in.csv");
  await Deno.writeTextFile(input, csv(["The model shows results."]));
  const file = join(dir, "a-file");
  await Deno.writeTextFile(file, "not a directory");
  const aDir = join(dir, "a-dir");
  await Deno.mkdir(aDir);
  // A model that does not exist: an output problem must be reported before the model is looked
  // at (--offline keeps a wrong order from reaching for the network).
  const model = join(dir, "no-such-model");
  const cases: [string, string, string[]][] = [
    ["--out", "/proc/nonexistent/out.jsonl", ["cannot write", "does not exist"]],
    ["--out", aDir, ["is a directory"]],
    ["--out", join(file, "out.jsonl"), ["cannot write"]],
    ["--report", "/proc/nonexistent/r.html", ["cannot write", "does not exist"]],
    ["--report", aDir, ["is a directory"]],
    ["--report", join(file, "r.html"), ["cannot write"]],
    ["--cache-dir", "/proc/nonexistent/cache", ["cannot write", "does not exist"]],
    ["--cache-dir", file, ["not a directory"]],
    ["--cache-dir", join(file, "cache"), ["cannot write", "not a directory"]],
  ];
  // A directory nobody may create files in, even root (sysfs): the read-only case, where it holds.
  if (await Deno.writeTextFile("/sys/l3mask-probe", "x").then(() => false, () => true)) {
    cases.push(["--out", "/sys/out.jsonl", ["cannot write", "permission denied"]]);
  }
  for (const [flag, path, parts] of cases) {
    const others = flag === "--cache-dir" ? [] : ["--cache-dir", join(dir, "cache")];
    const r = await runCli(
      ["score", input, "--model", model, "--offline", flag, path, ...others],
    );
    assertCliError(r, "score", [`${flag} ${path}`, ...parts]);
    assert.equal(r.stdout, "", `${flag} ${path}: nothing on stdout`);
  }
  // Nothing was created by the failed runs (not even the cache directory of the --out and
  // --report cases: their check came first).
  assert.deepEqual(await names(dir), ["a-dir", "a-file", "in.csv"]);
  assert.deepEqual(await names(aDir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("score: a write that fails after scoring (file-size limit) is one line, no file left", async () => {
  const bash = await new Deno.Command("bash", { args: ["-c", "true"] }).output().catch(() => null);
  if (!bash?.success) {
    console.warn("skipped: no bash to set a file-size limit with");
    return;
  }
  const dir = await tempDir();
  const input = join(dir, "in.csv");
  await Deno.writeTextFile(input, csv(["The model shows results.", "A souvenir cafe!"]));
  const out = join(dir, "out.jsonl");
  const main = new URL("../main.ts", import.meta.url).pathname;
  // 1 KiB limit: the probe and the cache lines (about 400 bytes) fit, the 1.2 KB output does not.
  // SIGXFSZ ignored, so the write fails with EFBIG instead of killing the process.
  const script = `trap "" XFSZ; ulimit -f 1; exec "$0" run -A "$@"`;
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      script,
      Deno.execPath(),
      main,
      "score",
      input,
      "--model",
      TINY_BERT,
      "--max-length",
      "64",
      "--cache-dir",
      join(dir, "cache"),
      "--out",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const result = { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  assertCliError(result, "score", [`--out ${out}`, "cannot write", "too large"]);
  // No output and no temporary file beside it.
  assert.deepEqual(await names(dir), ["cache", "in.csv"]);
  await Deno.remove(dir, { recursive: true });
});

const KEY = (i: number) => i.toString(16).padStart(64, "0");

Deno.test("PLT cache: two writers on one file (two processes) lose no record", async () => {
  const dir = await tempDir();
  const a = await PltCache.open(dir, "fp");
  const b = await PltCache.open(dir, "fp");
  // Interleaved appends of records of different lengths, as two runs make them.
  await a.put([{ key: KEY(1), logp: [null, -1.25, -2.5, null] }]);
  await b.put([{ key: KEY(2), logp: [null, -0.5, null] }, { key: KEY(3), logp: [null] }]);
  await a.put([{ key: KEY(4), logp: [null, -3, -4, -5, -6, null] }]);
  await b.put([{ key: KEY(5), logp: [-7] }]);
  a.close();
  b.close();
  const warnings: string[] = [];
  const c = await PltCache.open(dir, "fp", { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.equal(c.size, 5);
  assert.deepEqual(c.get(KEY(1)), [null, -1.25, -2.5, null]);
  assert.deepEqual(c.get(KEY(3)), [null]);
  assert.deepEqual(c.get(KEY(4)), [null, -3, -4, -5, -6, null]);
  assert.deepEqual(c.get(KEY(5)), [-7]);
  c.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("PLT cache: torn and malformed lines are skipped with one warning, the rest kept", async () => {
  const dir = await tempDir();
  const path = join(dir, "fp.jsonl");
  const line = (i: number, logp: (number | null)[]) => JSON.stringify({ k: KEY(i), logp }) + "\n";
  await Deno.writeTextFile(
    path,
    line(1, [null, -1, null]) +
      `{"k":"${KEY(9)}","logp":[-0.12` + line(2, [null, -2]) + // a torn record glued to the next
      line(3, [-3]) +
      "not json at all\n" +
      `{"k":"${KEY(8)}","logp":["x"]}\n` + // JSON, but not a record
      line(4, [null, -4, -4.5]) +
      `{"k":"${KEY(7)}","lo`, // a torn tail: the last write was cut short
  );
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const cache = await PltCache.open(dir, "fp", { warn });
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /skipped 4 unreadable lines/);
  assert.match(warnings[0], /fp\.jsonl/);
  assert.deepEqual([1, 2, 3, 4, 7, 8, 9].map((i) => cache.get(KEY(i)) ?? null), [
    [null, -1, null],
    null,
    [-3],
    [null, -4, -4.5],
    null,
    null,
    null,
  ]);
  // A new record does not glue onto the torn tail.
  await cache.put([{ key: KEY(5), logp: [-5] }]);
  cache.close();
  warnings.length = 0;
  const again = await PltCache.open(dir, "fp", { warn });
  assert.deepEqual(again.get(KEY(5)), [-5]);
  assert.equal(again.size, 4);
  assert.match(warnings.join("\n"), /skipped 4 unreadable lines/);
  again.close();
  await Deno.remove(dir, { recursive: true });
});

/** The JSONL rows of `score`, numbers compared within `rtol` (PLT depends on batching in ulps). */
function assertSameScores(actual: string, expected: string, rtol = 1e-5): void {
  const a = actual.trim().split("\n").map((l) => JSON.parse(l));
  const e = expected.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(a.length, e.length);
  a.forEach((row, i) => {
    for (const key of Object.keys(e[i])) {
      const [x, y] = [row[key], e[i][key]];
      if (!["plt", "logp", "mask_prob"].includes(key)) {
        assert.deepEqual(x, y, `row ${i} ${key}`);
        continue;
      }
      assert.equal(x.length, y.length, `row ${i} ${key} length`);
      x.forEach((v: number | null, j: number) => {
        const w = y[j];
        assert.ok(
          v === w || (v !== null && w !== null && Math.abs(v - w) <= rtol * Math.abs(w) + 1e-9),
          `row ${i} ${key}[${j}]: ${v} vs ${w}`,
        );
      });
    }
  });
}

Deno.test("score: two concurrent runs share a --cache-dir; a third finds every row cached", async () => {
  const dir = await tempDir();
  const input = join(dir, "in.csv");
  const words = "the model shows results of the parser table on data we report".split(" ");
  const texts = Array.from(
    { length: 30 },
    (_, i) => `${words.slice(0, ((i * 7) % 11) + 1).join(" ")} ${i}.`,
  );
  await Deno.writeTextFile(input, csv(texts));
  const cache = join(dir, "cache");
  const args = (out: string, batchTokens: number) => [
    "score",
    input,
    "--model",
    TINY_BERT,
    "--max-length",
    "32",
    "--cache-dir",
    cache,
    "--out",
    join(dir, out),
    "--batch-tokens",
    String(batchTokens),
  ];
  // The first run scores in many small batches; the second starts once the first has cached some
  // texts, so it scores the rest (in other batches, hence other last bits and line lengths) while
  // the first still appends.
  const first = runCli(args("first.jsonl", 32));
  const started = Date.now();
  const cacheLines = async () => {
    const files = await Array.fromAsync(Deno.readDir(cache)).catch(() => []);
    const jsonl = files.find((f) => f.name.endsWith(".jsonl"));
    return jsonl ? (await Deno.readTextFile(join(cache, jsonl.name))).split("\n").length - 1 : 0;
  };
  while ((await cacheLines()) === 0 && Date.now() - started < 60_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const second = runCli(args("second.jsonl", 4096));
  const [r1, r2] = await Promise.all([first, second]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r1.stderr, /30 rows, 0 from cache/);
  const r3 = await runCli(args("third.jsonl", 4096));
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /30 rows, 30 from cache, 0 tokens scored/);
  assert.doesNotMatch(r3.stderr, /warning/);
  const read = (name: string) => Deno.readTextFile(join(dir, name));
  // The first run started on an empty cache: a fresh run.
  assertSameScores(await read("third.jsonl"), await read("first.jsonl"));
  assertSameScores(await read("second.jsonl"), await read("first.jsonl"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("score: --max-length defaults to what the model's positions allow; a value above is refused", async () => {
  const dir = await tempDir();
  // No extension the format can be told from: --input-format names it.
  const input = join(dir, "rows.txt");
  const long = Array.from({ length: 80 }, (_, i) => `word${i % 7}`).join(" ");
  await Deno.writeTextFile(input, csv(["The model shows results.", long]));
  const cache = join(dir, "cache");
  const base = ["score", input, "--model", TINY_BERT, "--cache-dir", cache];

  const hint = await runCli(base);
  assertCliError(hint, "score", ["cannot tell the format", "--input-format csv|tsv|jsonl"]);
  assert.ok(!hint.stderr.includes("--format"), hint.stderr);

  // tiny-bert has 64 positions: the default is 64, not 128 (and not an error).
  const out = join(dir, "out.jsonl");
  const ok = await runCli([...base, "--input-format", "csv", "--out", out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /1 texts truncated to 64 tokens/);
  const rows = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  assert.equal(rows[1].tokens.length, 64);

  const above = await runCli([...base, "--input-format", "csv", "--max-length", "65"]);
  assertCliError(above, "score", ["--max-length 65", "64 tokens", "--max-length 64"]);

  // --batch-tokens is checked against the resolved max length.
  const small = await runCli([...base, "--input-format", "csv", "--batch-tokens", "32"]);
  assertCliError(small, "score", ["--batch-tokens (32)", "64"]);
  const explicit = await runCli([
    ...base,
    "--input-format",
    "csv",
    "--batch-tokens",
    "32",
    "--max-length",
    "40",
  ]);
  assertCliError(explicit, "score", ["--batch-tokens (32)", "--max-length (40)"]);
  await Deno.remove(dir, { recursive: true });
});
