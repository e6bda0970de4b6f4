/**
 * Buffer pool: storage buffers bucketed by size (rounded up to a power of two above 4 KiB, so
 * reuse is likely). A released buffer becomes reusable only after the next submit, so work that
 * was recorded against it still sees the old contents.
 */
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function bucketSize(bytes: number): number {
  if (bytes <= 4096) return Math.ceil(bytes / 256) * 256;
  // Round up to 1/8 steps between powers of two: at most 12.5% waste.
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 8;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private live = new Set<GPUBuffer>();
  /** Bytes currently allocated on the device by this pool (live + free). */
  allocatedBytes = 0;
  /** The most bytes ever allocated at once. */
  peakBytes = 0;

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.live.add(reused);
      return reused;
    }
    const buf = this.device.createBuffer({ label, size, usage: USAGE });
    this.allocatedBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.allocatedBytes);
    this.live.add(buf);
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) {
      throw new Error(`buffer '${buf.label}' released twice or not from this pool`);
    }
    this.pending.push(buf);
  }

  /** Called after each submit: pending releases become reusable. */
  submitted(): void {
    for (const buf of this.pending) {
      const list = this.free.get(buf.size) ?? [];
      list.push(buf);
      this.free.set(buf.size, list);
    }
    this.pending = [];
  }

  /** Destroy every free buffer (live ones stay). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  destroy(): void {
    this.submitted();
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.allocatedBytes = 0;
  }
}
