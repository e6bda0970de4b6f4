/**
 * The model a model-level bench runs (forward_bench, train_bench, score_bench), from `--model`:
 *
 *   tiny                  tests/fixtures/tiny-bert or tiny-roberta (each bench names which)
 *   mini                  models/l3mask-mini
 *   roberta-base-shapes   roberta-base's real config (V 50265, C 768, 12 layers, 12 heads, 3072,
 *                         514 positions) with seeded random weights (initParams), nothing downloaded
 *   <directory>           any checkpoint directory with config.json and model.safetensors
 *
 * Both sides of a bench run the same weights: the parameters l3mask uses (the checkpoint's, plus
 * any head it lacks, initialised from the seed; or all of them for roberta-base-shapes) are
 * written once as an F32 checkpoint into a temporary directory, which l3mask loads and the
 * PyTorch peer loads strictly (bench/peers/model.py load_params(strict=True): a missing tensor is
 * an error, never a random fill). A child Deno process writes that directory, so the bench's own
 * peak RSS never holds the generation's transients (roberta-base's 125M parameters are 500 MB).
 *
 * The tokenizer is the checkpoint's tokenizer.json, or `--tokenizer PATH`. roberta-base-shapes
 * has none of its own and defaults to tiny-roberta's byte-level BPE (<s> 0, <pad> 1, </s> 2, as
 * roberta-base): its 372-entry vocabulary splits text into more tokens than roberta-base's would,
 * which changes nothing for batches filled to T tokens (train, forward) but makes scored texts
 * longer; pass roberta-base's own tokenizer.json where one is at hand.
 *
 * Run as a program it is that child: `deno run -A bench/models.ts --write DIR --source SRC
 * --mlm 0|1 --classifier 0|1 --num-labels K --seed S` prints one JSON line.
 */
import { join, resolve } from "node:path";
import { readHfConfig, toHfConfig } from "../src/model/hf_config.ts";
import { writeSafetensors } from "../src/io/safetensors.ts";
import { type L3Tokenizer, loadTokenizer } from "../src/io/tokenizer.ts";
import type { ModelConfig } from "../src/model/config.ts";
import { paramSpecs } from "../src/model/params.ts";
import {
  checkTokenizerFits,
  type HostParams,
  initParams,
  loadCheckpoint,
} from "../src/model/weights.ts";
import { ROOT, strFlag } from "./util.ts";

/** roberta-base's config.json, in l3mask's names (numLabels set per bench). */
export const ROBERTA_BASE: ModelConfig = {
  modelType: "roberta",
  vocabSize: 50265,
  hidden: 768,
  layers: 12,
  heads: 12,
  intermediate: 3072,
  maxPositions: 514,
  typeVocabSize: 1,
  layerNormEps: 1e-5,
  padTokenId: 1,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  numLabels: 0,
};

const RANDOM = "roberta-base-shapes";
const TINY = {
  bert: `${ROOT}tests/fixtures/tiny-bert`,
  roberta: `${ROOT}tests/fixtures/tiny-roberta`,
};
const MINI = `${ROOT}models/l3mask-mini`;

export interface Heads {
  mlm: boolean;
  classifier: boolean;
}

export interface BenchModelOptions {
  /** The bench's default `--model` (kept as it was before the flag existed). */
  fallback: string;
  /** Which fixture `tiny` means for this bench. */
  tiny: "bert" | "roberta";
  heads: Heads;
  /** Classifier size (a checkpoint's classifier of another size is re-initialised). */
  numLabels?: number;
  /** Fails early when the bench tokenizes text and the model has no tokenizer. */
  needTokenizer: boolean;
  seed?: number;
}

export interface BenchModel extends AsyncDisposable {
  /** What the bench prints: where the weights came from. */
  label: string;
  config: ModelConfig;
  heads: Heads;
  /** F32 checkpoint of exactly the parameters l3mask runs (temporary); the peers read it. */
  dir: string;
  nParams: number;
  /** Parameters the source lacked and the seed initialised (all of them for random shapes). */
  initialised: string[];
  tokenizer: L3Tokenizer | null;
  tokenizerSource: string | null;
  /** Fresh host copies of the parameters, read from `dir` (drop them once uploaded). */
  params(): Promise<HostParams>;
  /** "V 50265, C 768, 12 layers, 12 heads, I 3072, 514 positions". */
  shapes(): string;
}

/** `--model`: a named model or a checkpoint directory, resolved for a bench. */
export async function benchModel(o: BenchModelOptions): Promise<BenchModel> {
  const spec = strFlag("model", o.fallback);
  const source = resolveSource(spec, o.tiny);
  const seed = o.seed ?? 0;
  const dir = await Deno.makeTempDir({ prefix: "l3mask-bench-" });
  const dispose = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${ROOT}deno.json`,
        new URL(import.meta.url).pathname,
        "--write",
        dir,
        "--source",
        source,
        "--mlm",
        o.heads.mlm ? "1" : "0",
        "--classifier",
        o.heads.classifier ? "1" : "0",
        "--num-labels",
        String(o.numLabels ?? 0),
        "--seed",
        String(seed),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout).trim();
    if (out.code !== 0) {
      throw new Error(
        `writing the bench checkpoint of --model ${spec} failed (exit ${out.code}):\n` +
          new TextDecoder().decode(out.stderr).slice(-4000),
      );
    }
    const written = JSON.parse(stdout.split("\n").pop()!) as {
      nParams: number;
      initialised: string[];
      config: ModelConfig;
    };
    const tokPath = strFlag("tokenizer", "") ||
      (source === RANDOM ? TINY.roberta : await tokenizerIn(source));
    const tokenizer = tokPath ? await loadTokenizer(tokPath) : null;
    if (tokenizer) checkTokenizerFits(tokenizer, written.config, `--model ${spec}`);
    else if (o.needTokenizer) {
      throw new Error(`--model ${spec} has no tokenizer.json; pass --tokenizer PATH`);
    }
    const cfg = written.config;
    const init = written.initialised;
    const label = source === RANDOM
      ? `${RANDOM} (random weights, seed ${seed})`
      : `${spec === source ? source : `${spec} = ${source}`}${
        init.length ? ` (initialised from seed ${seed}: ${summarise(init)})` : ""
      }`;
    return {
      label,
      config: cfg,
      heads: o.heads,
      dir,
      nParams: written.nParams,
      initialised: init,
      tokenizer,
      tokenizerSource: tokenizer ? tokenizer.source : null,
      params: async () => {
        const numLabels = o.heads.classifier ? cfg.numLabels : undefined;
        const loaded = await loadCheckpoint(dir, o.heads, {
          numLabels,
          tokenizer: tokenizer ?? undefined,
        });
        return loaded.params;
      },
      shapes: () =>
        `V ${cfg.vocabSize}, C ${cfg.hidden}, ${cfg.layers} layers, ${cfg.heads} heads, ` +
        `I ${cfg.intermediate}, ${cfg.maxPositions} positions` +
        (o.heads.classifier ? `, ${cfg.numLabels} labels` : ""),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

function resolveSource(spec: string, tiny: "bert" | "roberta"): string {
  if (spec === "tiny") return TINY[tiny];
  if (spec === "mini") return MINI;
  if (spec === RANDOM) return RANDOM;
  const dir = resolve(spec);
  try {
    if (Deno.statSync(join(dir, "config.json")).isFile) return dir;
  } catch { /* reported below */ }
  throw new Error(
    `--model ${spec}: not tiny, mini or ${RANDOM}, and not a directory with config.json`,
  );
}

async function tokenizerIn(dir: string): Promise<string | null> {
  const file = join(dir, "tokenizer.json");
  return await Deno.stat(file).then((s) => (s.isFile ? file : null), () => null);
}

function summarise(names: string[]): string {
  return names.length <= 4
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

/** The child: write `--write DIR` from `--source` (a checkpoint directory or the random shapes). */
async function writeBenchCheckpoint(): Promise<void> {
  const dir = strFlag("write", "");
  const source = strFlag("source", "");
  const heads = {
    mlm: strFlag("mlm", "0") === "1",
    classifier: strFlag("classifier", "0") === "1",
  };
  const asked = Number(strFlag("num-labels", "0"));
  const seed = Number(strFlag("seed", "0"));
  let cfg: ModelConfig;
  let params: HostParams;
  let initialised: string[];
  let original: Record<string, unknown> | undefined;
  if (source === RANDOM) {
    cfg = { ...ROBERTA_BASE, numLabels: heads.classifier ? Math.max(asked, 2) : 0 };
    const specs = paramSpecs(cfg, heads);
    params = initParams(specs, seed);
    initialised = specs.map((p) => p.name);
  } else {
    // A classifier of the asked size; else the checkpoint's labels; else 2 (transformers' default).
    const own = (await readHfConfig(join(source, "config.json"))).config.numLabels;
    const numLabels = heads.classifier ? (asked || (own >= 2 ? own : 2)) : undefined;
    const m = await loadCheckpoint(
      source,
      { mlm: heads.mlm ? "optional" : false, classifier: heads.classifier ? "optional" : false },
      { numLabels, seed },
    );
    cfg = m.config;
    params = m.params;
    initialised = m.initialised;
    original = m.raw;
  }
  const specs = paramSpecs(cfg, heads);
  await writeSafetensors(
    join(dir, "model.safetensors"),
    specs.map((p) => ({ name: p.name, shape: p.shape, data: params.get(p.name)! })),
    { format: "pt" },
  );
  const head = heads.classifier ? "classification" : heads.mlm ? "mlm" : "base";
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify(toHfConfig(cfg, { head, original }), null, 2) + "\n",
  );
  const nParams = specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  console.log(JSON.stringify({ nParams, initialised, config: cfg }));
}

if (import.meta.main) await writeBenchCheckpoint();
