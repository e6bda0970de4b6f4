/**
 * pytorch_model.bin (issue 16): torch.save archives read without Python. The fixtures come from
 * tests/fixtures/make_torch_bin.py: the tiny checkpoints as f32, bf16 and f16 .bin files, shared
 * storages and strided views with their expected values, and one malformed file per error. A
 * model directory holding pytorch_model.bin loads the parameters of its safetensors twin, bit for
 * bit; `inspect` reads it. No GPU is needed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import { openSafetensors } from "../src/io/safetensors.ts";
import { openTorchBin, readTorchBinIndex } from "../src/io/torch_bin.ts";
import { findWeightsFile, openWeights, readWeightsEntries } from "../src/io/weights_file.ts";
import { loadCheckpoint } from "../src/model/weights.ts";
import { FIXTURE_MODELS, runCli } from "./cli.ts";
import { withTempDir } from "./util.ts";

const BIN = `${FIXTURE_MODELS}torch_bin/`;
const BAD = `${BIN}malformed/`;

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Bit-for-bit equality of two f32 arrays, naming the first differing index. */
function assertSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const a = bits(actual), e = bits(expected);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) {
      assert.fail(`${label}: index ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** f32 → bf16 → f32, rounding to nearest even (as torch's .to(torch.bfloat16)). */
function bf16Round(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const src = bits(x), dst = bits(out);
  for (let i = 0; i < x.length; i++) {
    const u = src[i];
    dst[i] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

function f16Round(x: Float32Array): Float32Array {
  return Float32Array.from(x, (v) => Math.f16round(v));
}

async function expectUserError(fn: () => Promise<unknown>, parts: string[]): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.ok(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) assert.ok(err.message.includes(p), `'${p}' not in: ${err.message}`);
    return err.message;
  }
  assert.fail(`expected a UserError containing ${JSON.stringify(parts)}, got no error`);
}

/** A model directory: config.json and tokenizer.json of a fixture, and the given weights files. */
async function modelDir(
  dir: string,
  kind: "bert" | "roberta",
  weights: Record<string, string>,
): Promise<string> {
  const from = `${FIXTURE_MODELS}tiny-${kind}`;
  const to = join(dir, `tiny-${kind}`);
  await Deno.mkdir(to, { recursive: true });
  for (const f of ["config.json", "tokenizer.json"]) {
    await Deno.copyFile(join(from, f), join(to, f));
  }
  for (const [name, src] of Object.entries(weights)) await Deno.copyFile(src, join(to, name));
  return to;
}

// ---------------------------------------------------------------------------------------------
// Tensors

for (const kind of ["bert", "roberta"] as const) {
  test(`tiny-${kind}.bin: every tensor equals model.safetensors bit for bit (f32)`, async () => {
    using st = await openSafetensors(`${FIXTURE_MODELS}tiny-${kind}/model.safetensors`);
    using bin = await openTorchBin(`${BIN}tiny-${kind}.bin`);
    for (const [name, e] of st.entries) {
      const b = bin.entries.get(name);
      assert.ok(b, `${name} missing from the .bin`);
      assert.equal(b.dtype, "F32", name);
      assert.deepEqual(b.shape, e.shape, `${name}: shape`);
      assertSameBits(await bin.read(name), await st.read(name), name);
    }
    // What transformers' state_dict() adds: the tied decoder on the same storages, position_ids.
    const p = kind === "bert" ? "bert" : "roberta";
    const [wte, bias, dec] = kind === "bert"
      ? [
        `${p}.embeddings.word_embeddings.weight`,
        "cls.predictions.bias",
        "cls.predictions.decoder",
      ]
      : [`${p}.embeddings.word_embeddings.weight`, "lm_head.bias", "lm_head.decoder"];
    for (const [tied, of] of [[`${dec}.weight`, wte], [`${dec}.bias`, bias]]) {
      assert.equal(bin.entries.get(tied)!.storage, bin.entries.get(of)!.storage, tied);
      assertSameBits(await bin.read(tied), await st.read(of), tied);
    }
    const pos = await bin.read(`${p}.embeddings.position_ids`);
    assert.equal(bin.entries.get(`${p}.embeddings.position_ids`)!.dtype, "I64");
    assert.deepEqual(Array.from(pos), Array.from({ length: 64 }, (_, i) => i));
    assert.equal(bin.entries.size, st.entries.size + 3, "three extra names");
  });
}

test("tiny-bert-bf16.bin and -f16.bin hold the f32 weights rounded to bf16 / f16", async () => {
  using st = await openSafetensors(`${FIXTURE_MODELS}tiny-bert/model.safetensors`);
  for (
    const [file, dtype, round] of [["bf16", "BF16", bf16Round], ["f16", "F16", f16Round]] as const
  ) {
    using bin = await openTorchBin(`${BIN}tiny-bert-${file}.bin`);
    let inexact = 0;
    for (const name of st.entries.keys()) {
      assert.equal(bin.entries.get(name)!.dtype, dtype, name);
      const exact = await st.read(name);
      const rounded = round(exact);
      assertSameBits(await bin.read(name), rounded, `${file} ${name}`);
      inexact += exact.filter((v, i) => v !== rounded[i]).length;
    }
    assert.ok(inexact > 1000, `${file}: the rounding must change values (${inexact} changed)`);
  }
});

test("views: shared storages, strided, offset, expanded, 0-d and empty views read row-major", async () => {
  const expected: Record<string, { shape: number[]; values: number[] }> = JSON.parse(
    await Deno.readTextFile(`${BIN}views.json`),
  );
  // The same records three ways: as torch.save writes them, pickle protocol 4, zip64 records.
  for (const file of ["views.bin", "views-proto4.bin", "views-zip64.bin"]) {
    using bin = await openTorchBin(`${BIN}${file}`);
    assert.deepEqual([...bin.entries.keys()].sort(), Object.keys(expected).sort(), file);
    for (const [name, want] of Object.entries(expected)) {
      assert.deepEqual(bin.entries.get(name)!.shape, want.shape, `${file} ${name}: shape`);
      assertSameBits(await bin.read(name), Float32Array.from(want.values), `${file} ${name}`);
    }
    const e = (n: string) => bin.entries.get(n)!;
    assert.equal(e("tied").storage, e("base").storage, "tied shares base's storage");
    for (const n of ["transposed", "row", "column", "block", "stepped"]) {
      assert.equal(e(n).storage, e("base").storage, `${n} is a view of base`);
    }
    assert.deepEqual(e("transposed").stride, [1, 4]);
    assert.deepEqual([e("block").storageOffset, ...e("block").stride], [5, 4, 1]);
    assert.deepEqual(e("expanded").stride, [0, 1]);
    assert.deepEqual([e("half_tail").dtype, e("bf16_t").dtype], ["F16", "BF16"]);
    // A small view at the end of a larger storage reads only its own bytes.
    assert.equal(e("small_of_big").end - e("small_of_big").begin, 3 * 4);
  }
});

test("readTorchBinIndex: names, dtypes, shapes and byte ranges without reading tensors", async () => {
  const path = `${BIN}tiny-bert.bin`;
  const index = await readTorchBinIndex(path);
  assert.equal(index.fileSize, (await Deno.stat(path)).size);
  using bin = await openTorchBin(path);
  assert.deepEqual(index.entries, [...bin.entries.values()]);
  for (const e of index.entries) {
    assert.ok(0 < e.begin && e.begin <= e.end && e.end <= index.fileSize, e.name);
  }
  // The generic entry point gives the same names and shapes as for safetensors.
  const generic = await readWeightsEntries(path);
  assert.deepEqual(generic.map((e) => e.name), index.entries.map((e) => e.name));
});

// ---------------------------------------------------------------------------------------------
// Malformed files

test("malformed archives: one-line UserErrors naming the file, the problem and the fix", async () => {
  const cases: [string, string[]][] = [
    ["truncated.bin", ["no zip end-of-archive record", "truncated", "download again"]],
    ["bad-offset.bin", [
      "record 'archive/data/0' starts at byte 1048789",
      "past the zip central directory",
      "download again",
    ]],
    ["compressed.bin", [
      "record 'views/data.pkl' is compressed (zip method 8)",
      "torch.save writes records uncompressed",
      "convert the checkpoint to safetensors",
    ]],
    ["forbidden-global.bin", [
      "data.pkl refers to 'os.system'",
      "not part of a state dict of tensors",
      "without running anything",
    ]],
    ["view-past-storage.bin", [
      "tensor 'w' (size [3, 5], stride [5, 1], offset 0) reads storage element 14",
      "storage '0' has 12 elements",
    ]],
    ["storage-short.bin", [
      "storage '0' is 12 × F32 = 48 bytes but its record holds 40 bytes",
      "download again",
    ]],
    ["missing-storage.bin", [
      "tensor 'w' uses storage '1'",
      "no record 'archive/data/1'",
    ]],
    ["no-pickle.bin", ["no <folder>/data.pkl record", "not a torch.save checkpoint"]],
    ["big-endian.bin", [
      "big-endian machine",
      "little-endian archives only",
      "convert the checkpoint to safetensors",
    ]],
    ["complex.bin", ["storage type torch.ComplexFloatStorage", "torch.FloatStorage"]],
    ["not-a-dict.bin", ["holds a list of 1, not a state dict", "state_dict()"]],
    ["legacy.bin", [
      "legacy torch.save format",
      "re-save with torch>=1.6 or convert to safetensors",
    ]],
  ];
  for (const [file, parts] of cases) {
    const path = `${BAD}${file}`;
    const msg = await expectUserError(() => openTorchBin(path), parts);
    assert.ok(msg.startsWith(`${path}: `), `${file}: message starts with the path: ${msg}`);
    // The index (what a fingerprint reads) refuses the same files.
    await expectUserError(() => readTorchBinIndex(path), parts);
  }
});

test("not archives at all: missing, a directory, too short, HDF5, other bytes", async () => {
  await withTempDir(async (dir) => {
    await expectUserError(() => openTorchBin(join(dir, "none.bin")), ["file not found"]);
    await expectUserError(() => openTorchBin(dir), ["is a directory"]);
    const put = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(join(dir, name), bytes);
      return join(dir, name);
    };
    await expectUserError(
      async () => openTorchBin(await put("short.bin", new Uint8Array([0x50, 0x4b]))),
      ["file has 2 bytes, too short"],
    );
    const h5 = new Uint8Array(64);
    h5.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    await expectUserError(async () => openTorchBin(await put("h5.bin", h5)), [
      "is an HDF5 file (TensorFlow/Keras weights)",
    ]);
    await expectUserError(
      async () => openTorchBin(await put("text.bin", new TextEncoder().encode("x".repeat(100)))),
      ["is not a torch.save zip archive"],
    );
    // A sound archive whose pickle was overwritten: MARKs where GLOBAL and REDUCE were.
    const garbled = (await Deno.readFile(`${BIN}views.bin`)).slice();
    const pklAt = garbled.indexOf(0x80, 30); // PROTO, after the first local header
    garbled.fill(0x28, pklAt + 2, pklAt + 40);
    await expectUserError(async () => openTorchBin(await put("marks.bin", garbled)), [
      "data.pkl pops an empty stack",
      "corrupted pickle",
    ]);
  });
});

test("reading: an unknown name is refused; close() ends reads", async () => {
  const bin = await openTorchBin(`${BIN}views.bin`);
  await expectUserError(() => bin.read("nope"), ["has no tensor 'nope'"]);
  bin.close();
  await assert.rejects(() => bin.read("base"), /after close/);
  bin.close(); // twice is fine
});

// ---------------------------------------------------------------------------------------------
// Model directories

for (const kind of ["bert", "roberta"] as const) {
  test(`a tiny-${kind} directory with pytorch_model.bin loads the safetensors parameters`, async () => {
    await withTempDir(async (dir) => {
      const binDir = await modelDir(dir, kind, { "pytorch_model.bin": `${BIN}tiny-${kind}.bin` });
      assert.equal(await findWeightsFile(binDir), join(binDir, "pytorch_model.bin"));
      const heads = { mlm: true, classifier: true } as const;
      const fromBin = await loadCheckpoint(binDir, heads);
      const fromSt = await loadCheckpoint(`${FIXTURE_MODELS}tiny-${kind}`, heads);
      assert.deepEqual(fromBin.initialised, [], "nothing initialised");
      assert.deepEqual([...fromBin.params.keys()], [...fromSt.params.keys()]);
      for (const [name, want] of fromSt.params) {
        assertSameBits(fromBin.params.get(name)!, want, name);
      }
      assert.deepEqual(fromBin.config, fromSt.config);
    });
  });
}

test("bf16 pytorch_model.bin loads as rounded f32; model.safetensors wins when both exist", async () => {
  await withTempDir(async (dir) => {
    const heads = { mlm: true, classifier: false } as const;
    const fromSt = await loadCheckpoint(`${FIXTURE_MODELS}tiny-bert`, heads);
    const bf16 = await modelDir(dir, "bert", { "pytorch_model.bin": `${BIN}tiny-bert-bf16.bin` });
    const loaded = await loadCheckpoint(bf16, heads);
    for (const [name, want] of fromSt.params) {
      assertSameBits(loaded.params.get(name)!, bf16Round(want), name);
    }
    await Deno.copyFile(
      `${FIXTURE_MODELS}tiny-bert/model.safetensors`,
      join(bf16, "model.safetensors"),
    );
    assert.equal(await findWeightsFile(bf16), join(bf16, "model.safetensors"));
    const both = await loadCheckpoint(bf16, heads);
    for (const [name, want] of fromSt.params) assertSameBits(both.params.get(name)!, want, name);
    using reader = await openWeights(await findWeightsFile(bf16));
    assert.ok(reader.path.endsWith("model.safetensors"));
  });
});

test("a directory with only TensorFlow weights is refused by name", async () => {
  await withTempDir(async (dir) => {
    const tf = await modelDir(dir, "bert", {});
    await Deno.writeFile(join(tf, "tf_model.h5"), new Uint8Array(8));
    await expectUserError(() => loadCheckpoint(tf, { mlm: true, classifier: false }), [
      "has no model.safetensors or pytorch_model.bin",
      "it has tf_model.h5 (TensorFlow weights)",
      "from_tf=True",
    ]);
  });
});

test("inspect reads a pytorch_model.bin directory", async () => {
  await withTempDir(async (dir) => {
    const binDir = await modelDir(dir, "bert", { "pytorch_model.bin": `${BIN}tiny-bert.bin` });
    const r = await runCli(["inspect", "--model", binDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /heads in file\s+MLM, classifier \(3 labels\)/);
    assert.match(r.stdout, /tensors in file\s+49 in pytorch_model\.bin/);
  });
});
