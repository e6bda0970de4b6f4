/**
 * Which kind of adapter WebGPU gave us, and whether this machine could give a faster one.
 *
 * Deno's WebGPU (wgpu) asks Vulkan first and OpenGL ES (through EGL) second, unless
 * DENO_WEBGPU_BACKEND names one. Both of Mesa's CPU adapters call themselves "llvmpipe (LLVM ...)";
 * they differ in their limits: lavapipe (Vulkan) allows 32 storage buffers per shader stage, GL
 * llvmpipe 16.
 */
import type { AdapterSummary } from "./context.ts";

export type AdapterKind = "gpu" | "lavapipe" | "gl-llvmpipe" | "cpu";

export interface AdapterReport {
  kind: AdapterKind;
  /** One line: what runs ("lavapipe: Mesa's Vulkan CPU adapter", "GPU: NVIDIA ..."). */
  running: string;
  /** What a faster adapter on this machine would take, or null when none is known to be better. */
  advice: string | null;
}

/** The Vulkan driver manifests the loader reads (Linux). */
const ICD_DIRS = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];

function listIcds(): string[] {
  const out: string[] = [];
  for (const dir of ICD_DIRS) {
    try {
      for (const e of Deno.readDirSync(dir)) if (e.name.endsWith(".json")) out.push(e.name);
    } catch {
      // absent directory: no manifests there
    }
  }
  return out;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Names of GPU device nodes present on this machine (NVIDIA, DRM render nodes). */
function gpuDevices(): string[] {
  const found: string[] = [];
  if (exists("/dev/nvidia0")) found.push("/dev/nvidia0");
  try {
    for (const e of Deno.readDirSync("/dev/dri")) {
      if (e.name.startsWith("renderD")) found.push(`/dev/dri/${e.name}`);
    }
  } catch {
    // no DRM devices
  }
  return found;
}

export const LAVAPIPE_HINT = "apt-get install mesa-vulkan-drivers (Debian/Ubuntu; " +
  "Fedora: mesa-vulkan-drivers, Arch: vulkan-swrast)";

/** Classifies the running adapter and says whether (and how) this machine could run a faster one. */
export function adapterReport(
  a: AdapterSummary,
  maxStorageBuffers: number,
  env: { backend?: string; icds?: string[]; gpus?: string[] } = {},
): AdapterReport {
  const forced = (env.backend ?? Deno.env.get("DENO_WEBGPU_BACKEND") ?? "").toLowerCase();
  const icds = env.icds ?? listIcds();
  const gpus = env.gpus ?? gpuDevices();
  const software = a.isFallback || /llvmpipe|lavapipe|swiftshader|software/i.test(a.description);
  const lavapipeInstalled = icds.some((f) => f.startsWith("lvp_icd"));
  const gpuAdvice = gpus.length
    ? `this machine has a GPU (${gpus.join(", ")}) that WebGPU did not pick: install its Vulkan ` +
      "driver (NVIDIA: the driver's Vulkan ICD and libvulkan1; AMD/Intel: mesa-vulkan-drivers) " +
      "and leave DENO_WEBGPU_BACKEND unset"
    : null;
  if (!software) {
    return { kind: "gpu", running: `GPU: ${a.description}`, advice: null };
  }
  if (/llvmpipe/i.test(a.description) && maxStorageBuffers <= 16) {
    const running = `GL llvmpipe: Mesa's OpenGL CPU adapter through EGL (${a.description})`;
    if (gpuAdvice) return { kind: "gl-llvmpipe", running, advice: gpuAdvice };
    if (lavapipeInstalled) {
      return {
        kind: "gl-llvmpipe",
        running,
        advice: forced === "gl"
          ? "lavapipe (Vulkan, ~2x faster on memory-heavy kernels) is installed: unset " +
            "DENO_WEBGPU_BACKEND=gl to use it"
          : "lavapipe is installed but was not picked: check that libvulkan1 is installed and " +
            "that DENO_WEBGPU_BACKEND is unset",
      };
    }
    return {
      kind: "gl-llvmpipe",
      running,
      advice:
        `a faster CPU adapter, lavapipe (Vulkan, ~2x on memory-heavy kernels): ${LAVAPIPE_HINT}`,
    };
  }
  if (/llvmpipe/i.test(a.description)) {
    return {
      kind: "lavapipe",
      running: `lavapipe: Mesa's Vulkan CPU adapter (${a.description})`,
      advice: gpuAdvice,
    };
  }
  return { kind: "cpu", running: `software adapter: ${a.description}`, advice: gpuAdvice };
}
