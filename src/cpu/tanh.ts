import type { Vec } from "./types.ts";

/** CPU reference: out = tanh(inp). */
export function tanhForward(out: Vec, inp: Vec, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.tanh(inp[i]);
}

/** CPU reference: dinp = dout * (1 - out^2), from the saved output. */
export function tanhBackward(dinp: Vec, dout: Vec, out: Vec, n: number): void {
  for (let i = 0; i < n; i++) dinp[i] = dout[i] * (1 - out[i] * out[i]);
}
