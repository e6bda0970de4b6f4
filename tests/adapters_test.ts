/** doctor's adapter classification and advice, from the adapter's name and limits and the machine. */
import assert from "node:assert/strict";
import { adapterReport } from "../src/gpu/adapters.ts";
import type { AdapterSummary } from "../src/gpu/context.ts";

const LLVMPIPE: AdapterSummary = {
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  vendor: "65541",
  architecture: "",
  isFallback: true,
};

Deno.test("GL llvmpipe without lavapipe installed: advises mesa-vulkan-drivers", () => {
  const r = adapterReport(LLVMPIPE, 16, { backend: "", icds: [], gpus: [] });
  assert.equal(r.kind, "gl-llvmpipe");
  assert.match(r.advice ?? "", /apt-get install mesa-vulkan-drivers/);
});

Deno.test("GL llvmpipe forced while lavapipe is installed: says to unset the variable", () => {
  const r = adapterReport(LLVMPIPE, 16, { backend: "gl", icds: ["lvp_icd.x86_64.json"], gpus: [] });
  assert.equal(r.kind, "gl-llvmpipe");
  assert.match(r.advice ?? "", /unset DENO_WEBGPU_BACKEND/);
});

Deno.test("lavapipe: nothing faster without a GPU; a GPU device node is pointed out", () => {
  const r = adapterReport(LLVMPIPE, 32, { backend: "", icds: ["lvp_icd.x86_64.json"], gpus: [] });
  assert.equal(r.kind, "lavapipe");
  assert.equal(r.advice, null);
  const g = adapterReport(LLVMPIPE, 32, { icds: [], gpus: ["/dev/nvidia0"] });
  assert.match(g.advice ?? "", /\/dev\/nvidia0/);
});

Deno.test("a hardware adapter is a GPU, with no advice", () => {
  const r = adapterReport(
    { description: "NVIDIA H200", vendor: "4318", architecture: "", isFallback: false },
    96,
    { icds: ["nvidia_icd.json"], gpus: ["/dev/nvidia0"] },
  );
  assert.equal(r.kind, "gpu");
  assert.equal(r.advice, null);
  assert.match(r.running, /NVIDIA H200/);
});
