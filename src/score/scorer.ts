/**
 * Token-wise pseudo-likelihood on the GPU (SPEC §2): masked copies of many texts batched by
 * length under a token budget, one forward per batch with the vocabulary projection and
 * log-softmax at each copy's target rows only. Deterministic (dropout off), and a copy's values
 * do not depend on the copies it shares a batch with. Exact PLL-word-l2r by default; with
 * `copies: K`, the word-group approximation of src/score/copies.ts.
 */
import type { GpuContext } from "../gpu/context.ts";
import { Encoder } from "../model/encoder.ts";
import { GpuBackend } from "../model/gpu_backend.ts";
import type { ModelConfig } from "../model/config.ts";
import { gpuStore, type HostParams, releaseGpuStore } from "../model/weights.ts";
import { type CopyBatch, planBatches } from "./batches.ts";
import { type MaskedCopy, textCopies, textScheme, writeCopy } from "./copies.ts";
import { matmulPolicy } from "../kernels/linear.ts";

export interface TokenizedText {
  ids: number[];
  words: (number | null)[];
  special: boolean[];
}

export interface ScoreOptions {
  /** Tokens (copies x padded length) per forward; default 8192. */
  budgetTokens?: number;
  /** Word groups per text (src/score/copies.ts), or "exact" (the default). */
  copies?: number | "exact";
  /** Called once, before the first batch, with the number of copies the texts make. */
  onPlan?: (copies: number) => void;
  /** Called after each batch with the copies done so far and the tokens they hold. */
  onBatch?: (
    done: { copies: number; tokens: number; texts: number[]; logp: Float64Array[] },
  ) => void | Promise<void>;
}

export class PltScorer {
  private readonly model: Encoder<
    import("../gpu/tensor.ts").GpuTensor,
    import("../gpu/chunked.ts").ChunkedTensor
  >;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: ModelConfig,
    params: HostParams,
    readonly ids: { mask: number; pad: number },
  ) {
    const store = gpuStore(ctx, cfg, params);
    this.model = new Encoder(new GpuBackend(ctx), cfg, store, { mlm: true, classifier: false });
  }

  /** Most targets per batch whose (targets, V) logits fit one storage binding. */
  get maxRows(): number {
    return Math.max(1, Math.floor(this.ctx.maxBindingBytes / (4 * this.cfg.vocabSize)));
  }

  /**
   * Log-probability of each scored token of each text (NaN at unscored positions). Texts that
   * finish are reported through onBatch so callers can checkpoint them.
   */
  async score(texts: TokenizedText[], opts: ScoreOptions = {}): Promise<Float64Array[]> {
    const copies: MaskedCopy[] = [];
    const remaining = texts.map(() => 0);
    texts.forEach((t, i) => {
      const scheme = textScheme(t.words, t.special, opts.copies ?? "exact");
      const made = textCopies(t.words, t.special, scheme);
      for (const c of made) copies.push({ text: i, ...c });
      remaining[i] = made.length;
    });
    opts.onPlan?.(copies.length);
    const out = texts.map((t) => new Float64Array(t.ids.length).fill(NaN));
    const lengths = texts.map((t) => t.ids.length);
    const batches = planBatches(copies, lengths, {
      budgetTokens: opts.budgetTokens ?? 8192,
      maxRows: this.maxRows,
    });
    // The encoder's linear products over every batch (4 C^2 + 2 C I per token and layer): lets
    // the matmul policy skip a slab compile the run would not earn back.
    const { hidden: C, intermediate: I, layers: L } = this.cfg;
    const rows = batches.reduce((n, b) => n + b.copies.length * b.T, 0);
    matmulPolicy(this.ctx).expect(rows * L * (4 * C * C + 2 * C * I));
    let done = 0, tokens = 0;
    // Two batches in flight: batch i + 1 is recorded and submitted before batch i's results are
    // awaited, so the device never waits for the host between batches.
    const launched = batches.map(() => null as Promise<Float32Array> | null);
    const launch = (i: number) => {
      if (i >= batches.length) return;
      launched[i] = this.runBatch(batches[i], texts);
      launched[i]!.catch(() => {}); // awaited below; a failure is thrown there, not unhandled
    };
    launch(0);
    for (const [i, batch] of batches.entries()) {
      launch(i + 1);
      const logp = await launched[i]!;
      launched[i] = null;
      await matmulPolicy(this.ctx).tuneIfPending();
      const finished: number[] = [];
      let r = 0;
      for (const c of batch.copies) {
        for (const pos of c.targets) out[c.text][pos] = logp[r++];
        if (--remaining[c.text] === 0) finished.push(c.text);
      }
      done += batch.copies.length;
      tokens += batch.copies.reduce((s, c) => s + lengths[c.text], 0);
      await opts.onBatch?.({ copies: done, tokens, texts: finished, logp: out });
    }
    return out;
  }

  /** Records and submits one batch now; the promise resolves when its results are read. */
  private runBatch(batch: CopyBatch, texts: TokenizedText[]): Promise<Float32Array> {
    const B = batch.copies.length, T = batch.T;
    const R = batch.copies.reduce((n, c) => n + c.targets.length, 0);
    const ids = new Uint32Array(B * T);
    const mask = new Uint32Array(B * T);
    const rows = new Uint32Array(R);
    const targets = new Uint32Array(R);
    let r = 0;
    batch.copies.forEach((c, b) => {
      const t = texts[c.text];
      writeCopy(ids.subarray(b * T, (b + 1) * T), t.ids, c.masked, this.ids.mask, this.ids.pad);
      mask.fill(1, b * T, b * T + t.ids.length);
      for (const pos of c.targets) {
        rows[r] = b * T + pos;
        targets[r++] = t.ids[pos];
      }
    });
    const pass = this.model.forward({ B, T, ids, mask }, {
      mlm: { rows, targets },
      train: false,
      seed: 0,
      inference: true,
    });
    const read = this.ctx.read(pass.mlm!.logp);
    this.model.releasePass(pass);
    return read.then((logp) => logp.slice(0, R));
  }

  release(): void {
    releaseGpuStore(this.ctx, this.model.params);
  }
}
