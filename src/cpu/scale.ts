import type { Vec } from "./types.ts";

/** CPU reference: y = alpha * x + beta * y (beta 0 overwrites y). */
export function scaleAccumulate(
  y: Vec,
  x: Vec,
  alpha: number,
  beta: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) y[i] = beta === 0 ? alpha * x[i] : alpha * x[i] + beta * y[i];
}
