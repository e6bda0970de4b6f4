/**
 * What every part of the encoder (encoder_layer.ts, encoder_heads.ts, encoder.ts) shares: the
 * backend, the dimensions, and dropout, whose mask is a function of (seed, site).
 */
import { siteSeed } from "../random/streams.ts";
import type { Backend, LinearDims } from "./backend.ts";
import { headSize, type ModelConfig } from "./config.ts";
import type { LinearParams, NormParams } from "./encoder_params.ts";

/** The part of ForwardOptions dropout reads. */
export interface DropoutDraw {
  train: boolean;
  seed: number;
}

/**
 * Dropout sites, each its own mask stream: 0 the embeddings; per layer i the attention
 * probabilities (1 + 3i), the attention output (2 + 3i) and the FFN output (3 + 3i); then the
 * classifier's input (1 + 3L) and pooled vector (2 + 3L).
 */
export interface LayerSites {
  probs: number;
  attnOut: number;
  ffnOut: number;
}

export const EMBEDDING_SITE = 0;

export function layerSites(i: number): LayerSites {
  const site = 1 + i * 3;
  return { probs: site, attnOut: site + 1, ffnOut: site + 2 };
}

export function classifierSite(cfg: ModelConfig): number {
  return 1 + cfg.layers * 3;
}

export class Ops<T, W> {
  readonly C: number;
  readonly HS: number;
  readonly NH: number;
  readonly I: number;
  readonly eps: number;
  /** Dropout probability of the embeddings, sub-layer outputs and classifier inputs. */
  readonly pHidden: number;

  constructor(readonly be: Backend<T, W>, readonly cfg: ModelConfig) {
    this.C = cfg.hidden;
    this.HS = headSize(cfg);
    this.NH = cfg.heads;
    this.I = cfg.intermediate;
    this.eps = cfg.layerNormEps;
    this.pHidden = cfg.hiddenDropout;
  }

  /** out = dropout(inp); the identity (still a dispatch) when dropout is off. */
  dropout(out: T, inp: T, n: number, p: number, opts: DropoutDraw, site: number): void {
    this.be.dropoutForward(out, inp, {
      n,
      p: opts.train ? p : 0,
      seed: siteSeed(opts.seed, site),
      offset: 0,
    });
  }

  /**
   * Dropout of `inp` into a new tensor, or `inp` itself when dropout is off (evaluation and
   * scoring): no copy. Callers release the result only when it is not `inp`.
   */
  dropped(inp: T, shape: number[], p: number, opts: DropoutDraw, site: number): T {
    if (!opts.train || p === 0) return inp;
    const out = this.be.empty(shape, "drop");
    this.dropout(out, inp, shape.reduce((a, b) => a * b, 1), p, opts, site);
    return out;
  }

  dropoutBack(dinp: T, dout: T, n: number, p: number, opts: DropoutDraw, site: number): void {
    this.be.dropoutBackward(dinp, dout, {
      n,
      p: opts.train ? p : 0,
      seed: siteSeed(opts.seed, site),
      offset: 0,
    });
  }

  /** Backward of a dense layer: dinp = dout · w (`accumulate`: dinp +=); grad.w, grad.b +=. */
  linearBack(
    dinp: T,
    dout: T,
    inp: T,
    w: T,
    grad: LinearParams<T>,
    dims: LinearDims,
    accumulate = false,
  ): void {
    this.be.linearBackwardInput(dinp, dout, w, accumulate ? { ...dims, accumulate } : dims);
    this.be.linearBackwardWeight(grad.w, grad.b, dout, inp, dims);
  }

  /**
   * Backward of a LayerNorm of `inp` ((N, C)) with scale `w`: a new input gradient of `shape`;
   * grad.w, grad.b +=. Consumes (releases) `dout`.
   */
  normBack(
    shape: number[],
    label: string,
    dout: T,
    inp: T,
    w: T,
    grad: NormParams<T>,
    stats: { mean: T; rstd: T; N: number },
  ): T {
    const dinp = this.be.empty(shape, label);
    this.be.layernormBackward(dinp, grad.w, grad.b, dout, inp, w, stats.mean, stats.rstd, {
      N: stats.N,
      C: this.C,
    });
    this.be.release(dout);
    return dinp;
  }
}
