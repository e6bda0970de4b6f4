/** Shared test helpers: seeded data, tolerance checks with useful messages, finite differences. */
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import type { Vec } from "../src/cpu/types.ts";

import { UserError } from "../src/errors.ts";
import "./tune_env.ts";

/** mulberry32: a small seeded generator, so every test input is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** n values ~ N(0, std^2) (Box-Muller). */
export function randn(n: number, seed: number, std = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** n integers uniform in [0, hi). */
export function randInt(n: number, seed: number, hi: number): Uint32Array {
  const r = rng(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * hi);
  return out;
}

export interface CloseOpts {
  atol?: number;
  rtol?: number;
  label?: string;
}

/**
 * Passes when |a - e| <= atol + rtol * |e| everywhere. The failure message names the worst
 * index, both values and the share of the tolerance it used, and the count of bad elements.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: CloseOpts = {},
): void {
  const { atol = 1e-5, rtol = 1e-4, label = "tensor" } = opts;
  if (actual.length < expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected at least ${expected.length}`);
  }
  let worst = -1;
  let worstShare = 0;
  let bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    const share = diff === 0 ? 0 : diff / (atol + rtol * Math.abs(e));
    if (!(share <= 1)) bad++;
    if (!(share <= worstShare) || Number.isNaN(share)) {
      if (Number.isNaN(share)) {
        worst = i;
        worstShare = Infinity;
        break;
      }
      worstShare = share;
      worst = i;
    }
  }
  if (bad > 0 || worstShare > 1) {
    throw new Error(
      `${label}: ${bad} of ${expected.length} outside atol=${atol} rtol=${rtol}; worst at [${worst}]: ` +
        `got ${actual[worst]}, expected ${expected[worst]} (${
          worstShare.toFixed(2)
        }x the tolerance)`,
    );
  }
}

/**
 * Central finite differences of a scalar function f(x) at sampled coordinates of x (in f64),
 * compared with an analytic gradient.
 */
export function checkGradient(
  f: (x: Float64Array) => number,
  x: Float64Array,
  grad: ArrayLike<number>,
  opts: {
    h?: number;
    atol?: number;
    rtol?: number;
    samples?: number;
    seed?: number;
    label?: string;
  } = {},
): void {
  const { h = 1e-5, atol = 1e-6, rtol = 1e-4, samples = 64, seed = 7, label = "gradient" } = opts;
  const r = rng(seed);
  const idx = x.length <= samples
    ? [...Array(x.length).keys()]
    : Array.from({ length: samples }, () => Math.floor(r() * x.length));
  const numeric: number[] = [];
  const analytic: number[] = [];
  for (const i of idx) {
    const old = x[i];
    x[i] = old + h;
    const fp = f(x);
    x[i] = old - h;
    const fm = f(x);
    x[i] = old;
    numeric.push((fp - fm) / (2 * h));
    analytic.push(grad[i]);
  }
  assertClose(analytic, numeric, { atol, rtol, label: `${label} vs finite differences` });
}

/** Sum of out * weights: a scalar loss whose gradient w.r.t. out is `weights`. */
export function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

let shared: Promise<GpuContext> | null = null;

/** One device for every test in the process. */
export function gpu(): Promise<GpuContext> {
  shared ??= createContext();
  return shared;
}

/** A Deno test that uses the GPU (resource/op sanitizers off: the device outlives tests). */
export function gpuTest(name: string, fn: (ctx: GpuContext) => Promise<void> | void): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => await fn(await gpu()),
  });
}

/** Runs `fn` in a new temporary directory (named `prefix…`), removed afterwards whatever happens. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "l3mask-test-",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `fn` throws a one-line UserError whose message contains every string in `includes`. */
export async function assertUserError(fn: () => unknown, includes: string[]): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${e}`);
    if (e.message.includes("\n")) throw new Error(`error message spans lines: ${e.message}`);
    for (const s of includes) {
      if (!e.message.includes(s)) throw new Error(`error message "${e.message}" lacks "${s}"`);
    }
    return;
  }
  throw new Error("expected a UserError, nothing was thrown");
}
