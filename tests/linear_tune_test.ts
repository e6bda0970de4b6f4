import assert from "node:assert/strict";
import type { GpuContext } from "../src/gpu/context.ts";
import { MatmulPolicy, type TuneRecord } from "../src/kernels/linear_tune.ts";
import { slabSupported } from "../src/kernels/linear.ts";
import { gpuTest } from "./util.ts";

/** A context stand-in for the policy's decisions: an adapter, limits and which shaders compiled. */
function fakeCtx(opts: { gl?: boolean; compiled?: string[] } = {}): GpuContext {
  const compiled = new Set(opts.compiled ?? []);
  return {
    adapter: { description: "llvmpipe (LLVM 15, 256 bits)", vendor: "", architecture: "" },
    device: {
      limits: {
        maxStorageBuffersPerShaderStage: opts.gl ? 16 : 32,
        maxComputeWorkgroupStorageSize: 32768,
      },
    },
    pipelines: { has: (s: string) => compiled.has(s), compileMs: () => 0 },
  } as unknown as GpuContext;
}

/** A policy over a cache file holding `record` for the fake adapter. */
function withRecord(ctx: GpuContext, record: TuneRecord | null): MatmulPolicy {
  const path = `${Deno.makeTempDirSync()}/tune.json`;
  const key = new MatmulPolicy(ctx, null, true, path).adapterKey;
  if (record) {
    Deno.writeTextFileSync(path, JSON.stringify({ version: 1, adapters: { [key]: record } }));
  }
  return new MatmulPolicy(ctx, null, true, path);
}

const MEASURED: TuneRecord = {
  compileS: { slab: 10, tile: 0.01 },
  // slab 20 GFLOP/s (1e10 multiply-adds/s), tile 2 (1e9): each multiply-add moved saves 0.9 ns
  shapes: { "768x768": { gflops: { slab: 20, tile: 2 }, best: "slab" } },
};

Deno.test("matmul policy: a run that will not earn slab's compile back stays on tile", () => {
  const p = withRecord(fakeCtx(), MEASURED);
  p.expect(5e9); // saves 4.5 s < 10 s of compile
  assert.equal(p.choose(768, 768, 1e8), "tile");
  assert.equal(p.choose(768, 768, 1e8), "tile");
});

Deno.test("matmul policy: a run that earns the compile back gets slab at once", () => {
  const p = withRecord(fakeCtx(), MEASURED);
  p.expect(1e11); // saves 90 s
  assert.equal(p.choose(768, 768, 1e8), "slab");
});

Deno.test("matmul policy: without a plan, tile until the tile work would have paid the compile", () => {
  const p = withRecord(fakeCtx(), MEASURED);
  // budget: 10 s of tile at 1e9 multiply-adds/s
  for (let i = 0; i < 9; i++) assert.equal(p.choose(768, 768, 1e9), "tile", `product ${i}`);
  assert.equal(p.choose(768, 768, 2e9), "slab");
});

Deno.test("matmul policy: once slab is compiled, the measured winner runs; tile wins where faster", () => {
  const compiled = withRecord(fakeCtx({ compiled: ["linear_slab"] }), MEASURED);
  assert.equal(compiled.choose(768, 768, 1e6), "slab");
  const tileWins: TuneRecord = {
    compileS: { slab: 1 },
    shapes: { "768x768": { gflops: { slab: 2, tile: 20 }, best: "tile" } },
  };
  assert.equal(withRecord(fakeCtx(), tileWins).choose(768, 768, 1e12), "tile");
});

Deno.test("matmul policy: unmeasured shape classes are queued for tuning only once slab ran", () => {
  const p = withRecord(fakeCtx(), null);
  assert.equal(p.choose(100, 200, 1e6), "tile"); // the prior says slab, but it is rented
  assert.equal(p.pending.size, 0);
  const q = withRecord(fakeCtx({ compiled: ["linear_slab"] }), null);
  assert.equal(q.choose(100, 200, 1e6), "slab");
  assert.deepEqual([...q.pending.keys()], ["100x200"]);
});

Deno.test("matmul policy: GL llvmpipe with Mesa's cache skips renting once slab compiled there", () => {
  const prev = Deno.env.get("MESA_SHADER_CACHE_DISABLE");
  try {
    Deno.env.delete("MESA_SHADER_CACHE_DISABLE");
    assert.equal(withRecord(fakeCtx({ gl: true }), MEASURED).choose(768, 768, 1e6), "slab");
    assert.equal(withRecord(fakeCtx({ gl: true }), null).choose(768, 768, 1e6), "tile");
    Deno.env.set("MESA_SHADER_CACHE_DISABLE", "true");
    assert.equal(withRecord(fakeCtx({ gl: true }), MEASURED).choose(768, 768, 1e6), "tile");
  } finally {
    if (prev === undefined) Deno.env.delete("MESA_SHADER_CACHE_DISABLE");
    else Deno.env.set("MESA_SHADER_CACHE_DISABLE", prev);
  }
});

Deno.test("matmul policy: a forced variant wins over everything; no slab support means tile", () => {
  assert.equal(new MatmulPolicy(fakeCtx(), "tile", true, null).choose(768, 768, 1e12), "tile");
  assert.equal(new MatmulPolicy(fakeCtx(), "slab", true, null).choose(8, 8, 1), "slab");
  assert.equal(new MatmulPolicy(fakeCtx(), null, false, null).choose(768, 768, 1e12), "tile");
});

gpuTest(
  "matmul tuning measures both kernels, skips what cannot fit, and is read back",
  async (ctx) => {
    if (!slabSupported(ctx)) return;
    const path = `${Deno.makeTempDirSync()}/sub/tune.json`;
    // A view with a 64 KiB binding limit: 64 x 64 fits, a 512 x 64 weight (128 KiB) does not.
    const small = Object.create(ctx, { maxBindingBytes: { value: 1 << 16 } }) as GpuContext;
    const p = new MatmulPolicy(small, null, true, path);
    const rec = await p.tune([{ K: 64, N: 64 }, { K: 64, N: 512 }]);
    const m = rec.shapes["64x64"];
    assert.ok(m.gflops.slab > 0 && m.gflops.tile > 0, JSON.stringify(m));
    assert.equal(m.best, m.gflops.slab > m.gflops.tile ? "slab" : "tile");
    assert.equal(rec.shapes["64x512"], undefined);
    assert.ok((rec.compileS.slab ?? -1) >= 0 && (rec.compileS.tile ?? -1) >= 0);
    const again = new MatmulPolicy(small, null, true, path);
    assert.deepEqual(again.tuned.shapes["64x64"], m);
    // Another adapter's entry in the same file is kept when this one is rewritten.
    const file = JSON.parse(Deno.readTextFileSync(path));
    file.adapters["other"] = { compileS: {}, shapes: {} };
    Deno.writeTextFileSync(path, JSON.stringify(file));
    await new MatmulPolicy(small, null, true, path).tune([{ K: 64, N: 64 }], { fresh: true });
    const after = JSON.parse(Deno.readTextFileSync(path));
    assert.ok(after.adapters["other"] && after.adapters[p.adapterKey].shapes["64x64"]);
    assert.deepEqual(Array.from(Deno.readDirSync(path.replace(/\/tune.json$/, ""))).length, 1);
  },
);
