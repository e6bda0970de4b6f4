import type { Vec } from "./types.ts";

export interface AdamWDims {
  n: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count. */
  step: number;
  /** (1) gradient multiplier (a clip factor). */
  gradScale?: Vec;
}

/**
 * CPU reference: one step of PyTorch's documented AdamW algorithm (amsgrad and maximize off),
 * in f64 arithmetic on whatever arrays it is given:
 *   theta <- theta - lr * lambda * theta
 *   m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g^2
 *   m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
 *   theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)
 */
export function adamwStep(param: Vec, grad: Vec, m: Vec, v: Vec, dims: AdamWDims): void {
  const { n, lr, beta1, beta2, eps, weightDecay, step, gradScale } = dims;
  const scale = gradScale ? gradScale[0] : 1;
  for (let i = 0; i < n; i++) {
    const g = grad[i] * scale;
    let theta = param[i];
    theta -= lr * weightDecay * theta;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    const mHat = mi / (1 - beta1 ** step);
    const vHat = vi / (1 - beta2 ** step);
    param[i] = theta - lr * mHat / (Math.sqrt(vHat) + eps);
    m[i] = mi;
    v[i] = vi;
  }
}
