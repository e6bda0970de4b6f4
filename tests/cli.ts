/** Running the CLI (`deno run -A main.ts ...`) from tests, and checking its user-facing errors. */
import assert from "node:assert/strict";
import "./tune_env.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The tiny fixture models (tests/fixtures/tiny-bert, tiny-roberta). */
export const FIXTURE_MODELS = new URL("./fixtures/", import.meta.url).pathname;

/** Runs `l3mask ARGS` from source in the repository root; never throws on a failing exit. */
export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/**
 * Asserts a clean user error: exit code 2, and a last stderr line `l3mask <command>: ...` that
 * contains every string in `parts`, with no stack trace anywhere on stderr. Returns that line.
 */
export function assertCliError(r: CliResult, command: string, parts: string[]): string {
  const lines = r.stderr.split(/[\r\n]/).filter((l) => l.trim() !== "");
  const last = lines[lines.length - 1] ?? "";
  assert.equal(r.code, 2, `exit code ${r.code}; stderr:\n${r.stderr.slice(-1500)}`);
  assert.ok(
    !/^\s+at .*:\d+:\d+\)?$/m.test(r.stderr) && !/Uncaught|error: Uncaught/.test(r.stderr),
    `stack trace on stderr:\n${r.stderr.slice(-1500)}`,
  );
  assert.ok(last.startsWith(`l3mask ${command}: `), `last stderr line: ${last}`);
  for (const p of parts) assert.ok(last.includes(p), `'${p}' not in: ${last}`);
  return last;
}
