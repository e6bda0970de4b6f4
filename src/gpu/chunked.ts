/**
 * A matrix too large for one storage binding (roberta-base's 50265x768 f32 word embedding is
 * 154 MiB; llvmpipe allows 128 MiB per binding), split by rows into tensors that each fit.
 * Kernels see one chunk at a time together with the chunk's first row.
 */
import type { GpuContext } from "./context.ts";
import type { GpuTensor } from "./tensor.ts";

export interface Chunk {
  tensor: GpuTensor; // (rows, cols)
  rowStart: number;
  rows: number;
}

export class ChunkedTensor {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly chunks: Chunk[],
    readonly label: string,
  ) {}

  get numel(): number {
    return this.rows * this.cols;
  }

  /**
   * Rows per chunk that fit one binding: a multiple of 64 where possible (aligned tiles), and
   * always of the storage-offset alignment in elements, so a (rows)-vector that runs alongside
   * the matrix (the vocabulary bias) can be bound as views at each chunk's first row.
   */
  static rowsPerChunk(ctx: GpuContext, cols: number): number {
    const fit = Math.floor(ctx.maxBindingBytes / (cols * 4));
    const align = ctx.limits.minStorageBufferOffsetAlignment / 4;
    const step = fit >= 128 ? Math.max(64, align) : align;
    if (fit < step) {
      throw new Error(
        `${step} rows of ${cols} f32 values do not fit one storage binding of ${ctx.maxBindingBytes} bytes`,
      );
    }
    return fit - (fit % step);
  }

  static zeros(ctx: GpuContext, rows: number, cols: number, label = "chunked"): ChunkedTensor {
    const per = ChunkedTensor.rowsPerChunk(ctx, cols);
    const chunks: Chunk[] = [];
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r);
      chunks.push({
        tensor: ctx.zeros([n, cols], `${label}[${r}:${r + n}]`),
        rowStart: r,
        rows: n,
      });
    }
    return new ChunkedTensor(rows, cols, chunks, label);
  }

  static upload(
    ctx: GpuContext,
    data: Float32Array,
    rows: number,
    cols: number,
    label = "chunked",
  ): ChunkedTensor {
    if (data.length !== rows * cols) {
      throw new Error(`${label}: ${data.length} values for ${rows}x${cols}`);
    }
    const per = ChunkedTensor.rowsPerChunk(ctx, cols);
    const chunks: Chunk[] = [];
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r);
      const part = data.subarray(r * cols, (r + n) * cols);
      chunks.push({
        tensor: ctx.upload(part, [n, cols], `${label}[${r}:${r + n}]`),
        rowStart: r,
        rows: n,
      });
    }
    return new ChunkedTensor(rows, cols, chunks, label);
  }

  async read(ctx: GpuContext): Promise<Float32Array> {
    const parts = await ctx.readMany(this.chunks.map((c) => c.tensor));
    const out = new Float32Array(this.numel);
    this.chunks.forEach((c, i) =>
      out.set(parts[i].subarray(0, c.rows * this.cols), c.rowStart * this.cols)
    );
    return out;
  }

  release(ctx: GpuContext): void {
    for (const c of this.chunks) ctx.release(c.tensor);
  }
}
