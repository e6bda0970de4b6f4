/**
 * A device tensor: f32 (or u32) elements in row-major order in a storage buffer, starting at
 * `byteOffset` (non-zero only for views, which must respect the adapter's
 * minStorageBufferOffsetAlignment).
 */
export class GpuTensor {
  readonly numel: number;
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly label: string,
    readonly byteOffset = 0,
  ) {
    this.numel = shape.reduce((a, b) => a * b, 1);
  }

  /** Bytes of the elements (the buffer may be larger: pool buckets round up). */
  get byteLength(): number {
    return Math.max(4, this.numel * 4);
  }

  /** A view of `shape` starting `elemOffset` elements into this tensor (shares the buffer). */
  view(
    elemOffset: number,
    shape: readonly number[],
    label = `${this.label}[${elemOffset}:]`,
  ): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (elemOffset < 0 || elemOffset + n > this.numel) {
      throw new Error(
        `view ${label}: [${elemOffset}, ${elemOffset + n}) outside ${this.numel} elements`,
      );
    }
    return new GpuTensor(this.buffer, shape, label, this.byteOffset + elemOffset * 4);
  }
}
