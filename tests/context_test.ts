import assert from "node:assert/strict";
import { parseUniformStruct } from "../src/gpu/context.ts";
import { residualForward } from "../src/kernels/residual.ts";
import { SHADERS } from "../src/shaders.ts";
import { assertClose, gpuTest } from "./util.ts";

gpuTest(
  "bind groups: reused for the same dispatch on the same buffers, never for others",
  async (ctx) => {
    const a = ctx.upload(Float32Array.from([1, 2, 3, 4]));
    const b = ctx.upload(Float32Array.from([10, 20, 30, 40]));
    const x = ctx.zeros([4]), y = ctx.zeros([4]), z = ctx.zeros([16]);
    await ctx.sync(); // every dispatch below takes uniform slot 0 of its own submit
    const run = async (out: typeof x, p: typeof a, q: typeof a) => {
      const before = { ...ctx.bindGroupStats };
      residualForward(ctx, out, p, q, 4);
      await ctx.sync();
      return {
        created: ctx.bindGroupStats.created - before.created,
        reused: ctx.bindGroupStats.reused - before.reused,
      };
    };
    // The first x = a + b creates its bind group; the same dispatch again reuses it.
    const first = await run(x, a, b);
    const again = await run(x, a, b);
    // Another output buffer, another operand order, and a view of a larger buffer are new groups:
    // reusing the first group would write x (or read a, b) instead.
    const other = await run(y, b, a);
    const view = await run(z.view(8, [4]), a, a);
    const [gx, gy, gz] = await ctx.readMany([x, y, z]);
    assertClose(gx, [11, 22, 33, 44], { atol: 0, label: "x" });
    assertClose(gy, [11, 22, 33, 44], { atol: 0, label: "y" });
    assertClose(gz, [0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 6, 8, 0, 0, 0, 0], {
      atol: 0,
      label: "z (view at 8)",
    });
    if (first.created !== 1 || again.created !== 0 || again.reused !== 1) {
      throw new Error(`same dispatch: ${JSON.stringify({ first, again })}`);
    }
    if (other.created !== 1 || view.created !== 1) {
      throw new Error(
        `different buffers must not share a group: ${JSON.stringify({ other, view })}`,
      );
    }
    ctx.release(a, b, x, y, z);
  },
);

Deno.test("uniform structs: named fields parse from the WGSL, in order, with their types", () => {
  const code = `struct Params { rows: u32, // a comment, with a comma
    scale: f32, shift: i32 }
  @group(0) @binding(0) var<uniform> p: Params;`;
  assert.deepEqual(parseUniformStruct("t", code), [
    { name: "rows", type: "u32" },
    { name: "scale", type: "f32" },
    { name: "shift", type: "i32" },
  ]);
  assert.throws(() =>
    parseUniformStruct(
      "t",
      "struct P { v: vec4u }\n" +
        "@group(0) @binding(0) var<uniform> p: P;",
    ), /not a u32, i32 or f32 scalar/);
  // The linear kernels use named fields; their structs must parse.
  for (const k of ["linear_slab", "linear_tile", "linear_pack", "linear_transpose"] as const) {
    assert.ok(parseUniformStruct(k, SHADERS[k]).length >= 6, k);
  }
});

gpuTest(
  "named uniform fields: same dispatch as the positional words; a missing or unknown field throws",
  async (ctx) => {
    const src = ctx.upload(Float32Array.from({ length: 15 }, (_, i) => i + 1)); // 3 rows x 5
    const positional = ctx.zeros([12]), named = ctx.zeros([12]);
    ctx.run("linear_pack", {
      buffers: [positional, src],
      u32: [3, 3, 4, 5, 1, 0],
      workgroups: [1],
    });
    const params = { rows: 3, cols: 3, cols4: 4, ld: 5, off: 1, accumulate: 0 };
    ctx.run("linear_pack", { buffers: [named, src], params, workgroups: [1] });
    const [a, b] = await ctx.readMany([positional, named]);
    assertClose(b, a, { atol: 0, rtol: 0, label: "named vs positional" });
    assertClose(b, Float32Array.from([2, 3, 4, 0, 7, 8, 9, 0, 12, 13, 14, 0]), { atol: 0 });
    const { accumulate: _, ...missing } = params;
    assert.throws(
      () => ctx.run("linear_pack", { buffers: [named, src], params: missing, workgroups: [1] }),
      /uniform field 'accumulate' not given/,
    );
    assert.throws(
      () =>
        ctx.run("linear_pack", {
          buffers: [named, src],
          params: { ...params, colz: 1 },
          workgroups: [1],
        }),
      /no uniform field 'colz'/,
    );
    ctx.release(src, positional, named);
  },
);
