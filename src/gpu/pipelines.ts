/**
 * Pipeline cache keyed by shader name, entry point and override constants. Creation runs inside
 * a validation error scope; a failure is reported with the shader's name at the next sync/read
 * (pipeline creation is synchronous so kernel wrappers stay encode-only).
 */
export class PipelineCache {
  private cache = new Map<string, GPUComputePipeline>();
  private checks: Promise<string | null>[] = [];
  /** Milliseconds spent creating each shader's pipelines (all entry points and overrides). */
  private compileTimes = new Map<string, number>();

  private sources: Record<string, string>;

  constructor(private device: GPUDevice, sources: Record<string, string>) {
    this.sources = { ...sources };
  }

  /**
   * Registers shaders that are not part of the product (bench/dev/'s kernels), under names that
   * start with `dev/`; registering a name again with the same source is a no-op.
   */
  addDevSources(sources: Record<`dev/${string}`, string>): void {
    for (const [name, code] of Object.entries(sources)) {
      const old = this.sources[name];
      if (old !== undefined && old !== code) throw new Error(`shader '${name}' registered twice`);
      this.sources[name] = code;
    }
  }

  get size(): number {
    return this.cache.size;
  }

  /** The WGSL source of a registered shader (undefined if none). */
  source(shader: string): string | undefined {
    return this.sources[shader];
  }

  /** Whether any pipeline of this shader was created. */
  has(shader: string): boolean {
    return this.compileTimes.has(shader);
  }

  /** Milliseconds spent creating this shader's pipelines so far (0 if none). */
  compileMs(shader: string): number {
    return this.compileTimes.get(shader) ?? 0;
  }

  get(shader: string, entryPoint: string, overrides: Record<string, number>): GPUComputePipeline {
    const keys = Object.keys(overrides).sort();
    const key = `${shader}|${entryPoint}|${keys.map((k) => `${k}=${overrides[k]}`).join(",")}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const code = this.sources[shader];
    if (code === undefined) {
      throw new Error(`unknown shader '${shader}' (not registered in src/shaders.ts)`);
    }
    const t0 = performance.now();
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: shader, code });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: "auto",
      compute: { module, entryPoint, constants: overrides },
    });
    this.checks.push(
      this.device.popErrorScope().then((err) =>
        err
          ? `shader '${shader}' (entry ${entryPoint}, overrides ${
            JSON.stringify(overrides)
          }): ${err.message}`
          : null
      ),
    );
    this.compileTimes.set(shader, this.compileMs(shader) + performance.now() - t0);
    this.cache.set(key, pipeline);
    return pipeline;
  }

  async throwIfErrors(): Promise<void> {
    if (!this.checks.length) return;
    const results = await Promise.all(this.checks);
    this.checks = [];
    const errors = results.filter((r): r is string => r !== null);
    if (errors.length) throw new Error(`pipeline creation failed: ${errors.join("\n")}`);
  }
}
