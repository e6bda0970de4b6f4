/** The train configuration: SPEC defaults, layering, the configs/ files, errors, flags, config.yaml. */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import {
  BUILTIN_CONFIGS,
  CONFIG_KEYS,
  configHelp,
  type ConfigLayer,
  flagsToValues,
  fromResolvedYaml,
  loadConfigFile,
  parseConfigText,
  resolveConfig,
  toYaml,
  TrainConfig,
  trainFlagOptions,
  withValues,
} from "../src/train/config.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function assertEquals(actual: unknown, expected: unknown, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  assert(a === e, `${label}: expected ${e}, got ${a}`);
}

/** Runs `fn`, expects a one-line UserError containing every string in `parts`. */
async function expectUserError(fn: () => unknown, parts: string[]): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof UserError, `expected a UserError, got ${err}`);
    assert(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) assert(err.message.includes(p), `message lacks '${p}': ${err.message}`);
    return err.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}`);
}

const DATA: ConfigLayer = {
  source: "command line",
  flags: true,
  values: { model: "roberta-base", train: "t.jsonl", dev: "d.jsonl" },
};

const configsDir = new URL("../configs/", import.meta.url);

Deno.test("defaults equal SPEC §5/§6", () => {
  const c = resolveConfig([DATA]);
  const expected: TrainConfig = {
    model: "roberta-base",
    train: "t.jsonl",
    dev: "d.jsonl",
    textColumn: "text",
    labelColumn: "label",
    skipBadRows: false,
    seed: 42,
    offline: false,
    mode: "mtl",
    masking: "l3",
    weighting: "meta",
    pbar: 0.15,
    complement: "one-minus",
    overflow: "redistribute",
    batchTokens: 8192,
    copies: "exact",
    batchSize: 64,
    gradAccum: 1,
    mlmBatchSize: 64,
    dropout: 0.1,
    encoderLr: 1e-4,
    encoderBetas: [0.9, 0.98],
    encoderEps: 1e-6,
    encoderWeightDecay: 0.01,
    headLr: 1e-3,
    headWeightDecay: 0.1,
    warmupRatio: 0.06,
    clipNorm: 1.0,
    maxEpochs: 150,
    metaLr: 1e-2,
    devHeadSteps: 10,
    devHeadLr: 1e-3,
    devHeadWeightDecay: 0.1,
    devHeadTol: 1e-3,
    devHeadExamples: 32,
    evalEvery: "epoch",
    metric: "macro_f1",
    patience: 3,
    finetuneEpochs: 0,
    finetuneLr: 5e-6,
    finetunePatience: 3,
  };
  const sorted = (o: object) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  assertEquals(sorted(c), sorted(expected), "defaults");
  for (
    const k of [
      "test",
      "textPairColumn",
      "inputFormat",
      "out",
      "cacheDir",
      "maxSteps",
      "maxTrainExamples",
      "maxLength", // resolved from the model: min(128, its positions)
    ]
  ) {
    assert(!(k in c), `${k} is unset by default`);
  }
});

Deno.test("layers: defaults < config file < flags; null resets to the default", () => {
  const file = parseConfigText(
    "batch_size: 32\nencoder_lr: 2e-5\nmasking: rtm\ntest: e.jsonl\n",
    "x.yaml",
  );
  const flags = flagsToValues({ "encoder-lr": "3e-5", "max-steps": "100" });
  const c = resolveConfig([DATA, { source: "x.yaml", values: file }, {
    source: "command line",
    values: flags,
    flags: true,
  }]);
  assertEquals([c.batchSize, c.mlmBatchSize, c.encoderLr, c.masking, c.test, c.maxSteps], [
    32,
    32,
    3e-5,
    "rtm",
    "e.jsonl",
    100,
  ], "merged");
  assertEquals(c.headLr, 1e-3, "untouched default");
  const reset = resolveConfig([DATA, { source: "x.yaml", values: file }, {
    source: "y.yaml",
    values: { batch_size: null, test: null },
  }]);
  assertEquals([reset.batchSize, reset.test], [64, undefined], "reset");
  const skipped = resolveConfig([DATA, { source: "x.yaml", values: file }, {
    source: "z",
    values: { batch_size: undefined },
  }]);
  assertEquals(skipped.batchSize, 32, "undefined is not a reset");
  const stl = resolveConfig([DATA, {
    source: "x.yaml",
    values: { mode: "stl", masking: "rtm", weighting: "fixed" },
  }]);
  assertEquals(
    [stl.mode, stl.masking, stl.weighting],
    ["stl", "rtm", "fixed"],
    "stl keeps the rest as given",
  );
});

Deno.test("every YAML in configs/ loads, validates and matches its embedded copy", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(configsDir)) if (e.name.endsWith(".yaml")) names.push(e.name);
  assertEquals(names.sort(), ["paper.yaml", "reference.yaml", "tiny.yaml"], "configs/");
  const resolved: Record<string, TrainConfig> = {};
  for (const name of names) {
    const path = join(configsDir.pathname, name);
    const values = await loadConfigFile(path);
    for (const k of ["model", "train", "dev"]) assert(!(k in values), `${name} sets ${k}`);
    resolved[name] = resolveConfig([{ source: path, values }, DATA]);
    const builtin = name.replace(".yaml", "");
    assertEquals(BUILTIN_CONFIGS[builtin], await Deno.readTextFile(path), `embedded ${name}`);
    assertEquals(
      resolveConfig([{ source: builtin, values: await loadConfigFile(builtin) }, DATA]),
      resolved[name],
      `--config ${builtin}`,
    );
  }
  // paper.yaml spells out max_length 128, which the defaults leave to the model (min(128, P)).
  assertEquals(
    resolved["paper.yaml"],
    withValues(resolveConfig([DATA]), { maxLength: 128 }),
    "paper.yaml = SPEC defaults",
  );
  const ref = resolved["reference.yaml"];
  assertEquals(
    [
      ref.batchSize,
      ref.gradAccum,
      ref.complement,
      ref.overflow,
      ref.finetuneEpochs,
      ref.finetuneLr,
      ref.finetunePatience,
    ],
    [128, 2, "surprisal", "clip", 10, 5e-6, 3],
    "reference.yaml",
  );
  const tiny = resolved["tiny.yaml"];
  assertEquals(
    [
      tiny.batchSize,
      tiny.maxLength,
      tiny.maxEpochs,
      tiny.evalEvery,
      tiny.patience,
      tiny.devHeadSteps,
      tiny.devHeadExamples,
      tiny.maxTrainExamples,
    ],
    [16, 64, 3, "epoch", 2, 3, 16, 256],
    "tiny.yaml",
  );
});

Deno.test("unknown keys name the source, line and closest key", async () => {
  const values = parseConfigText("seed: 1\nlearning_rate: 2e-5\n", "configs/x.yaml");
  await expectUserError(() => resolveConfig([{ source: "configs/x.yaml", values }]), [
    "configs/x.yaml:2: unknown key 'learning_rate'; did you mean 'encoder_lr'?",
  ]);
  await expectUserError(() => resolveConfig([{ source: "a.yaml", values: { encoder_l: 1 } }]), [
    "a.yaml: unknown key 'encoder_l'; did you mean 'encoder_lr'?",
  ]);
  await expectUserError(() => resolveConfig([{ source: "a.yaml", values: { "head-lr": 1 } }]), [
    "did you mean 'head_lr'?",
  ]);
  await expectUserError(() => resolveConfig([{ source: "a.yaml", values: { zzzzzz: 1 } }]), [
    "unknown key 'zzzzzz'; see 'l3mask train --help'",
  ]);
});

Deno.test("bad values name the source, key, value and what is expected", async () => {
  const file = (
    text: string,
  ) => [DATA, { source: "bad.yaml", values: parseConfigText(text, "bad.yaml") }];
  await expectUserError(() => resolveConfig(file("seed: 1\nencoder_lr: -1e-3\n")), [
    "bad.yaml:2: encoder_lr: expected a number > 0, got -1e-3",
  ]);
  await expectUserError(() => resolveConfig(file("dropout: 1\n")), [
    "bad.yaml:1: dropout: expected a number in [0, 1), got 1",
  ]);
  await expectUserError(() => resolveConfig(file("eval_every: 0\n")), [
    "bad.yaml:1: eval_every: expected 'epoch' or a number",
    "got 0",
  ]);
  await expectUserError(() => resolveConfig(file("batch_size: 64.5\n")), [
    "batch_size: expected an integer >= 1, got 64.5",
  ]);
  await expectUserError(() => resolveConfig(file("encoder_betas: [0.9, 1]\n")), [
    "encoder_betas: expected two numbers in [0, 1)",
    "got 0.9,1",
  ]);
  await expectUserError(() => resolveConfig(file("masking: random\n")), [
    "masking: expected one of rtm, l3, got 'random'",
  ]);
  await expectUserError(() => resolveConfig(file("encoder_lr: '1e-4'\n")), [
    "encoder_lr: expected a number > 0, got '1e-4'",
  ]);
  await expectUserError(() => resolveConfig(file("text_column: 3\n")), [
    "text_column: expected a non-empty string, got 3; quote it",
  ]);
  await expectUserError(() => resolveConfig(file("pbar: 0\n")), [
    "pbar: expected a number in (0, 1], got 0",
  ]);
  // Cross-field: blamed on the layer that set a value last, the other one's origin shown.
  await expectUserError(() => resolveConfig(file("batch_size: 64\ngrad_accum: 3\n")), [
    "bad.yaml:2: grad_accum 3 must divide batch_size 64 (bad.yaml:1)",
  ]);
  await expectUserError(
    () =>
      resolveConfig([...file("batch_size: 64\n"), {
        source: "command line",
        flags: true,
        values: flagsToValues({ "grad-accum": "3" }),
      }]),
    ["command line: --grad-accum 3 must divide batch_size 64 (bad.yaml:1)"],
  );
  await expectUserError(() => resolveConfig(file("grad_accum: 3\n")), [
    "bad.yaml:1: grad_accum 3 must divide batch_size 64 (default)",
  ]);
  await expectUserError(() => resolveConfig(file("grad_accum: 2\nmlm_batch_size: 33\n")), [
    "mlm_batch_size 33",
  ]);
  await expectUserError(() => resolveConfig(file("max_length: 512\nbatch_tokens: 256\n")), [
    "batch_tokens 256 must be at least max_length 512",
  ]);
  await expectUserError(
    () =>
      resolveConfig([{
        source: "command line",
        flags: true,
        values: flagsToValues({ "encoder-lr": "-1", "eval-every": "soon" }),
      }]),
    ["command line: --encoder-lr: expected a number > 0, got -1"],
  );
  await expectUserError(() => resolveConfig([{ source: "x", values: { model: "m" } }]), [
    "missing train, dev: pass --train FILE, --dev FILE",
  ]);
  // The schema alone enforces the same rules.
  assert(
    !TrainConfig.safeParse({ model: "m", train: "t", dev: "d", gradAccum: 3 }).success,
    "schema cross-field rule",
  );
  assert(
    !TrainConfig.safeParse({ model: "m", train: "t", dev: "d", learningRate: 1 }).success,
    "schema is strict",
  );
});

Deno.test("max_length: unset means the model's default; an explicit value is still checked", async () => {
  const unset = resolveConfig([DATA]);
  assert(unset.maxLength === undefined, "unset by default");
  assert(toYaml(unset).includes("max_length: null\n"), "config.yaml before resolution");
  // batch_tokens is checked against an unset max_length only once the model is known (run.ts).
  assert(
    resolveConfig([DATA, { source: "x", values: { batch_tokens: 16 } }]).maxLength === undefined,
    "small batch_tokens with max_length unset",
  );
  await expectUserError(() => resolveConfig([DATA, { source: "x", values: { max_length: 2 } }]), [
    "x: max_length: expected an integer >= 3, got 2",
  ]);
  await expectUserError(
    () => resolveConfig([DATA, { source: "x", values: { max_length: 64, batch_tokens: 16 } }]),
    ["batch_tokens 16 must be at least max_length 64"],
  );
  // The resolved value, written into config.yaml, reads back as an explicit value.
  const resolved = withValues(unset, { maxLength: 64 });
  const back = fromResolvedYaml(toYaml(resolved), "run/config.yaml");
  assertEquals(back, resolved, "round trip of the resolved value");
  assertEquals(
    Object.keys(resolved),
    Object.keys(resolveConfig([DATA, {
      source: "x",
      values: { max_length: 64 },
    }])),
    "withValues keeps table order",
  );
});

Deno.test("YAML syntax errors name file:line:column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "broken.yaml");
    await Deno.writeTextFile(path, "seed: 1\nencoder_lr: [1e-4\nhead_lr: 1e-3\n");
    await expectUserError(() => loadConfigFile(path), [`${path}:`, "invalid YAML"]);
    await Deno.writeTextFile(path, "seed: 1\nseed: 2\n");
    await expectUserError(() => loadConfigFile(path), [
      `${path}:2:1: invalid YAML: Map keys must be unique`,
    ]);
    await Deno.writeTextFile(path, "- seed\n- 1\n");
    await expectUserError(() => loadConfigFile(path), [`${path}:1: expected 'key: value' lines`]);
    const json = join(dir, "c.json");
    await Deno.writeTextFile(json, '{\n  "seed": 7,\n  "encoder_lr": 2e-5\n}\n');
    assertEquals(await loadConfigFile(json), { seed: 7, encoder_lr: 2e-5 }, "JSON config");
    await Deno.writeTextFile(json, '{\n  "seed": 7,\n  "lr": 2e-5\n}\n');
    await expectUserError(
      async () => resolveConfig([{ source: json, values: await loadConfigFile(json) }]),
      [`${json}:3: unknown key 'lr'; did you mean 'encoder_lr'?`],
    );
    await Deno.writeTextFile(join(dir, "paper.yml"), "seed: 1\n");
    await expectUserError(() => loadConfigFile(join(dir, "papr.yml")), [
      "no such config file; did you mean 'paper.yml'?",
    ]);
    await Deno.writeTextFile(join(dir, "empty.yaml"), "# nothing\n");
    assertEquals(await loadConfigFile(join(dir, "empty.yaml")), {}, "empty file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toYaml → fromResolvedYaml is the identity", () => {
  const configs = [
    resolveConfig([DATA]),
    resolveConfig([
      DATA,
      {
        source: "x",
        values: {
          test: "e: tricky #name.jsonl",
          text_pair_column: "yes",
          input_format: "jsonl",
          out: "runs/2024-01-01",
          cache_dir: "~/c",
          encoder_lr: 3e-5,
          encoder_betas: [0.9, 0.999],
          finetune_lr: 1.234567e-7,
          eval_every: 50,
          max_steps: 100000,
          mode: "stl",
          offline: true,
          skip_bad_rows: true,
          seed: 0xffffffff,
          grad_accum: 4,
          mlm_batch_size: 32,
        },
      },
    ]),
  ];
  for (const c of configs) {
    const yaml = toYaml(c, "l3mask train\nresolved");
    assert(yaml.startsWith("# l3mask train\n# resolved\n"), "header");
    const back = fromResolvedYaml(yaml, "runs/x/config.yaml");
    assertEquals(back, c, "round trip");
    const keys = yaml.split("\n").filter((l) => /^[a-z]/.test(l)).map((l) => l.split(":")[0]);
    assertEquals(keys, CONFIG_KEYS, "every key, in table order");
  }
  assert(toYaml(configs[0]).includes("encoder_lr: 1e-4\n"), "fractions as 1e-4");
  assert(toYaml(configs[0]).includes("test: null\n"), "unset optional keys as null");
});

Deno.test("flags parse into typed values", () => {
  const args = [
    "--encoder-lr",
    "2e-5",
    "--encoder-betas",
    "0.9,0.999",
    "--eval-every",
    "50",
    "--offline",
    "--no-skip-bad-rows",
    "--mode",
    "stl",
    "--config",
    "configs/tiny.yaml",
  ];
  const { values } = parseArgs({
    args,
    options: { ...trainFlagOptions(), config: { type: "string" } },
    strict: true,
  });
  const flags = flagsToValues(values);
  assertEquals(flags, {
    skip_bad_rows: false,
    offline: true,
    mode: "stl",
    encoder_lr: 2e-5,
    encoder_betas: [0.9, 0.999],
    eval_every: 50,
  }, "flags");
  const c = resolveConfig([{ source: "f", values: { skip_bad_rows: true } }, DATA, {
    source: "command line",
    flags: true,
    values: flags,
  }]);
  assertEquals([c.encoderLr, c.encoderBetas, c.evalEvery, c.offline, c.skipBadRows], [
    2e-5,
    [0.9, 0.999],
    50,
    true,
    false,
  ], "resolved");
  assertEquals(
    flagsToValues({ "eval-every": "epoch" }),
    { eval_every: "epoch" },
    "--eval-every epoch",
  );
  assertEquals(
    flagsToValues({ "max-length": "abc" }),
    { max_length: "abc" },
    "non-numbers kept for the check",
  );
  let threw = false;
  try {
    flagsToValues({ offline: true, "no-offline": true });
  } catch (e) {
    threw = e instanceof UserError;
  }
  assert(threw, "--offline with --no-offline");
});

Deno.test("help lists every flag with its default, within 100 columns", () => {
  const help = configHelp([["--resume DIR", "continue an interrupted run"]]);
  for (const k of CONFIG_KEYS) {
    assert(help.includes(`--${k.replaceAll("_", "-")}`), `help lacks ${k}`);
  }
  assert(help.includes("--resume DIR"), "extra rows");
  assert(
    /--encoder-lr X +encoder AdamW learning rate \(default: 1e-4\)/.test(help),
    "encoder_lr row",
  );
  assert(
    /--encoder-betas B1,B2 +encoder AdamW betas \(default: 0\.9,0\.98\)/.test(help),
    "betas row",
  );
  assert(/--model M +.*\(required\)/.test(help), "required row");
  assert(help.includes("(default: min(128, the model's positions))"), "max_length default");
  assert(!help.includes("Usage:"), "the command puts the Usage lines above the options");
  for (const line of help.split("\n")) {
    assert(line.length <= 100, `help line over 100 columns: ${line}`);
  }
});
