/** Progress lines: redrawn in place on a terminal, a line every few seconds in a log. */
import assert from "node:assert/strict";

const PROGRAM = `
import { note, Progress } from "${new URL("../src/util/progress.ts", import.meta.url).href}";
const p = new Progress("work", 400, "items");
const t0 = performance.now();
for (let i = 0; i <= 400; i++) {
  p.update(i);
  if (i === 200) note("halfway message");
  while (performance.now() - t0 < i * 5) { /* about 2 s in all */ }
}
p.finish(400);
`;

async function run(tty: boolean): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, PROGRAM);
  const cmd = `${Deno.execPath()} run -A ${file}`;
  // `script` gives the child a pseudo-terminal; its own output (the terminal's) is what we read.
  const r = tty
    ? await new Deno.Command("script", { args: ["-qec", cmd, "/dev/null"], stdout: "piped" })
      .output()
    : await new Deno.Command(Deno.execPath(), { args: ["run", "-A", file], stderr: "piped" })
      .output();
  await Deno.remove(file);
  return new TextDecoder().decode(tty ? r.stdout : r.stderr);
}

Deno.test({
  name: "progress on a terminal: one line redrawn in place, a note printed above it",
  ignore: (await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output()).code !== 0,
  fn: async () => {
    const out = (await run(true)).replaceAll("\r\n", "\n");
    const lines = out.split("\n").filter((l) => l !== "");
    // The note's line, then the progress line; redraws are carriage returns, not new lines.
    assert.equal(lines.length, 2, JSON.stringify(lines));
    assert.match(lines[0], /halfway message$/);
    assert.ok(lines[1].split("\r").length > 3, "the progress line was redrawn in place");
    assert.match(lines[1], /work: 400\/400 items \(100\.0%\), [\d.]+ items\/s, ETA 0s$/);
  },
});

Deno.test("progress in a log: a few lines, each complete, the last at 100%", async () => {
  const lines = (await run(false)).split("\n").filter((l) => l !== "");
  assert.ok(!lines.some((l) => l.includes("\r") || l.includes("\x1b")), "no terminal codes");
  // ~2 s of updates: the first one, the note and the final line (5 s between progress lines).
  assert.ok(lines.length <= 4, JSON.stringify(lines));
  assert.ok(lines.includes("halfway message"));
  assert.match(lines[lines.length - 1], /^work: 400\/400 items \(100\.0%\)/);
});
