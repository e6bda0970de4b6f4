/**
 * Shared helpers of the model-level benchmarks (forward, score, train): flags, the PyTorch peer
 * (spawned as `/usr/bin/python3 bench/peers/<name>.py`, one JSON object on stdout), medians and
 * a plain-text table. Ratios are l3mask / peer in speed (higher = l3mask faster).
 */
import type { GpuContext } from "../src/gpu/context.ts";
import type { TrainerSettings } from "../src/train/trainer.ts";

/** Debian's system python: the only one with PyTorch on the machines these benches target. */
export const PEER_PYTHON = Deno.env.get("L3MASK_PEER_PYTHON") ?? "/usr/bin/python3";

const BENCH_DIR = new URL(".", import.meta.url).pathname;

/** Repository root (bench/..), with a trailing slash. */
export const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The shared data sets (SPEC §6: read where they are, never copied into the repository):
 * ../shared/datasets beside the checkout, or `L3MASK_DATASETS` where a machine has them elsewhere
 * (a device machine receives only the checkout; see bench/device_check.sh). No trailing slash.
 */
export const DATASETS = (Deno.env.get("L3MASK_DATASETS") ?? `${ROOT}../shared/datasets`).replace(
  /\/+$/,
  "",
);

/** A flag's text: `--name value` or `--name=value` (for values that start with a dash). */
function flagText(name: string): string | undefined {
  const eq = Deno.args.find((a) => a.startsWith(`--${name}=`));
  if (eq !== undefined) return eq.slice(name.length + 3);
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Deno.args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`--${name} needs a value`);
  return v;
}

/** A positive-integer flag `--name N`, or its fallback. */
export function intFlag(name: string, fallback: number): number {
  const t = flagText(name);
  if (t === undefined) return fallback;
  const v = Number(t);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

/** A string flag `--name value` (or `--name=value`), or its fallback. */
export function strFlag(name: string, fallback: string): string {
  return flagText(name) ?? fallback;
}

export function boolFlag(name: string): boolean {
  return Deno.args.includes(`--${name}`);
}

export function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** The adapter line every bench prints, so numbers are never read without the device. */
export function adapterLine(ctx: GpuContext): string {
  const a = ctx.adapter;
  const fallback = a.isFallback ? ", fallback/software" : "";
  return `adapter: ${a.description} (${a.vendor || "-"}/${a.architecture || "-"}${fallback}); ` +
    `max storage binding ${mib(ctx.maxBindingBytes)}`;
}

export type PeerResult<T> = { ok: true; value: T; stderr: string } | { ok: false; reason: string };

/**
 * Run `bench/peers/<script>` under the system python with `args`, `input` on stdin (JSON), and
 * parse the last line of stdout as JSON. A missing python or torch (exit code 3 from the peer,
 * or an ImportError) is reported as unavailable rather than thrown, so l3mask's numbers still
 * print.
 */
export async function runPeer<T>(
  script: string,
  args: string[],
  input?: unknown,
): Promise<PeerResult<T>> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PEER_PYTHON, {
      args: [`${BENCH_DIR}peers/${script}`, ...args],
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { ok: false, reason: `cannot start ${PEER_PYTHON}: ${(e as Error).message}` };
  }
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(input)));
    await w.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code === 3 || /No module named 'torch'/.test(stderr)) {
    return { ok: false, reason: `PyTorch is not importable by ${PEER_PYTHON}` };
  }
  if (out.code !== 0) {
    throw new Error(`peer ${script} failed (exit ${out.code}):\n${stderr.slice(-4000)}`);
  }
  const last = stdout.split("\n").pop() ?? "";
  try {
    return { ok: true, value: JSON.parse(last) as T, stderr };
  } catch {
    throw new Error(
      `peer ${script} printed no JSON on its last stdout line:\n${stdout.slice(-2000)}`,
    );
  }
}

/** l3mask / peer for a "higher is better" quantity, or for a time (lower is better). */
export function speedRatio(l3mask: number, peer: number, kind: "rate" | "time"): string {
  if (!Number.isFinite(l3mask) || !Number.isFinite(peer) || l3mask <= 0 || peer <= 0) return "-";
  const r = kind === "rate" ? l3mask / peer : peer / l3mask;
  return `${r.toFixed(r < 0.1 ? 3 : 2)}x`;
}

/** Print rows as an aligned table (first row the header). */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join("  ");
  console.log(line(rows[0]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows.slice(1)) console.log(line(r));
}

/**
 * The machine's load averages (1, 5, 15 min) from /proc/loadavg, printed before and after a
 * bench: on a small shared CPU another process's work skews both sides, the PyTorch peer's
 * OpenMP threads most of all.
 */
export function loadLine(): string {
  try {
    const [a, b, c] = Deno.readTextFileSync("/proc/loadavg").split(" ");
    return `load average ${a} ${b} ${c} (${navigator.hardwareConcurrency} CPUs)`;
  } catch {
    return `load average unknown (${navigator.hardwareConcurrency} CPUs)`;
  }
}

/** The kernel's peak resident set size of this process (VmHWM), bytes; NaN off Linux. */
export function peakRss(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Restart VmHWM at the current RSS (Linux >= 4.0: "5" to /proc/self/clear_refs), so peakRss()
 * afterwards is the peak of the work since this call. False where the kernel refuses.
 */
export function resetPeakRss(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** Resident set size of this process, bytes. */
export function rss(): number {
  return Deno.memoryUsage().rss;
}

/** Wall-clock seconds of an async function. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, (performance.now() - t0) / 1000];
}

/**
 * The trainer settings the step benchmarks use (train_bench, profile): SPEC §5's optimizers, RTM
 * masking, fixed task weights (or META-TARTAN's: its dev head trains on `devHead.examples`
 * examples), one micro-batch of B examples (and B MLM examples for mtl).
 */
export function benchTrainerSettings(
  mode: "stl" | "mtl",
  B: number,
  totalSteps: number,
  weighting: "fixed" | "meta" = "fixed",
): TrainerSettings {
  const group = { betas: [0.9, 0.98] as [number, number], eps: 1e-6, clipNorm: 1 };
  return {
    mode,
    masking: "rtm",
    weighting,
    seed: 0,
    batchSize: B,
    gradAccum: 1,
    mlmBatchSize: B,
    pbar: 0.15,
    encoder: { lr: 1e-4, weightDecay: 0.01, ...group },
    head: { lr: 1e-3, weightDecay: 0.1, ...group },
    warmupRatio: 0.06,
    totalSteps,
    metaLr: 1e-2,
    devHead: { steps: 10, lr: 1e-3, weightDecay: 0.1, tol: 1e-3, examples: 32 },
  };
}
