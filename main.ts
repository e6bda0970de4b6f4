/** l3mask: argument parsing and dispatch to src/cli/<command>.ts; nothing else. */
import { UserError } from "./src/errors.ts";
import { VERSION } from "./src/version.ts";
import { MATMUL_VARIANTS } from "./src/kernels/linear_tune.ts";

const USAGE = `l3mask ${VERSION} — L3Masking domain adaptation for BERT-family models on WebGPU

Usage: l3mask <command> [options]

Commands:
  demo       the embedded default: score e-mails with the shipped model, train a short L3Masking run
  doctor     show the WebGPU adapter, its limits, and run a matmul self-check
  inspect    a model's architecture, size, tokenizer and the device memory it needs
  score      token-wise pseudo-likelihood and L3Masking mask probabilities of a dataset
  merge-scores  join the outputs of 'score --shard I/N' into one single-run output
  train      fine-tune a classifier: STL, or MTL with RTM or L3Masking, fixed or META-TARTAN weights
  eval       accuracy, macro-F1 and predictions of a saved classifier
  vocab      train a WordPiece vocabulary (tokenizer.json) on a corpus
  pretrain   masked-LM training of a new model from random initialisation
  adapt      continued masked-LM training of a model on domain text (RTM or L3Masking)
  help       show this message

Options:
  -h, --help        show help (also after a command: l3mask doctor --help)
  -V, --version     print the version
  --matmul VARIANT  force the large-matmul kernel on any command: slab (CPU adapters' fast one)
                    or tile (the GPU-style one); default: measured per adapter (doctor --tune).
                    Both give identical results. Also L3MASK_MATMUL=VARIANT.
`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./src/cli/demo.ts")).demo,
  doctor: async () => (await import("./src/cli/doctor.ts")).doctor,
  inspect: async () => (await import("./src/cli/inspect.ts")).inspect,
  score: async () => (await import("./src/cli/score.ts")).score,
  "merge-scores": async () => (await import("./src/cli/merge_scores.ts")).mergeScores,
  train: async () => (await import("./src/cli/train.ts")).train,
  eval: async () => (await import("./src/cli/eval.ts")).evalCommand,
  vocab: async () => (await import("./src/cli/vocab.ts")).vocab,
  pretrain: async () => (await import("./src/cli/pretrain.ts")).pretrain,
  adapt: async () => (await import("./src/cli/pretrain.ts")).adapt,
};

/**
 * Takes `--matmul VARIANT` / `--matmul=VARIANT` out of the arguments into L3MASK_MATMUL (read by
 * src/kernels/linear_tune.ts); an error message when the value is missing or unknown.
 */
function takeMatmulFlag(argv: string[]): { args: string[]; error?: string } {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a !== "--matmul" && !a.startsWith("--matmul=")) {
      args.push(a);
      continue;
    }
    const v = a === "--matmul" ? argv[++i] : a.slice("--matmul=".length);
    if (!(MATMUL_VARIANTS as readonly string[]).includes(v ?? "")) {
      return {
        args,
        error: `--matmul takes one of ${MATMUL_VARIANTS.join(", ")}, got '${v ?? ""}'`,
      };
    }
    Deno.env.set("L3MASK_MATMUL", v);
  }
  const env = Deno.env.get("L3MASK_MATMUL");
  if (env && !(MATMUL_VARIANTS as readonly string[]).includes(env)) {
    return {
      args,
      error: `L3MASK_MATMUL takes one of ${MATMUL_VARIANTS.join(", ")}, got '${env}'`,
    };
  }
  return { args };
}

async function main(argv: string[]): Promise<number> {
  const taken = takeMatmulFlag(argv);
  if (taken.error) {
    console.error(`l3mask: ${taken.error}`);
    return 2;
  }
  const [name, ...rest] = taken.args;
  if (name === undefined || name === "help" || name === "-h" || name === "--help") {
    console.log(USAGE);
    return 0;
  }
  if (name === "-V" || name === "--version") {
    console.log(VERSION);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(
      `l3mask: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(", ")}, help.`,
    );
    return 2;
  }
  try {
    await (await load())(rest);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`l3mask ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
