/**
 * The run directory (src/run/run_dir.ts) without a device: opening policies, metrics.jsonl kept
 * to a resumed state, state/ round trip, predictions' format.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import { RunDir, writePredictions } from "../src/run/run_dir.ts";
import { withTempDir } from "./util.ts";

async function rejects(p: Promise<unknown>, part: string): Promise<void> {
  await assert.rejects(p, (e) => e instanceof UserError && e.message.includes(part));
}

Deno.test("run dir: a fresh run needs an empty directory or --overwrite of an earlier run", async () => {
  await withTempDir(async (dir) => {
    const other = join(dir, "other");
    await Deno.mkdir(other);
    await Deno.writeTextFile(join(other, "notes.txt"), "mine");
    await rejects(RunDir.open(other, { resume: false, policy: "fresh" }), "holds no l3mask run");
    // A shared run (pretrain, adapt) writes next to what is there.
    await RunDir.open(other, { resume: false, policy: "shared" });
    const run = join(dir, "run");
    await Deno.mkdir(run);
    await Deno.writeTextFile(join(run, "config.yaml"), "seed: 1\n");
    await Deno.writeTextFile(join(run, "keep.txt"), "not the run's");
    await rejects(RunDir.open(run, { resume: false, policy: "fresh" }), "--overwrite");
    await RunDir.open(run, { resume: false, overwrite: true, policy: "fresh" });
    const left = [...Deno.readDirSync(run)].map((e) => e.name);
    assert.deepEqual(left, ["keep.txt"]);
    await rejects(
      RunDir.open(join(dir, "none"), { resume: true, policy: "fresh" }),
      "no such run directory",
    );
  });
});

Deno.test("run dir: metrics, state and predictions round trip", async () => {
  await withTempDir(async (dir) => {
    const run = await RunDir.open<{ step: number }>(dir, { resume: false, policy: "fresh" });
    await run.openMetrics();
    for (let step = 1; step <= 3; step++) await run.log({ step });
    run.closeMetrics();
    const params = new Map([["w", new Float32Array([1, 2, 3])]]);
    const m = new Map([["w", new Float32Array([0.5, 0, 0])]]);
    const v = new Map([["w", new Float32Array([0, 0.25, 0])]]);
    await run.saveState({
      readParams: () => Promise.resolve(params),
      readMoments: () => Promise.resolve({ m, v }),
    }, {
      step: 2,
    });
    assert.deepEqual(await RunDir.peekState(dir), { step: 2 });
    // A resumed run keeps the records its state had seen.
    const again = await RunDir.open<{ step: number }>(dir, { resume: true, policy: "fresh" });
    const saved = await again.loadState<{ step: number }>();
    assert.ok(saved);
    assert.deepEqual([...saved.params.get("w")!], [1, 2, 3]);
    assert.deepEqual([...saved.moments.v.get("w")!], [0, 0.25, 0]);
    await again.openMetrics((lines) => lines.filter((l) => JSON.parse(l).step <= saved.state.step));
    assert.deepEqual(again.records, [{ step: 1 }, { step: 2 }]);
    await again.log({ step: 3 });
    again.closeMetrics();
    const lines = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).trim().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l).step), [1, 2, 3]);
    const path = join(dir, "p.jsonl");
    const probs = new Float32Array([0.25, 0.75, 0.5, 0.5]);
    await writePredictions(path, [{ row: 7, label: 1 }, { row: 9, label: -1 }], probs, ["a", "b"]);
    assert.deepEqual((await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l)), [
      { row: 7, label: "b", pred: "b", probs: [0.25, 0.75] },
      { row: 9, label: null, pred: "a", probs: [0.5, 0.5] },
    ]);
  });
});
