import { residualForward } from "../src/kernels/residual.ts";
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
