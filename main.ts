/** l3mask: argument parsing and dispatch to src/cli/<command>.ts; nothing else. */
import { UserError } from "./src/errors.ts";
import { VERSION } from "./src/version.ts";

const USAGE = `l3mask ${VERSION} — L3Masking domain adaptation for BERT-family models on WebGPU

Usage: l3mask <command> [options]

Commands:
  demo       the embedded default: score e-mails with the shipped model, train a short L3Masking run
  doctor     show the WebGPU adapter, its limits, and run a matmul self-check
  inspect    a model's architecture, size, tokenizer and the device memory it needs
  score      token-wise pseudo-likelihood and L3Masking mask probabilities of a dataset
  train      fine-tune a classifier: STL, or MTL with RTM or L3Masking, fixed or META-TARTAN weights
  eval       accuracy, macro-F1 and predictions of a saved classifier
  vocab      train a WordPiece vocabulary (tokenizer.json) on a corpus
  pretrain   masked-LM training of a new model from random initialisation
  adapt      continued masked-LM training of a model on domain text (RTM or L3Masking)
  help       show this message

Options:
  -h, --help     show help (also after a command: l3mask doctor --help)
  -V, --version  print the version
`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./src/cli/demo.ts")).demo,
  doctor: async () => (await import("./src/cli/doctor.ts")).doctor,
  inspect: async () => (await import("./src/cli/inspect.ts")).inspect,
  score: async () => (await import("./src/cli/score.ts")).score,
  train: async () => (await import("./src/cli/train.ts")).train,
  eval: async () => (await import("./src/cli/eval.ts")).evalCommand,
  vocab: async () => (await import("./src/cli/vocab.ts")).vocab,
  pretrain: async () => (await import("./src/cli/pretrain.ts")).pretrain,
  adapt: async () => (await import("./src/cli/pretrain.ts")).adapt,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
