/**
 * This adapter's own ceiling, for reading every other bench as a fraction of it:
 *   - arithmetic: independent FMA chains, vec4 and scalar (bench/shaders/peak_fma.wgsl), GFLOP/s;
 *     and (this bench only) 16..128 scalar accumulators per invocation, as a matmul's register
 *     tile holds them: where they stop fitting the CPU's vector registers, and what that costs;
 *   - streaming bandwidth: a vec4 copy of 64 MiB (bench/shaders/peak_memory.wgsl), GB/s;
 *   - per-lane loads: f32 loads whose address differs per invocation from a cache-resident window,
 *     G loads/s (on llvmpipe each is a loop over the SIMD lanes).
 * Each probe is calibrated to run ~0.4 s per submit and timed `--reps` times; the best run counts
 * (a peak: other jobs on a shared machine only slow it down).
 *
 *   deno run -A bench/peak_bench.ts [--reps 5]
 *
 * `measurePeak` is also used by bench/matmul_bench.ts to print each kernel as a fraction of it.
 */
import { createContext, type GpuContext } from "../src/gpu/context.ts";
import { adapterLine, intFlag, loadLine } from "./util.ts";

const FMA_WGSL = await Deno.readTextFile(new URL("./shaders/peak_fma.wgsl", import.meta.url));
const MEM_WGSL = await Deno.readTextFile(new URL("./shaders/peak_memory.wgsl", import.meta.url));

export interface Peak {
  /** GFLOP/s of independent vec4 FMA chains. */
  vec4: number;
  /** GFLOP/s of independent scalar FMA chains. */
  scalar: number;
  /** GB/s of a streaming vec4 copy (bytes read + written). */
  copy: number;
  /** Billions of per-invocation-addressed f32 loads per second (cache-resident). */
  gather: number;
  /** GFLOP/s of each probe ("vec4 x3": three independent vec4 chains per invocation). */
  byChains: Record<string, number>;
}

/** Independent chains per invocation of the FMA probes (bench/shaders/peak_fma.wgsl). */
const VEC4_CHAINS = [2, 3, 4, 6, 8];
const SCALAR_CHAINS = [4, 8, 12, 16];
/** Accumulators per invocation of the main_acc_N probes (linear_slab holds 128). */
const ACC_COUNTS = [16, 32, 64, 128];

const WG = 64;
const GROUPS = 1024;
const TARGET_S = 0.4;

function pipeline(device: GPUDevice, code: string, entryPoint: string): GPUComputePipeline {
  const module = device.createShaderModule({ code });
  return device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint, constants: { WG } },
  });
}

/** Seconds for `count` dispatches of `groups` workgroups in one submit. */
async function timeDispatches(
  device: GPUDevice,
  pipe: GPUComputePipeline,
  bind: GPUBindGroup,
  groups: number,
  count: number,
): Promise<number> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bind);
  for (let i = 0; i < count; i++) pass.dispatchWorkgroups(groups);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000;
}

/**
 * Best rate over `reps` runs of a probe whose work per dispatch is `work(iters)` units; `iters`
 * (the loop count written into the uniform) is raised until one submit takes ~TARGET_S.
 */
async function probe(
  device: GPUDevice,
  pipe: GPUComputePipeline,
  /** Storage buffers by binding number (exactly those the entry point uses: layout "auto"). */
  buffers: Record<number, GPUBuffer>,
  uniform: (iters: number) => ArrayBuffer,
  work: (iters: number) => number,
  reps: number,
  groups = GROUPS,
  perSubmit = 1,
): Promise<number> {
  const ubuf = device.createBuffer({
    size: 256,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.pushErrorScope("validation");
  const bind = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: ubuf } },
      ...Object.entries(buffers).map(([i, b]) => ({ binding: Number(i), resource: { buffer: b } })),
    ],
  });
  let iters = 16;
  let sec = 0;
  await timeDispatches(device, pipe, bind, groups, 1);
  const invalid = await device.popErrorScope();
  if (invalid) throw new Error(`peak probe: ${invalid.message}`);
  for (;;) {
    device.queue.writeBuffer(ubuf, 0, uniform(iters));
    sec = await timeDispatches(device, pipe, bind, groups, perSubmit);
    if (sec >= TARGET_S / 4 || iters >= 1 << 24) break;
    iters *= 4;
  }
  iters = Math.max(1, Math.round((iters * TARGET_S) / Math.max(sec, 1e-3)));
  device.queue.writeBuffer(ubuf, 0, uniform(iters));
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const s = await timeDispatches(device, pipe, bind, groups, perSubmit);
    best = Math.max(best, (work(iters) * perSubmit) / s);
  }
  ubuf.destroy();
  return best;
}

function params(words: (number | [number, "f32"])[]): ArrayBuffer {
  const buf = new ArrayBuffer(256);
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  words.forEach((w, i) => Array.isArray(w) ? (f[i] = w[0]) : (u[i] = w));
  return buf;
}

export async function measurePeak(
  ctx: GpuContext,
  reps = 3,
  opts: { accumulators?: boolean } = {},
): Promise<Peak> {
  const device = ctx.device;
  const invocations = GROUPS * WG;
  const out = device.createBuffer({ size: invocations * 16, usage: GPUBufferUsage.STORAGE });
  const fmaParams = (iters: number) => params([iters, [0.5, "f32"]]);
  const chains = async (kind: "vec4" | "scalar" | "acc", n: number) =>
    await probe(
      device,
      pipeline(device, FMA_WGSL, `main_${kind}_${n}`),
      { 1: out },
      fmaParams,
      (it) => invocations * it * n * (kind === "vec4" ? 8 : 2),
      reps,
    );
  const fma: Record<string, number> = {};
  for (const n of VEC4_CHAINS) fma[`vec4 x${n}`] = await chains("vec4", n);
  for (const n of SCALAR_CHAINS) fma[`scalar x${n}`] = await chains("scalar", n);
  if (opts.accumulators) {
    for (const n of ACC_COUNTS) fma[`accumulators x${n}`] = await chains("acc", n);
  }
  const vec4 = Math.max(...VEC4_CHAINS.map((n) => fma[`vec4 x${n}`]));
  const scalar = Math.max(...SCALAR_CHAINS.map((n) => fma[`scalar x${n}`]));

  // Streaming copy: 64 MiB each way (65535 workgroups of 64 vec4); `copies` per submit.
  const groups = Math.min(65535, ctx.limits.maxComputeWorkgroupsPerDimension);
  const n = groups * WG;
  const src = device.createBuffer({ size: n * 16, usage: GPUBufferUsage.STORAGE });
  const dst = device.createBuffer({ size: n * 16, usage: GPUBufferUsage.STORAGE });
  const flat = device.createBuffer({ size: 4096 * 4, usage: GPUBufferUsage.STORAGE });
  const copyPipe = pipeline(device, MEM_WGSL, "copy");
  let copy = 0;
  for (const copies of [4, 16]) {
    const rate = await probe(
      device,
      copyPipe,
      { 1: dst, 2: src },
      () => params([n, 0, 0, [1.0001, "f32"]]),
      () => n * 32,
      reps,
      groups,
      copies,
    );
    copy = Math.max(copy, rate);
  }
  const gather = await probe(
    device,
    pipeline(device, MEM_WGSL, "gather"),
    { 1: dst, 3: flat },
    (iters) => params([n, iters, 4095, [1, "f32"]]),
    (it) => invocations * it,
    reps,
  );
  for (const b of [out, src, dst, flat]) b.destroy();
  const byChains = Object.fromEntries(Object.entries(fma).map(([k, v]) => [k, v / 1e9]));
  return {
    vec4: vec4 / 1e9,
    scalar: scalar / 1e9,
    copy: copy / 1e9,
    gather: gather / 1e9,
    byChains,
  };
}

if (import.meta.main) {
  const ctx = await createContext();
  console.log(adapterLine(ctx));
  console.log(loadLine());
  const p = await measurePeak(ctx, intFlag("reps", 5), { accumulators: true });
  for (const [k, v] of Object.entries(p.byChains)) console.log(`  ${k.padEnd(17)} ${v.toFixed(1)}`);
  console.log(`vec4 FMA chains:    ${p.vec4.toFixed(1)} GFLOP/s`);
  console.log(
    `scalar FMA chains:  ${p.scalar.toFixed(1)} GFLOP/s (${(p.scalar / p.vec4).toFixed(2)}x vec4)`,
  );
  console.log(`streaming copy:     ${p.copy.toFixed(1)} GB/s (read + write)`);
  console.log(
    `per-lane f32 loads: ${p.gather.toFixed(2)} G/s (cache-resident, address per invocation)`,
  );
  console.log(loadLine());
  ctx.destroy();
}
