/**
 * `score --shard I/N` and `merge-scores` (issue 15): the shards split the rows by text (duplicates
 * together), the merged output is byte for byte a single run's (JSONL and CSV), the shards'
 * caches merge into one that answers every row, and each way of merging wrongly is one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { shardOf } from "../src/score/shard.ts";
import { assertCliError, FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

const MODEL = `${FIXTURE_MODELS}tiny-bert`;

const TEXTS = [
  ...Array.from({ length: 18 }, (_, i) => `Row ${i}: the parser's table (${i}) shows results.`),
  "A souvenir café!",
  "Row 3: the parser's table (3) shows results.", // a duplicate of row 3
  "We model data 2024-25.",
  "",
  "Citation intents differ: background, uses, extends.",
  "A souvenir café!", // a duplicate of row 18
];

function csv(texts: string[]): string {
  return "text\n" + texts.map((t) => `"${t.replaceAll('"', '""')}"`).join("\n") + "\n";
}

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `l3mask ${args.join(" ")}:\n${r.stderr.slice(-1500)}`);
  return r.stderr;
}

Deno.test("shards: a text's shard is its hash modulo N, so duplicates share one", async () => {
  for (const n of [1, 2, 3, 7]) {
    const shards = await Promise.all(TEXTS.map((t) => shardOf(t, n)));
    assert.ok(shards.every((s) => Number.isInteger(s) && s >= 0 && s < n));
    assert.equal(shards[3], shards[19]);
    assert.equal(shards[18], shards[23]);
    if (n === 3) assert.equal(new Set(shards).size, 3, "24 texts fill 3 shards");
  }
});

Deno.test("score --shard I/N then merge-scores: byte for byte the single run, and one merged cache", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "in.csv");
    await Deno.writeTextFile(input, csv(TEXTS));
    const common = ["--model", MODEL, "--offline"];
    await ok([
      "score",
      input,
      ...common,
      "--out",
      join(dir, "single.jsonl"),
      "--cache-dir",
      join(dir, "c0"),
    ]);
    const shardFiles: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const out = join(dir, `shard${i}.jsonl`);
      const note = await ok([
        "score",
        input,
        ...common,
        "--shard",
        `${i}/3`,
        "--out",
        out,
        "--cache-dir",
        join(dir, `c${i}`),
      ]);
      assert.match(note, new RegExp(`shard ${i}/3: \\d+ of 24 rows`));
      shardFiles.push(out);
    }
    // The shards split the rows: each row in exactly one, duplicates of a text in the same one.
    const rowsOf = await Promise.all(
      shardFiles.map(async (f) =>
        (await Deno.readTextFile(f)).trim().split("\n").map((l) => JSON.parse(l).row as number)
      ),
    );
    assert.deepEqual(rowsOf.flat().sort((a, b) => a - b), TEXTS.map((_, i) => i));
    assert.ok(rowsOf.every((rs) => rs.length > 0 && rs.length < 24));
    const shardOfRow = (r: number) => rowsOf.findIndex((rs) => rs.includes(r));
    assert.equal(shardOfRow(3), shardOfRow(19));
    assert.equal(shardOfRow(18), shardOfRow(23));

    // Merged in any order of the shard files, with the shards' caches.
    const merged = join(dir, "merged.jsonl");
    const note = await ok([
      "merge-scores",
      input,
      shardFiles[2],
      shardFiles[0],
      shardFiles[1],
      "--out",
      merged,
      ...[1, 2, 3].flatMap((i) => ["--cache-from", join(dir, `c${i}`)]),
      "--cache-dir",
      join(dir, "cm"),
    ]);
    assert.match(note, /24 rows from 3 shard outputs, 22 PLT cache records added/);
    assert.equal(
      await Deno.readTextFile(merged),
      await Deno.readTextFile(join(dir, "single.jsonl")),
    );
    // CSV too, against a single run's CSV.
    await ok([
      "score",
      input,
      ...common,
      "--format",
      "csv",
      "--out",
      join(dir, "single.csv"),
      "--cache-dir",
      join(dir, "c0"),
    ]);
    await ok([
      "merge-scores",
      input,
      ...shardFiles,
      "--format",
      "csv",
      "--out",
      join(dir, "merged.csv"),
    ]);
    assert.equal(
      await Deno.readTextFile(join(dir, "merged.csv")),
      await Deno.readTextFile(join(dir, "single.csv")),
    );
    // The merged cache answers every row: a later run scores nothing.
    const again = await ok([
      "score",
      input,
      ...common,
      "--out",
      join(dir, "again.jsonl"),
      "--cache-dir",
      join(dir, "cm"),
    ]);
    assert.match(again, /24 rows, 24 from cache, 0 tokens scored/);
    assert.equal(
      await Deno.readTextFile(join(dir, "again.jsonl")),
      await Deno.readTextFile(merged),
    );

    // Wrong merges: one line each, exit 2, nothing written.
    const bad = join(dir, "bad.jsonl");
    const cases: [string[], string[]][] = [
      [[shardFiles[0], shardFiles[1]], [
        "of 24 rows of",
        "are in none of the shards",
        "every 'score --shard I/N'",
      ]],
      [[...shardFiles, shardFiles[1]], [`${shardFiles[1]}:1`, "is also in", "once"]],
      [[join(dir, "single.csv")], [
        `${join(dir, "single.csv")}:1`,
        "not a JSON line",
        "--format jsonl",
      ]],
      [[join(dir, "missing.jsonl")], [join(dir, "missing.jsonl")]],
      [[join(dir, "c1"), join(dir, "c2")], [join(dir, "c1"), "is a directory", "--cache-from"]],
    ];
    const other = join(dir, "other.csv");
    await Deno.writeTextFile(other, csv(TEXTS.map((t) => t + " (edited)")));
    for (const [files, parts] of cases) {
      assertCliError(
        await runCli(["merge-scores", input, ...files, "--out", bad]),
        "merge-scores",
        parts,
      );
    }
    assertCliError(
      await runCli(["merge-scores", other, ...shardFiles, "--out", bad]),
      "merge-scores",
      ["text differs from row", other],
    );
    // Shards scored with different --copies.
    const lines = (await Deno.readTextFile(shardFiles[0])).trim().split("\n");
    const k2 = lines.map((l) => l.replace('"scoring":"exact"', '"scoring":"groups-2"'));
    const k3 = lines.map((l) => l.replace('"scoring":"exact"', '"scoring":"groups-3"'));
    const mixed = join(dir, "mixed.jsonl");
    await Deno.writeTextFile(mixed, [k2[0], k3[1], ...lines.slice(2)].join("\n") + "\n");
    assertCliError(
      await runCli(["merge-scores", input, mixed, shardFiles[1], shardFiles[2], "--out", bad]),
      "merge-scores",
      ["groups-3", "groups-2", "same --copies"],
    );
    assert.ok(
      !(await Deno.stat(bad).then(() => true, () => false)),
      "no output from a failed merge",
    );
    for (const s of ["0/3", "4/3", "1/0", "2", "a/b"]) {
      assertCliError(
        await runCli(["score", input, ...common, "--shard", s, "--cache-dir", join(dir, "c0")]),
        "score",
        ["--shard", "I/N"],
      );
    }
  });
});
