/**
 * Which kernel runs the large linear products on this adapter: "slab" (linear_slab, built for
 * llvmpipe's SIMD-across-invocations; 10-20 s of compile there) or "tile" (linear_tile, the
 * GPU-style shared-memory tile; compiles in well under a second). Both sum every output in the
 * same order, so the choice changes speed only, never a result bit; that is what lets a run start
 * on "tile" and move to "slab" midway.
 *
 * The choice, in order: a forced variant (`--matmul`, L3MASK_MATMUL); the measured winner for this
 * adapter and shape class from the tune cache; otherwise a prior (software adapters: slab, GPUs:
 * tile). A winner that still needs its compile is bought when the run's remaining work (`expect`:
 * score and train say how much) saves more than the compile costs, both measured; without those
 * figures ski-rental style: products run on "tile" until the work they did would have paid the
 * compile (measured when the cache has it), then the winner compiles. GL llvmpipe skips this once
 * Mesa's on-disk cache holds slab. Measurement ("tuning") happens when `doctor --tune` asks, or
 * at a run's first sync point (`tuneIfPending`) after a large product of an unmeasured shape
 * class ran: at once on a GPU, and on a software adapter only once the run has compiled slab
 * anyway (short runs never pay a compile or a measurement).
 *
 * The cache: one JSON file ($L3MASK_TUNE_CACHE, else $XDG_CACHE_HOME/l3mask/tune.json, else
 * ~/.cache/l3mask/tune.json) keyed by adapter, driver description, limits (the backend), Deno
 * (wgpu) version and a hash of both kernels' sources; written to a temporary file and renamed
 * (concurrent runs lose at most one another's fresh entry, never corrupt the file).
 */
import type { GpuContext } from "../gpu/context.ts";
import { SHADERS } from "../shaders.ts";

export const MATMUL_VARIANTS = ["slab", "tile"] as const;
export type MatmulVariant = typeof MATMUL_VARIANTS[number];

/** One shape class's measurement: GFLOP/s of each variant on its forward product. */
export interface TunedShape {
  gflops: Record<MatmulVariant, number>;
  best: MatmulVariant;
}

/** What the cache holds for one adapter. */
export interface TuneRecord {
  /** Seconds each variant's pipeline took to compile (measured once). */
  compileS: Partial<Record<MatmulVariant, number>>;
  /** By shape class (`K x N`, see shapeClass). */
  shapes: Record<string, TunedShape>;
}

interface TuneFile {
  version: 1;
  adapters: Record<string, TuneRecord>;
}

/**
 * Without a measured compile time: multiply-adds run on "tile" before a slab compile is bought
 * (about 10 s of tile work on llvmpipe, where the compile takes 10-20 s).
 */
const PRIOR_TILE_MACS = 2 ** 34;
/**
 * Rows of the forward product timed per shape class: 2^30 multiply-adds (a second or two of tile
 * on a CPU), within 1024..8192 rows (the batches runs use: slab's 512-row workgroups need many).
 */
const tuneRows = (K: number, N: number) =>
  Math.min(8192, Math.max(1024, Math.round(2 ** 30 / (K * N) / 64) * 64));

export function tuneCachePath(): string | null {
  const env = (k: string) => {
    try {
      return Deno.env.get(k) || undefined;
    } catch {
      return undefined;
    }
  };
  const explicit = env("L3MASK_TUNE_CACHE");
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/l3mask/tune.json`;
  const home = env("HOME");
  return home ? `${home}/.cache/l3mask/tune.json` : null;
}

/** The forced variant from L3MASK_MATMUL, checked; null when unset. */
export function forcedFromEnv(): MatmulVariant | null {
  let v: string | undefined;
  try {
    v = Deno.env.get("L3MASK_MATMUL") || undefined;
  } catch {
    return null;
  }
  if (v === undefined) return null;
  if (!(MATMUL_VARIANTS as readonly string[]).includes(v)) {
    throw new Error(`L3MASK_MATMUL='${v}' is not a matmul variant (${MATMUL_VARIANTS.join(", ")})`);
  }
  return v as MatmulVariant;
}

/** Shape class of a product: its operand widths (rows vary with the batch; they do not count). */
export const shapeClass = (K: number, N: number) => `${K}x${N}`;

function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

export class MatmulPolicy {
  /** Shape classes whose large products ran without a measurement; tuned at the next sync point. */
  readonly pending = new Map<string, { K: number; N: number }>();
  private tileMacs = 0;
  private tuningFailed = false;
  /** Large-product multiply-adds the run still expects (`expect`), or null when it did not say. */
  private remaining: number | null = null;
  private loaded = false;
  private record: TuneRecord = { compileS: {}, shapes: {} };

  constructor(
    readonly ctx: GpuContext,
    readonly forced: MatmulVariant | null,
    readonly slabSupported: boolean,
    private readonly path: string | null = tuneCachePath(),
  ) {}

  /** The cache key of this adapter: its identity, driver description, runtime and kernels. */
  get adapterKey(): string {
    const a = this.ctx.adapter;
    const src = hash(SHADERS.linear_slab + SHADERS.linear_tile);
    // The limits tell backends of one driver apart (llvmpipe: 32 storage buffers through Vulkan,
    // 16 through GL), which adapter.info does not.
    const l = this.ctx.device.limits;
    const limits = `${l.maxStorageBuffersPerShaderStage}/${l.maxComputeWorkgroupStorageSize}`;
    return `${a.vendor}|${a.architecture}|${a.description}|${limits}|deno ${Deno.version.deno}|${src}`;
  }

  /** The measurements this adapter has (after the cache file was read). */
  get tuned(): TuneRecord {
    this.load();
    return this.record;
  }

  /** The variant for one product of `macs` multiply-adds of shape class (K, N). */
  choose(K: number, N: number, macs: number): MatmulVariant {
    if (this.forced) return this.forced;
    if (!this.slabSupported) return "tile";
    this.load();
    const cls = shapeClass(K, N);
    const tuned = this.record.shapes[cls];
    const best = tuned?.best ?? (this.prefersSlab ? "slab" : "tile");
    if (best === "tile" || this.ctx.pipelines.has("linear_slab") || this.cachesCompiles) {
      // Measure at the next sync point: GPUs at once (compiles are cheap there), software
      // adapters only once slab is compiled anyway.
      if (!tuned) this.pending.set(cls, { K, N });
      return best;
    }
    const compile = this.record.compileS.slab;
    const tileRate = tuned ? tuned.gflops.tile * 5e8 : 0; // multiply-adds per second
    const budget = compile && tileRate ? compile * tileRate : PRIOR_TILE_MACS;
    if (this.remaining !== null && compile && tuned) {
      // The run said how much work remains and the adapter is measured: compile now if it pays.
      this.remaining = Math.max(0, this.remaining - macs);
      const saved = this.remaining * (1 / tileRate - 1 / (tuned.gflops.slab * 5e8));
      if (saved <= compile) return "tile";
    } else if (this.tileMacs + macs <= budget) {
      this.tileMacs += macs;
      return "tile";
    }
    if (!tuned) this.pending.set(cls, { K, N });
    return "slab";
  }

  /**
   * Tells the policy how many more multiply-adds of large products the run expects (the scorer
   * knows its whole plan): with a measured adapter, slab is compiled only when the rest of the
   * run saves more than the compile costs.
   */
  expect(macs: number): void {
    this.remaining = (this.remaining ?? 0) + macs;
  }

  /**
   * GL llvmpipe keeps Mesa's on-disk shader cache and compiles at first dispatch (where the compile
   * is not timed; cold, slab takes ~2 minutes through GL's GLSL front end): once this adapter has
   * compiled slab (the tune cache says so) and Mesa's cache is on, a slab compile is a cache hit,
   * so it is not rented around. Told from lavapipe by its limits (16 storage buffers per stage
   * through GL, 32 through Vulkan).
   */
  private get cachesCompiles(): boolean {
    const gl = /llvmpipe/i.test(this.ctx.adapter.description) &&
      this.ctx.device.limits.maxStorageBuffersPerShaderStage <= 16;
    let disabled = false;
    try {
      disabled = /^(1|true|yes)$/i.test(Deno.env.get("MESA_SHADER_CACHE_DISABLE") ?? "");
    } catch {
      // no env permission: assume Mesa's default (cache on)
    }
    return gl && !disabled && this.record.compileS.slab !== undefined;
  }

  /** Software adapters (llvmpipe, lavapipe, SwiftShader): slab's prior; GPUs: tile's. */
  private get prefersSlab(): boolean {
    const a = this.ctx.adapter;
    return a.isFallback || /llvmpipe|lavapipe|swiftshader|software/i.test(a.description);
  }

  /** Measures the pending shape classes (none pending: nothing to do). */
  async tuneIfPending(): Promise<void> {
    if (this.forced || !this.slabSupported || this.tuningFailed || !this.pending.size) return;
    const todo = [...this.pending.values()].filter((s) =>
      !this.record.shapes[shapeClass(s.K, s.N)]
    );
    this.pending.clear();
    if (!todo.length) return;
    try {
      await this.tune(todo);
    } catch (e) {
      // A measurement never fails the run that asked for it: no more tuning in this process.
      this.tuningFailed = true;
      console.error(`l3mask: matmul tuning skipped (${(e as Error).message.split("\n")[0]})`);
    }
  }

  /**
   * Times both variants' forward product (tuneRows rows) for each shape class, records the
   * winner and each pipeline's compile time, and saves the cache. `fresh` forgets what the cache
   * held for this adapter first (doctor --tune).
   */
  async tune(
    shapes: { K: number; N: number }[],
    opts: { fresh?: boolean; log?: (line: string) => void } = {},
  ): Promise<TuneRecord> {
    this.load();
    if (opts.fresh) this.record = { compileS: {}, shapes: {} };
    const { linearForward } = await import("./linear.ts");
    const ctx = this.ctx;
    await ctx.sync();
    for (const { K, N } of shapes) {
      // Rows so that every operand fits one storage binding (the vocabulary projection's chunks
      // are as wide as a binding allows); a class whose weight alone does not fit is skipped.
      const fit = Math.floor(ctx.maxBindingBytes / (4 * Math.max(K, N)));
      const M = Math.min(tuneRows(K, N), fit - (fit % 64));
      if (M < 64 || N * K * 4 > ctx.maxBindingBytes) continue;
      const inp = ctx.zeros([M, K]), w = ctx.zeros([N, K]), out = ctx.empty([M, N]);
      const gflops = { slab: 0, tile: 0 };
      for (const variant of MATMUL_VARIANTS) {
        const shader = `linear_${variant}`;
        linearForward(ctx, out, inp, w, null, { M, K, N, variant });
        // The compile happened in this call or earlier in this process; either way it was timed.
        this.record.compileS[variant] ??= ctx.pipelines.compileMs(shader) / 1000;
        await ctx.sync();
        const times: number[] = [];
        for (let rep = 0; rep < 2; rep++) {
          const t0 = performance.now();
          linearForward(ctx, out, inp, w, null, { M, K, N, variant });
          await ctx.sync();
          times.push(performance.now() - t0);
        }
        gflops[variant] = (2 * M * K * N) / Math.min(...times) / 1e6;
      }
      ctx.release(inp, w, out);
      const best = gflops.slab > gflops.tile ? "slab" : "tile";
      this.record.shapes[shapeClass(K, N)] = { gflops, best };
      opts.log?.(
        `  ${shapeClass(K, N).padEnd(10)} slab ${gflops.slab.toFixed(1)} GFLOP/s, tile ` +
          `${gflops.tile.toFixed(1)} GFLOP/s: ${best}`,
      );
    }
    await this.save();
    return this.record;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    if (!this.path) return;
    try {
      const file = JSON.parse(Deno.readTextFileSync(this.path)) as TuneFile;
      const rec = file.version === 1 ? file.adapters?.[this.adapterKey] : undefined;
      if (rec && typeof rec === "object" && rec.shapes && rec.compileS) this.record = rec;
    } catch {
      // absent or unreadable: measure again (the file is only a cache)
    }
  }

  private async save(): Promise<void> {
    if (!this.path) return;
    let file: TuneFile = { version: 1, adapters: {} };
    try {
      const old = JSON.parse(await Deno.readTextFile(this.path)) as TuneFile;
      if (old.version === 1 && old.adapters) file = old;
    } catch {
      // start a new file
    }
    file.adapters[this.adapterKey] = this.record;
    const dir = this.path.replace(/\/[^/]*$/, "");
    const tmp = `${this.path}.${Deno.pid}.tmp`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(tmp, JSON.stringify(file, null, 1) + "\n");
      await Deno.rename(tmp, this.path);
    } catch {
      // a read-only or full cache directory costs a re-measurement next run, nothing more
      await Deno.remove(tmp).catch(() => {});
    }
  }
}
