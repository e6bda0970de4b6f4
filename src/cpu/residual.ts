import type { Vec } from "./types.ts";

/** CPU reference: out = a + b. */
export function residualForward(out: Vec, a: Vec, b: Vec, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/** CPU reference: da += dout; db += dout. */
export function residualBackward(da: Vec, db: Vec, dout: Vec, n: number): void {
  for (let i = 0; i < n; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}
