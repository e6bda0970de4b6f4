/** A device tensor: one storage buffer holding f32 (or u32) elements in row-major order. */
export class GpuTensor {
  readonly numel: number;
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly label: string,
  ) {
    this.numel = shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes of the elements (the buffer may be larger: pool buckets round up). */
  get byteLength(): number {
    return Math.max(4, this.numel * 4);
  }
}
