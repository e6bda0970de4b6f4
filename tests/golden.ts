/** Reads the PyTorch reference tensors written by tests/fixtures/make_golden.py. */
import { decodeBase64 } from "./b64.ts";

export interface GoldenTensor {
  shape: number[];
  data: Float32Array;
}

// deno-lint-ignore no-explicit-any
export type Golden = Record<string, any>;

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

export function tensor(t: { shape: number[]; b64: string }): GoldenTensor {
  const bytes = decodeBase64(t.b64);
  return {
    shape: t.shape,
    data: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
  };
}

export async function loadGolden(model: "tiny-bert" | "tiny-roberta"): Promise<Golden> {
  return JSON.parse(await Deno.readTextFile(`${FIXTURES}golden/${model}.json`));
}

/** Passes when max |a - e| <= rel * max |e|: the error relative to the tensor's scale. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}
