/**
 * The single binary stays lean: `deno task compile` (its exact arguments, read from deno.json)
 * embeds code, shaders and the shipped model, and none of the npm data sets (SpamAssassin, the
 * pretraining corpora), which commands read where they are installed (src/vocab/corpora.ts).
 *
 * deno compile cannot download its runtime (denort) here; DENORT_BIN set to a tiny executable
 * stands in for it, so the output is that executable plus the payload, whose size is measured.
 * Also `deno task compile-size`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

/** The payload limit, in MiB (the unit deno compile's summary calls MB). */
const LIMIT_MIB = 30;

const ROOT = new URL("../", import.meta.url).pathname;

/** `deno task compile`'s arguments, with the output redirected to `out`. */
async function compileArgs(out: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const task: string = config.tasks.compile;
  const words = task.trim().split(/\s+/);
  assert.equal(words[0], "deno", `the compile task runs deno: ${task}`);
  assert.ok(!/["'&|;]/.test(task), `the compile task is one plain command: ${task}`);
  const o = words.indexOf("-o");
  assert.ok(o > 0, `the compile task names its output with -o: ${task}`);
  words[o + 1] = out;
  return words.slice(1);
}

/** A small executable to stand in for the runtime, and its size. */
async function standInRuntime(): Promise<{ path: string; bytes: number }> {
  for (const path of ["/bin/true", "/usr/bin/true"]) {
    const st = await Deno.stat(path).catch(() => null);
    if (st?.isFile) return { path, bytes: st.size };
  }
  return { path: Deno.execPath(), bytes: (await Deno.stat(Deno.execPath())).size };
}

Deno.test({
  name: `compile: the binary's payload (code, shaders, shipped model) is at most ${LIMIT_MIB} MiB`,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "l3mask-compile-" });
    try {
      const out = join(dir, "l3mask");
      const runtime = await standInRuntime();
      const r = await new Deno.Command(Deno.execPath(), {
        args: await compileArgs(out),
        cwd: ROOT,
        env: { DENORT_BIN: runtime.path, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.ok(r.success, `deno compile failed:\n${log.slice(-3000)}`);
      const payload = (await Deno.stat(out)).size - runtime.bytes;
      const mib = payload / 2 ** 20;
      const files = /Files:\s*([\d.]+\s*\w+)/.exec(log)?.[1] ?? "?";
      console.log(
        `compile payload: ${mib.toFixed(2)} MiB (binary minus the ${runtime.bytes}-byte ` +
          `stand-in runtime ${runtime.path}; deno compile's "Files:" ${files})`,
      );
      // What the binary must carry, and what it must not.
      for (const want of ["model.safetensors", "tokenizer.json", "shaders", "main.ts"]) {
        assert.ok(log.includes(want), `'${want}' is not among the embedded files:\n${log}`);
      }
      assert.ok(!/datasets-/.test(log), `an npm data set is embedded:\n${log}`);
      assert.ok(
        mib <= LIMIT_MIB,
        `the payload is ${mib.toFixed(2)} MiB, over ${LIMIT_MIB} MiB; embedded files:\n${log}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
