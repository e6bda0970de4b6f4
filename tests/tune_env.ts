/**
 * Imported for its effect by every test module that runs kernels or the CLI: tests never read or
 * write the user's matmul tune cache (src/kernels/linear_tune.ts); each test process gets a
 * private one, inherited by the CLI runs it starts.
 */
if (!Deno.env.get("L3MASK_TUNE_CACHE")) {
  Deno.env.set(
    "L3MASK_TUNE_CACHE",
    `${Deno.makeTempDirSync({ prefix: "l3mask-tune-" })}/tune.json`,
  );
}
