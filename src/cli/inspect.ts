/** `l3mask inspect --model M`: architecture, size, tokenizer and the device memory it needs. */
import { basename, join } from "node:path";
import { matchCheckpoint, readHfConfig } from "../model/hf_config.ts";
import { resolveModel } from "../io/hub.ts";
import { findWeightsFile, readWeightsEntries } from "../io/weights_file.ts";
import { loadTokenizer } from "../io/tokenizer.ts";
import { type ModelConfig, resolveMaxLength } from "../model/config.ts";
import { modelNames } from "../model/params.ts";
import { estimateMemory, formatBytes } from "../model/memory.ts";
import { checkTokenizerFits } from "../model/weights.ts";
import { parse } from "../options/args.ts";
import { UserError } from "../errors.ts";
import { CommandOptions } from "../options/command.ts";
import { option } from "../options/table.ts";

const OPTIONS = new CommandOptions("inspect", ["model", "batch", "max_length", "offline"] as const);

const USAGE = `Usage: l3mask inspect --model M [--batch B] [--max-length T] [--offline]

Prints a model's architecture, parameter count, vocabulary, tokenizer kind and the device memory
scoring and training need, and the files it read. M is a local directory (config.json;
tokenizer.json, or vocab.txt, or vocab.json + merges.txt; model.safetensors or
pytorch_model.bin) or a Hugging Face hub id.

Options:
${OPTIONS.help()}`;

export async function inspect(args: string[]): Promise<void> {
  const { values } = parse("inspect", args, OPTIONS.flagOptions(), USAGE);
  const o = OPTIONS.readFlags(values);
  const B = o.batch;
  const dir = await resolveModel(o.model, {
    offline: o.offline,
    progress: (m) => console.error(m),
  });
  const configFile = join(dir, "config.json");
  const info = await readHfConfig(configFile);
  const cfg = info.config;
  const weightsFile = await findWeightsFile(dir);
  const entries = await readWeightsEntries(weightsFile);
  // The same checks score and train make: sizes in config.json must be those of the tensors.
  const match = matchCheckpoint(
    weightsFile,
    entries,
    cfg,
    { mlm: "optional", classifier: "optional" },
    configFile,
  );
  const tok = await loadTokenizer(dir);
  checkTokenizerFits(tok, cfg, configFile);
  const resolved = resolveMaxLength(cfg, o.maxLength);
  if ("problem" in resolved) throw new UserError(resolved.problem);
  const T = resolved.maxLength;
  const dtypes = new Map<string, number>();
  let fileParams = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    fileParams += n;
    dtypes.set(e.dtype, (dtypes.get(e.dtype) ?? 0) + n);
  }
  const mem = estimateMemory(cfg, {
    B,
    T,
    mlmRows: Math.ceil(B * T * (option("pbar").default as number)),
  });
  const memScore = estimateMemory(cfg, { B: 1, T, mlmRows: T }, { mlm: true, classifier: false });
  const lines = [
    ["model", `${o.model}${dir !== o.model ? ` (${dir})` : ""}`],
    [
      "architecture",
      `${cfg.modelType} (${info.architectures.join(", ") || "no architectures field"})`,
    ],
    [
      "layers / hidden / heads",
      `${cfg.layers} / ${cfg.hidden} / ${cfg.heads} (intermediate ${cfg.intermediate})`,
    ],
    ["positions", `${cfg.maxPositions}`],
    ["vocabulary", `${cfg.vocabSize} (tokenizer: ${tok.kind}, ${tok.vocabSize} entries)`],
    [
      "tokenizer files",
      tok.files.map((f) => basename(f)).join(", ") +
      (tok.files.length === 1 && basename(tok.files[0]) === "tokenizer.json"
        ? ""
        : " (tokenizer.json built from them)"),
    ],
    ["labels", info.labels ? `${info.labels.length}: ${info.labels.join(", ")}` : "none in config"],
    ["heads in file", headsInFile(cfg, match.names)],
    [
      "parameters (l3mask)",
      `${(mem.params / 1e6).toFixed(2)} M (encoder + MLM head${
        cfg.numLabels >= 2 ? " + classifier" : ""
      })`,
    ],
    [
      "tensors in file",
      `${entries.length} in ${basename(weightsFile)}, ${(fileParams / 1e6).toFixed(2)} M values (${
        [...dtypes].map(([d, n]) => `${d} ${(n / 1e6).toFixed(2)}M`).join(", ")
      })`,
    ],
    [
      "device memory, score",
      `${formatBytes(memScore.inferenceBytes)} (weights ${
        formatBytes(memScore.paramBytes)
      } + activations of one ${T}-token forward)`,
    ],
    [
      "device memory, train",
      `${formatBytes(mem.trainingBytes)} (weights + gradients + AdamW moments ${
        formatBytes(4 * mem.paramBytes)
      }, activations of ${B} x ${T} tokens ${formatBytes(mem.activationBytes)})`,
    ],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(w)}  ${v}`);
}

/** The heads whose tensors the checkpoint holds (matchCheckpoint's mapped names). */
function headsInFile(cfg: ModelConfig, mapped: Map<string, string>): string {
  const n = modelNames(cfg);
  const heads = [];
  if (mapped.has(n.mlmBias) && mapped.has(`${n.mlmDense}.weight`)) heads.push("MLM");
  if (mapped.has(`${n.clsOut}.weight`)) heads.push(`classifier (${cfg.numLabels} labels)`);
  return heads.length ? heads.join(", ") : "none (encoder only)";
}
