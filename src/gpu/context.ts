/**
 * The GPU context: one device, a pipeline cache, a buffer pool and a command batch.
 *
 * Kernel wrappers call `ctx.run(...)`, which only records a dispatch into the current compute
 * pass. Nothing reaches the GPU until `flush()` (submit) or `read()` (submit + map), so a whole
 * training step is one command encoder and one submit. Every dispatch gets its own 256-byte slot
 * in a uniform arena that is uploaded once per submit.
 */
import { UserError } from "../errors.ts";
import { type ShaderName, SHADERS } from "../shaders.ts";
import { BufferPool } from "./pool.ts";
import { PipelineCache } from "./pipelines.ts";
import { GpuTensor } from "./tensor.ts";

export interface ContextOptions {
  /** Pretend the adapter allows at most this many bytes per storage binding (tests of splitting). */
  maxBindingBytes?: number;
  /**
   * Pretend the adapter allows at most this many storage buffers per shader stage (tests of the
   * paths that adapters with fewer bindings take, e.g. GL llvmpipe's 16).
   */
  maxStorageBuffers?: number;
  /** Prefer a low-power or high-performance adapter. */
  powerPreference?: GPUPowerPreference;
}

export interface AdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  isFallback: boolean;
}

/** Arguments of one dispatch. Buffers bind at 1..n in order; the uniform struct at 0. */
export interface RunArgs {
  /** Storage buffers, in binding order (binding 1, 2, ...). */
  buffers: GpuTensor[];
  /**
   * The shader's uniform struct by field name: every field, each written as the struct declares
   * it (u32, i32 or f32); checked against the WGSL source at the first dispatch of each shader.
   * The alternative to the positional `u32` / `f32` arrays (which structs with vector or array
   * fields, the multi-tensor kernels', still use).
   */
  params?: Record<string, number>;
  /** u32 fields of the shader's `Params` struct, first. */
  u32?: number[];
  /** f32 fields of the shader's `Params` struct, after the u32 ones. */
  f32?: number[];
  /** Workgroup counts; each at most `maxComputeWorkgroupsPerDimension`. */
  workgroups: [number, number?, number?];
  /** Pipeline-overridable constants (workgroup size, tile sizes). */
  overrides?: Record<string, number>;
  entryPoint?: string;
}

/** One dispatch as recorded, for profiling by replay. */
export interface RecordedDispatch {
  shader: string;
  pipeline: GPUComputePipeline;
  /** Storage bindings 1..n (binding 0 is the uniform slot, given by value in `uniforms`). */
  storage: GPUBindGroupEntry[];
  uniforms: ArrayBuffer;
  workgroups: [number, number, number];
}

const UNIFORM_SLOT = 256;
/** Tensors per fill_multi dispatch. */
const FILL_SLOTS = 8;
/** Elements each fill_multi invocation sets (PER in the shader). */
const FILL_PER_INVOCATION = 8;
/**
 * Tensors of more elements than this get a `fill` dispatch of their own (fill_multi's stores,
 * inside its switch over slots, cost more than fill's; docs/KERNELS.md).
 */
export const FILL_MULTI_MAX_NUMEL = 1 << 16;
const UNIFORM_ARENA_SLOTS = 4096;
/** Bind groups kept for reuse (a training step records a few hundred dispatches). */
const BIND_GROUP_CACHE = 4096;

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly limits: GPUSupportedLimits;
  /** Largest storage binding in bytes (the adapter's, or a smaller test override). */
  readonly maxBindingBytes: number;
  /**
   * Storage buffers one shader stage may bind (the adapter's, or a smaller test override): kernels
   * with a multi-tensor variant pick it from this.
   */
  readonly maxStorageBuffers: number;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformArena: GPUBuffer;
  private uniformHost = new ArrayBuffer(UNIFORM_SLOT * UNIFORM_ARENA_SLOTS);
  private uniformSlots = 0;
  private uncaptured: string[] = [];
  private dummies: GpuTensor[] = [];
  /**
   * Bind groups by (pipeline, uniform slot, storage ranges), least recently used first: a training
   * step or a scoring batch records the same dispatches on the same pooled buffers every time, and
   * creating a bind group costs more host time than recording the dispatch.
   */
  private bindGroups = new Map<string, GPUBindGroup>();
  private objectIds = new WeakMap<object, number>();
  private nextObjectId = 1;
  /** Bind groups created (cache misses) and reused, since creation. */
  bindGroupStats = { created: 0, reused: 0 };
  /** Dispatches recorded since creation (for tests and benchmarks). */
  dispatchCount = 0;
  submitCount = 0;
  /** When set, sees every recorded dispatch (bench/profile.ts replays them one by one). */
  recorder: ((d: RecordedDispatch) => void) | null = null;

  constructor(
    device: GPUDevice,
    adapter: AdapterSummary,
    maxBindingBytes: number,
    maxStorageBuffers = device.limits.maxStorageBuffersPerShaderStage,
  ) {
    this.device = device;
    this.adapter = adapter;
    this.limits = device.limits;
    this.maxBindingBytes = maxBindingBytes;
    this.maxStorageBuffers = Math.min(
      maxStorageBuffers,
      device.limits.maxStorageBuffersPerShaderStage,
    );
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device, SHADERS);
    this.uniformArena = device.createBuffer({
      label: "uniform-arena",
      size: UNIFORM_SLOT * UNIFORM_ARENA_SLOTS,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.addEventListener("uncapturederror", (e) => {
      this.uncaptured.push((e as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** A new zero-filled tensor from the pool. */
  zeros(shape: readonly number[], label = "tensor"): GpuTensor {
    const t = this.empty(shape, label);
    this.fill(t, 0);
    return t;
  }

  /** A new tensor from the pool; its contents are undefined until written. */
  empty(shape: readonly number[], label = "tensor"): GpuTensor {
    const numel = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(4, numel * 4);
    if (bytes > this.maxBindingBytes) {
      throw new Error(
        `tensor '${label}' ${JSON.stringify(shape)} needs ${bytes} bytes, more than one storage ` +
          `binding allows (${this.maxBindingBytes}); split it with ChunkedTensor`,
      );
    }
    return new GpuTensor(this.pool.acquire(bytes, label), shape, label);
  }

  /** A tensor holding `data` (f32 or u32/i32 bit patterns). */
  upload(
    data: Float32Array | Uint32Array | Int32Array,
    shape?: readonly number[],
    label = "tensor",
  ): GpuTensor {
    const t = this.empty(shape ?? [data.length], label);
    if (t.numel !== data.length) {
      throw new Error(`upload '${label}': ${data.length} values for shape ${t.shape}`);
    }
    this.write(t, data);
    return t;
  }

  /** Overwrite a tensor's contents from the host (ordered before the next submit). */
  write(t: GpuTensor, data: Float32Array | Uint32Array | Int32Array): void {
    if (data.length === 0) return; // a zero-byte writeBuffer panics in some runtimes
    // Recorded work that reads the old contents must be submitted first.
    if (this.encoder) this.flush();
    this.device.queue.writeBuffer(t.buffer, t.byteOffset, data as Float32Array<ArrayBuffer>);
  }

  /** Set every element to `value` (a dispatch, so it stays in the batch). */
  fill(t: GpuTensor, value: number): void {
    const n = t.numel;
    this.run("fill", {
      buffers: [t],
      u32: [n],
      f32: [value],
      workgroups: this.grid1d(n, 256),
    });
  }

  /**
   * Set every element of each tensor to `value`: tensors of up to FILL_MULTI_MAX_NUMEL elements
   * through shaders/fill_multi.wgsl, up to FILL_SLOTS per dispatch; larger ones (and all where the
   * adapter has too few bindings) one `fill` dispatch each.
   */
  fillMany(ts: GpuTensor[], value: number): void {
    const grouped = (t: GpuTensor) =>
      this.maxStorageBuffers >= FILL_SLOTS && t.numel <= FILL_MULTI_MAX_NUMEL;
    for (const t of ts) if (!grouped(t)) this.fill(t, value);
    ts = ts.filter(grouped);
    const dummies = this.dummyTensors(FILL_SLOTS);
    for (let first = 0; first < ts.length; first += FILL_SLOTS) {
      const group = ts.slice(first, first + FILL_SLOTS);
      const starts = [0];
      for (const t of group) {
        starts.push(starts[starts.length - 1] + Math.ceil(t.numel / (256 * FILL_PER_INVOCATION)));
      }
      const total = starts[group.length];
      const pad = (
        xs: number[],
        n: number,
        v: number,
      ) => [...xs, ...new Array(n - xs.length).fill(v)];
      this.run("fill_multi", {
        buffers: [...group, ...dummies.slice(group.length)],
        u32: [
          group.length,
          0,
          0,
          0,
          ...pad(starts.slice(0, 8), 8, 0xffffffff),
          total,
          0,
          0,
          0,
          ...pad(group.map((t) => t.numel), 8, 0),
        ],
        f32: [value],
        workgroups: this.grid1d(starts[group.length], 1),
        overrides: { WG: 256 },
      });
    }
  }

  /**
   * `n` distinct one-element tensors that multi-tensor kernels bind in their unused writable
   * slots (WebGPU forbids binding one written buffer twice in a dispatch). Kept for the
   * context's lifetime; never read.
   */
  dummyTensors(n: number): GpuTensor[] {
    while (this.dummies.length < n) this.dummies.push(this.empty([1], "dummy"));
    return this.dummies.slice(0, n);
  }

  /** Return a tensor's buffer to the pool once the work recorded so far has been submitted. */
  release(...ts: (GpuTensor | null | undefined)[]): void {
    for (const t of ts) {
      if (t && t.byteOffset !== 0) {
        throw new Error(`release: '${t.label}' is a view; release its parent`);
      }
      if (t) this.pool.release(t.buffer);
    }
  }

  /**
   * Workgroup grid covering `n` items with `wgSize` threads each, folded into (x, y) when it
   * exceeds the per-dimension limit. Shaders recover the flat index as
   * `gid.x + gid.y * num_workgroups.x * WG`.
   */
  grid1d(n: number, wgSize: number): [number, number] {
    const groups = Math.max(1, Math.ceil(n / wgSize));
    const maxX = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= maxX) return [groups, 1];
    const y = Math.ceil(groups / maxX);
    return [Math.ceil(groups / y), y];
  }

  /** Fields of each shader's uniform struct (and their names), parsed from its source on first use. */
  private uniformFields = new Map<
    string,
    { fields: { name: string; type: "u32" | "i32" | "f32" }[]; names: Set<string> }
  >();

  private writeParams(
    shader: string,
    params: Record<string, number>,
    words: Uint32Array,
    floats: Float32Array,
  ): void {
    let parsed = this.uniformFields.get(shader);
    if (!parsed) {
      const fields = parseUniformStruct(shader, this.pipelines.source(shader) ?? "");
      parsed = { fields, names: new Set(fields.map((f) => f.name)) };
      this.uniformFields.set(shader, parsed);
    }
    const { fields, names } = parsed;
    for (const k in params) {
      if (!names.has(k)) throw new Error(`${shader}: no uniform field '${k}' (${[...names]})`);
    }
    fields.forEach((f, i) => {
      const v = params[f.name];
      if (v === undefined) throw new Error(`${shader}: uniform field '${f.name}' not given`);
      if (f.type === "f32") floats[i] = v;
      else if (f.type === "i32") {
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
          throw new Error(`${shader}: i32 field '${f.name}' is ${v}`);
        }
        words[i] = v >>> 0; // the i32's two's-complement bits
      } else {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new Error(`${shader}: u32 field '${f.name}' is ${v}`);
        }
        words[i] = v;
      }
    });
  }

  /** Record one dispatch of the named shader (a product one, or one added by addDevSources). */
  run(shader: ShaderName | `dev/${string}`, args: RunArgs): void {
    const pipeline = this.pipelines.get(shader, args.entryPoint ?? "main", args.overrides ?? {});
    const [x, y = 1, z = 1] = args.workgroups;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new Error(`${shader}: workgroup grid ${x}x${y}x${z} exceeds ${maxDim} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    if (this.uniformSlots === UNIFORM_ARENA_SLOTS) this.flush();
    const slot = this.uniformSlots++;
    const u32 = args.u32 ?? [];
    const f32 = args.f32 ?? [];
    if ((u32.length + f32.length) * 4 > UNIFORM_SLOT) throw new Error(`${shader}: too many params`);
    const words = new Uint32Array(this.uniformHost, slot * UNIFORM_SLOT, UNIFORM_SLOT / 4);
    const floats = new Float32Array(this.uniformHost, slot * UNIFORM_SLOT, UNIFORM_SLOT / 4);
    u32.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new Error(`${shader}: u32 param ${i} is ${v}`);
      }
      words[i] = v;
    });
    f32.forEach((v, i) => floats[u32.length + i] = v);
    if (args.params) this.writeParams(shader, args.params, words, floats);

    const entries: GPUBindGroupEntry[] = [{
      binding: 0,
      resource: { buffer: this.uniformArena, offset: slot * UNIFORM_SLOT, size: UNIFORM_SLOT },
    }];
    let key = `${this.idOf(pipeline)}|${slot}`;
    args.buffers.forEach((t, i) => {
      if (t.byteLength > this.maxBindingBytes) {
        throw new Error(
          `${shader}: binding ${i + 1} ('${t.label}') is larger than one binding allows`,
        );
      }
      if (t.byteOffset % this.limits.minStorageBufferOffsetAlignment !== 0) {
        throw new Error(
          `${shader}: binding ${
            i + 1
          } ('${t.label}') starts at byte ${t.byteOffset}, not a multiple of ` +
            `${this.limits.minStorageBufferOffsetAlignment}`,
        );
      }
      entries.push({
        binding: i + 1,
        resource: { buffer: t.buffer, offset: t.byteOffset, size: t.byteLength },
      });
      key += `|${this.idOf(t.buffer)}:${t.byteOffset}:${t.byteLength}`;
    });
    const bindGroup = this.bindGroup(key, pipeline, entries);
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    this.recorder?.({
      shader,
      pipeline,
      storage: entries.slice(1),
      uniforms: this.uniformHost.slice(slot * UNIFORM_SLOT, (slot + 1) * UNIFORM_SLOT),
      workgroups: [x, y, z],
    });
  }

  /** A small integer naming a pipeline or buffer object (for bind group keys). */
  private idOf(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) {
      id = this.nextObjectId++;
      this.objectIds.set(o, id);
    }
    return id;
  }

  /**
   * The cached bind group for `key`, or a new one (evicting the least recently used beyond
   * BIND_GROUP_CACHE). A key names the objects by identity, so a buffer the pool replaces never
   * matches an entry made for the old one.
   */
  private bindGroup(
    key: string,
    pipeline: GPUComputePipeline,
    entries: GPUBindGroupEntry[],
  ): GPUBindGroup {
    const hit = this.bindGroups.get(key);
    if (hit) {
      this.bindGroups.delete(key); // re-inserted last: most recently used
      this.bindGroups.set(key, hit);
      this.bindGroupStats.reused++;
      return hit;
    }
    const bg = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.bindGroups.set(key, bg);
    this.bindGroupStats.created++;
    if (this.bindGroups.size > BIND_GROUP_CACHE) {
      this.bindGroups.delete(this.bindGroups.keys().next().value!);
    }
    return bg;
  }

  /** Copy `bytes` between tensors (ends the current pass; stays in the batch). */
  copy(src: GpuTensor, dst: GpuTensor, bytes = src.byteLength, srcOffset = 0, dstOffset = 0): void {
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(
      src.buffer,
      src.byteOffset + srcOffset,
      dst.buffer,
      dst.byteOffset + dstOffset,
      bytes,
    );
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submit everything recorded so far. */
  flush(): void {
    this.endPass();
    if (this.uniformSlots > 0) {
      this.device.queue.writeBuffer(
        this.uniformArena,
        0,
        this.uniformHost,
        0,
        this.uniformSlots * UNIFORM_SLOT,
      );
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.submitCount++;
    }
    this.encoder = null;
    this.uniformSlots = 0;
    this.pool.submitted();
  }

  /** Submit, wait and throw if any validation error or shader compile error happened. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwIfErrors();
  }

  private async throwIfErrors(): Promise<void> {
    await this.pipelines.throwIfErrors();
    if (this.uncaptured.length) {
      const msg = this.uncaptured.join("\n");
      this.uncaptured = [];
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  /** Read a tensor back as f32 values (submits pending work). */
  async read(t: GpuTensor): Promise<Float32Array> {
    return new Float32Array((await this.readBuffers([t]))[0]);
  }

  /** Read a tensor back as u32 values. */
  async readU32(t: GpuTensor): Promise<Uint32Array> {
    return new Uint32Array((await this.readBuffers([t]))[0]);
  }

  /** Read several tensors with one submit and one wait. */
  async readMany(ts: GpuTensor[]): Promise<Float32Array[]> {
    return (await this.readBuffers(ts)).map((b) => new Float32Array(b));
  }

  private async readBuffers(ts: GpuTensor[]): Promise<ArrayBuffer[]> {
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    const stagings = ts.map((t) => {
      const staging = this.device.createBuffer({
        size: t.byteLength,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.encoder!.copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, t.byteLength);
      return staging;
    });
    this.flush();
    await Promise.all(stagings.map((s) => s.mapAsync(GPUMapMode.READ)));
    await this.throwIfErrors();
    return stagings.map((s) => {
      const out = s.getMappedRange().slice(0);
      s.unmap();
      s.destroy();
      return out;
    });
  }

  destroy(): void {
    this.pool.destroy();
    this.uniformArena.destroy();
    this.device.destroy();
  }
}

const NO_ADAPTER_HELP = "no WebGPU adapter found. Install a GPU driver with Vulkan support, or " +
  "Mesa's software rasterizers for a CPU adapter: `apt-get install mesa-vulkan-drivers` " +
  "(Debian/Ubuntu; llvmpipe through OpenGL/EGL also works). Then run `l3mask doctor`.";

/**
 * Gives the process a private XDG_RUNTIME_DIR when it has none (or a relative one): Mesa's Vulkan
 * driver probes for a Wayland display while the adapter is enumerated, and libwayland prints
 * "error: XDG_RUNTIME_DIR is invalid or not set" for every probe without one, although a
 * compute-only tool needs no display. The directory is created with mode 0700 as the variable's
 * specification asks; nothing is written there.
 */
function quietWindowSystemProbe(): void {
  const current = Deno.env.get("XDG_RUNTIME_DIR");
  if (current?.startsWith("/")) return;
  const uid = Deno.uid() ?? 0;
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  let dir = `${tmp}/l3mask-runtime-${uid}`;
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) return;
    const st = Deno.statSync(dir);
    if (!st.isDirectory || st.uid !== uid) {
      dir = Deno.makeTempDirSync({ prefix: "l3mask-runtime-" });
    }
  }
  Deno.env.set("XDG_RUNTIME_DIR", dir);
}

/**
 * The fields of the struct bound as `var<uniform>` at @group(0) @binding(0), in order; each must be
 * a 4-byte scalar (u32, i32, f32), which is what makes field i the i-th word of the uniform slot.
 */
export function parseUniformStruct(
  shader: string,
  code: string,
): { name: string; type: "u32" | "i32" | "f32" }[] {
  const decl = code.match(/@group\(0\)\s*@binding\(0\)\s*var<uniform>\s*\w+\s*:\s*(\w+)\s*;/);
  if (!decl) throw new Error(`${shader}: no var<uniform> at @group(0) @binding(0)`);
  const body = code.match(new RegExp(`struct\\s+${decl[1]}\\s*\\{([^}]*)\\}`));
  if (!body) throw new Error(`${shader}: no struct ${decl[1]}`);
  return body[1].replace(/\/\/[^\n]*/g, "").split(",").map((f) => f.trim()).filter((f) => f)
    .map((f) => {
      const m = f.match(/^(\w+)\s*:\s*(\w+)$/);
      if (!m || !["u32", "i32", "f32"].includes(m[2])) {
        throw new Error(`${shader}: uniform field '${f}' is not a u32, i32 or f32 scalar`);
      }
      return { name: m[1], type: m[2] as "u32" | "i32" | "f32" };
    });
}

/**
 * `createContext` for a command: a missing adapter or a failed device request (whose message says
 * what to install or set) becomes a one-line UserError instead of a stack trace.
 */
export async function openDevice(opts: ContextOptions = {}): Promise<GpuContext> {
  try {
    return await createContext(opts);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/** Acquire an adapter and a device with the adapter's maximum limits. */
export async function createContext(opts: ContextOptions = {}): Promise<GpuContext> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new Error(`WebGPU is not available in this runtime; ${NO_ADAPTER_HELP}`);
  }
  quietWindowSystemProbe();
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: opts.powerPreference ?? "high-performance",
  });
  if (!adapter) throw new Error(NO_ADAPTER_HELP);
  const wanted = [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupSizeY",
    "maxComputeWorkgroupsPerDimension",
    "maxBindGroups",
    "minStorageBufferOffsetAlignment",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of wanted) requiredLimits[k] = adapter.limits[k];
  const features: GPUFeatureName[] = adapter.features.has("timestamp-query")
    ? ["timestamp-query"]
    : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features });
  const info = adapter.info;
  const summary: AdapterSummary = {
    description: info.description || info.device || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    // deno-lint-ignore no-explicit-any
    isFallback: Boolean((info as any).isFallbackAdapter ?? (adapter as any).isFallbackAdapter),
  };
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  return new GpuContext(
    device,
    summary,
    Math.min(limit, opts.maxBindingBytes ?? limit),
    opts.maxStorageBuffers,
  );
}
