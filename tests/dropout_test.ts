import * as cpu from "../src/cpu/dropout.ts";
import { mulhi32, philox4x32, philoxElementUniform, philoxUniform } from "../src/cpu/philox.ts";
import { dropoutBackward, dropoutForward } from "../src/kernels/dropout.ts";
import type { GpuContext } from "../src/gpu/context.ts";
import { assertClose, gpuTest, randn, rng } from "./util.ts";

// Random123's kat_vectors for philox4x32 with 10 rounds: counter (4 words), key (2), output (4).
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  [
    [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  ],
];

Deno.test("philox4x32-10 matches Random123's known-answer vectors", () => {
  for (const [counter, key, want] of KAT) {
    const got = Array.from(philox4x32(counter, key));
    const hex = (v: number[]) => v.map((x) => x.toString(16).padStart(8, "0")).join(" ");
    if (hex(got) !== hex(want)) throw new Error(`philox: got ${hex(got)}, want ${hex(want)}`);
  }
});

Deno.test("mulhi32 equals the BigInt high word", () => {
  const r = rng(5);
  const edge = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd2511f53, 0xcd9e8d57];
  const vals = [...edge, ...Array.from({ length: 200 }, () => Math.floor(r() * 2 ** 32))];
  for (const a of vals) {
    for (const b of vals.slice(0, 40)) {
      const want = Number((BigInt(a) * BigInt(b)) >> 32n);
      if (mulhi32(a, b) !== want) throw new Error(`mulhi32(${a}, ${b}) = ${mulhi32(a, b)}`);
    }
  }
});

Deno.test("philoxUniform: first word >> 8 times 2^-24, 64-bit seed and counter split", () => {
  const u = (seed: number, c: number[]) => (philox4x32(c, [seed, 0])[0] >>> 8) * 2 ** -24;
  if (philoxUniform(0, 0) !== (0x6627e8d5 >>> 8) * 2 ** -24) throw new Error("KAT counter 0");
  if (philoxUniform(7, 123) !== u(7, [123, 0, 0, 0])) throw new Error("small counter");
  if (philoxUniform(7, 2 ** 32 + 5) !== u(7, [5, 1, 0, 0])) throw new Error("counter hi word");
  const hi = (philox4x32([9, 0, 0, 0], [3, 2])[0] >>> 8) * 2 ** -24;
  if (philoxUniform(2 * 2 ** 32 + 3, 9) !== hi) throw new Error("seed hi word");
});

Deno.test("philoxElementUniform: word e mod 4 of the call at counter e div 4 (64-bit split)", () => {
  const u = (seed: number[], c: number[], w: number) => (philox4x32(c, seed)[w] >>> 8) * 2 ** -24;
  for (let e = 0; e < 12; e++) {
    if (philoxElementUniform(7, e) !== u([7, 0], [Math.floor(e / 4), 0, 0, 0], e % 4)) {
      throw new Error(`element ${e}`);
    }
  }
  // Counter 2^32 + 5 (element 4 (2^32 + 5) + 3) and a 2-word seed.
  const e = 4 * (2 ** 32 + 5) + 3;
  if (philoxElementUniform(2 * 2 ** 32 + 3, e) !== u([3, 2], [5, 1, 0, 0], 3)) {
    throw new Error("64-bit element and seed");
  }
  // The four words differ: consecutive elements are not one draw repeated.
  const four = [0, 1, 2, 3].map((i) => philoxElementUniform(11, 40 + i));
  if (new Set(four).size !== 4) throw new Error(`elements 40..43 share a value: ${four}`);
});

/** out for an all-ones input: 1/(1-p) where kept, 0 where dropped. */
async function gpuMask(ctx: GpuContext, dims: cpu.DropoutDims): Promise<Uint8Array> {
  const ones = ctx.upload(new Float32Array(dims.n).fill(1)), out = ctx.empty([dims.n]);
  dropoutForward(ctx, out, ones, dims);
  const got = await ctx.read(out);
  ctx.release(ones, out);
  const scale = Math.fround(1 / (1 - dims.p));
  return Uint8Array.from(got, (v, i) => {
    if (v !== 0 && v !== scale) throw new Error(`dropout out[${i}] = ${v}, not 0 or ${scale}`);
    return v === 0 ? 0 : 1;
  });
}

function assertSameMask(got: Uint8Array, want: Uint8Array, label: string): void {
  const bad = got.findIndex((v, i) => v !== want[i]);
  if (bad >= 0) {
    const n = got.reduce((s, v, i) => s + (v !== want[i] ? 1 : 0), 0);
    throw new Error(`${label}: ${n} of ${want.length} differ, first at [${bad}]`);
  }
}

const N = 100_000;

gpuTest("dropout GPU mask equals the CPU mask bit for bit (vec4 and scalar paths)", async (ctx) => {
  const cases = [
    { n: N, p: 0.1, seed: 1234, offset: 0 },
    { n: N, p: 0.5, seed: 0xffffffff, offset: 77 },
    { n: 4099, p: 0.1, seed: 42, offset: 2 ** 32 - 2001 }, // counter carries into word 1
    { n: 4100, p: 0.1, seed: 42, offset: 2 ** 32 - 2000 }, // the same on the vec4 path
    { n: 4100, p: 0.1, seed: 42, offset: 2 ** 34 + 6 }, // offset % 4 != 0: scalar path
    { n: 4099, p: 0.25, seed: 5 * 2 ** 32 + 11, offset: 3 * 2 ** 32 + 9 }, // 2-word key
    { n: 1037, p: 0.1 + 2 ** -30, seed: 3, offset: 0 }, // p not a multiple of 2^-24
  ];
  for (const dims of cases) {
    assertSameMask(await gpuMask(ctx, dims), cpu.dropoutMask(dims), JSON.stringify(dims));
  }
});

gpuTest("dropout keeps 1-p of the elements (n = 1e5, within 5 sigma)", async (ctx) => {
  for (const p of [0.1, 0.5, 0.9]) {
    const mask = await gpuMask(ctx, { n: N, p, seed: 99, offset: 0 });
    const kept = mask.reduce((s, v) => s + v, 0) / N;
    const sigma = Math.sqrt(p * (1 - p) / N);
    if (Math.abs(kept - (1 - p)) > 5 * sigma) {
      throw new Error(`p=${p}: kept ${kept}, expected ${1 - p} +- ${5 * sigma}`);
    }
  }
});

gpuTest("dropout is deterministic; seeds and offsets change the mask", async (ctx) => {
  const dims = { n: N, p: 0.1, seed: 2024, offset: 1000 };
  const a = await gpuMask(ctx, dims), b = await gpuMask(ctx, dims);
  assertSameMask(b, a, "second run");
  const agree = (x: Uint8Array, y: Uint8Array) =>
    x.reduce((s, v, i) => s + (v === y[i] ? 1 : 0), 0) / x.length;
  // Independent masks agree on p^2 + (1-p)^2 = 0.82 of the elements.
  for (const other of [{ ...dims, seed: 2025 }, { ...dims, offset: 1000 + N }]) {
    const share = agree(a, await gpuMask(ctx, other));
    if (Math.abs(share - 0.82) > 0.01) {
      throw new Error(`${JSON.stringify(other)} agrees with the base mask on ${share}`);
    }
  }
  // Counter-based: shifting the offset by k shifts the mask by k.
  const shifted = await gpuMask(ctx, { ...dims, offset: 1000 + 17 });
  assertSameMask(shifted.subarray(0, N - 17), a.subarray(17), "offset + 17 vs mask[17:]");
});

const SHAPES = [
  { name: "tiny", n: 8 },
  { name: "odd", n: 1000 + 37 },
  { name: "bert-base hidden B=2 T=128 C=768", n: 2 * 128 * 768 },
  { name: "bert-base attention B=2 NH=12 T=128", n: 2 * 12 * 128 * 128 },
];

for (const { name, n } of SHAPES) {
  gpuTest(`dropout forward/backward GPU vs CPU, same mask both ways (${name})`, async (ctx) => {
    const dims = { n, p: 0.1, seed: 31337, offset: 5 * n };
    const x = randn(n, 1), dout = randn(n, 2);
    const gx = ctx.upload(x), gout = ctx.empty([n]);
    const gdout = ctx.upload(dout), gdinp = ctx.empty([n]);
    dropoutForward(ctx, gout, gx, dims);
    dropoutBackward(ctx, gdinp, gdout, dims);
    const [out, dinp] = await ctx.readMany([gout, gdinp]);
    const eOut = new Float64Array(n), eDinp = new Float64Array(n);
    cpu.dropoutForward(eOut, x, dims);
    cpu.dropoutBackward(eDinp, dout, dims);
    // One f32 rounding of 1/(1-p) and one of the product.
    assertClose(out, eOut, { atol: 0, rtol: 2.5e-7, label: "out" });
    assertClose(dinp, eDinp, { atol: 0, rtol: 2.5e-7, label: "dinp" });
    const fwdMask = Uint8Array.from(out, (v) => (v !== 0 ? 1 : 0));
    const bwdMask = Uint8Array.from(dinp, (v) => (v !== 0 ? 1 : 0));
    assertSameMask(bwdMask, fwdMask, "backward mask vs forward mask");
    ctx.release(gx, gout, gdout, gdinp);
  });
}

gpuTest("dropout p = 0 copies exactly; p = 1 zeroes", async (ctx) => {
  const n = 1037, x = randn(n, 3);
  const gx = ctx.upload(x), gout = ctx.empty([n]), gzero = ctx.empty([n]);
  dropoutForward(ctx, gout, gx, { n, p: 0, seed: 1, offset: 0 });
  dropoutForward(ctx, gzero, gx, { n, p: 1, seed: 1, offset: 0 });
  const [out, zero] = await ctx.readMany([gout, gzero]);
  assertClose(out, x, { atol: 0, rtol: 0, label: "p = 0" });
  assertClose(zero, new Float32Array(n), { atol: 0, rtol: 0, label: "p = 1" });
  ctx.release(gx, gout, gzero);
});
