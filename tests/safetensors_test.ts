/** safetensors: header validation (one-line UserErrors naming the file), dtype decoding, F32 round trip. */
import { join } from "node:path";
import { UserError } from "../src/errors.ts";
import {
  bf16ToF32,
  f16ToF32,
  openSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from "../src/io/safetensors.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function assertEquals(actual: unknown, expected: unknown, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  assert(a === e, `${label}: expected ${e}, got ${a}`);
}

/** Runs `fn`, expects a one-line UserError containing every string in `parts`. */
async function expectUserError(fn: () => Promise<unknown>, parts: string[]): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof UserError, `expected a UserError, got ${err}`);
    assert(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) {
      assert(err.message.includes(p), `message lacks '${p}': ${err.message}`);
    }
    return err.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}, got no error`);
}

/** A hand-built file: 8-byte length (or `lenOverride`), header bytes, data. */
function rawFile(header: unknown, data: Uint8Array, lenOverride?: bigint): Uint8Array {
  const h = header instanceof Uint8Array
    ? header
    : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const dir = await Deno.makeTempDir({ prefix: "l3mask_safetensors_" });
let counter = 0;
async function put(bytes: Uint8Array, name = `t${counter++}.safetensors`): Promise<string> {
  const path = join(dir, name);
  await Deno.writeFile(path, bytes);
  return path;
}

const f32 = (vals: number[]) => new Uint8Array(new Float32Array(vals).buffer);
const u16 = (vals: number[]) => new Uint8Array(new Uint16Array(vals).buffer);

Deno.test("F32 write → read round trip keeps names, shapes, values and metadata", async () => {
  const a = new Float32Array([1, -2.5, 3.25, 1e-30, -0, Infinity, 7, 8, 9, 10, 11, 12]);
  const b = new Float32Array([0.1, 0.2, 0.3]);
  const path = join(dir, "round.safetensors");
  await writeSafetensors(path, [
    { name: "w", shape: [3, 4], data: a },
    { name: "b", shape: [3], data: b },
    { name: "empty", shape: [0, 5], data: new Float32Array(0) },
  ], { format: "pt", note: "l3mask" });
  const header = await readSafetensorsHeader(path);
  assertEquals(header.dataStart % 8, 0, "header padded to 8 bytes");
  using r = await openSafetensors(path);
  assertEquals(r.metadata, { format: "pt", note: "l3mask" }, "metadata");
  assertEquals([...r.entries.keys()], ["w", "b", "empty"], "names in data order");
  assertEquals(r.entries.get("w")!.shape, [3, 4], "shape");
  assertEquals(r.entries.get("w")!.dtype, "F32", "dtype");
  const ra = await r.read("w");
  assert(ra.length === a.length, "length");
  for (let i = 0; i < a.length; i++) assert(Object.is(ra[i], a[i]), `w[${i}] ${ra[i]} != ${a[i]}`);
  assertEquals(Array.from(await r.read("b")), Array.from(b), "b");
  assertEquals((await r.read("empty")).length, 0, "empty tensor");
  await expectUserError(() => r.read("nope"), [path, "has no tensor 'nope'"]);
  // No temporary file is left behind.
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".tmp-"));
  assertEquals(left, [], "temporary files");
});

Deno.test("F16 decodes normals, subnormals, ±0, ±inf and NaN", async () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125], // 1 + 341/1024 times 2^-2
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x0000, 0],
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, want] of cases) {
    assert(
      Object.is(f16ToF32(bits), want),
      `f16 0x${bits.toString(16)}: ${f16ToF32(bits)} != ${want}`,
    );
  }
  assert(Number.isNaN(f16ToF32(0x7e00)) && Number.isNaN(f16ToF32(0xfc01)), "f16 NaN");

  // The same values through a file (the table-driven bulk path).
  const bits = [...cases.map((c) => c[0]), 0x7e00];
  const path = await put(
    rawFile(
      { h: { dtype: "F16", shape: [bits.length], data_offsets: [0, bits.length * 2] } },
      u16(bits),
    ),
  );
  using r = await openSafetensors(path);
  const got = await r.read("h");
  cases.forEach(([b, want], i) => {
    assert(
      Object.is(got[i], Math.fround(want)),
      `file f16 0x${b.toString(16)}: ${got[i]} != ${want}`,
    );
  });
  assert(Number.isNaN(got[cases.length]), "file f16 NaN");
});

Deno.test("BF16 decodes as the top half of an f32", async () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625], // 0x40490000
    [0x3dcd, 0.10009765625], // 0x3dcd0000
    [0x0001, 2 ** -133], // subnormal f32 0x00010000
    [0x8000, -0],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ];
  for (const [bits, want] of cases) {
    assert(
      Object.is(bf16ToF32(bits), want),
      `bf16 0x${bits.toString(16)}: ${bf16ToF32(bits)} != ${want}`,
    );
  }
  assert(Number.isNaN(bf16ToF32(0x7fc0)), "bf16 NaN");
  const bits = cases.map((c) => c[0]);
  const path = await put(
    rawFile({ x: { dtype: "BF16", shape: [2, 4], data_offsets: [0, 16] } }, u16(bits)),
  );
  using r = await openSafetensors(path);
  const got = await r.read("x");
  cases.forEach(([b, want], i) =>
    assert(Object.is(got[i], want), `file bf16 0x${b.toString(16)}: ${got[i]}`)
  );
});

Deno.test("I64/I32 buffers (position_ids) convert to f32", async () => {
  const ids = new BigInt64Array([0n, 1n, 2n, 511n]);
  const i32 = new Int32Array([-3, 7]);
  const data = new Uint8Array(32 + 8);
  data.set(new Uint8Array(ids.buffer), 0);
  data.set(new Uint8Array(i32.buffer), 32);
  const path = await put(rawFile({
    "bert.embeddings.position_ids": { dtype: "I64", shape: [1, 4], data_offsets: [0, 32] },
    small: { dtype: "I32", shape: [2], data_offsets: [32, 40] },
  }, data));
  using r = await openSafetensors(path);
  assertEquals(Array.from(await r.read("bert.embeddings.position_ids")), [0, 1, 2, 511], "I64");
  assertEquals(Array.from(await r.read("small")), [-3, 7], "I32");
});

Deno.test("a dtype valid in the format but not readable is refused on read only", async () => {
  const path = await put(
    rawFile({ m: { dtype: "BOOL", shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8)),
  );
  using r = await openSafetensors(path);
  await expectUserError(() => r.read("m"), [path, "'m'", "BOOL", "F32"]);
});

Deno.test("bad files: one-line UserErrors naming the file and the problem", async () => {
  const good = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const data8 = f32([1, 2]);

  // Shorter than the 8-byte length prefix.
  let p = await put(new Uint8Array([1, 2, 3]));
  await expectUserError(() => openSafetensors(p), [p, "3 bytes", "too short"]);

  // Header length pointing past the end.
  p = await put(rawFile(good, data8, 1000n));
  await expectUserError(() => openSafetensors(p), [
    p,
    "header length 1000 points past the end",
    "bytes)",
  ]);

  // A huge length, as in a file that is not safetensors at all (e.g. a zip).
  p = await put(rawFile(good, data8, 0x0403_4b50_0000_0000n));
  await expectUserError(() => openSafetensors(p), [p, "points past the end"]);

  // Header not JSON / not UTF-8 / not an object.
  p = await put(rawFile("{not json", data8));
  await expectUserError(() => openSafetensors(p), [p, "header is not valid JSON"]);
  p = await put(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), new Uint8Array(0)));
  await expectUserError(() => openSafetensors(p), [p, "not valid UTF-8"]);
  p = await put(rawFile("[1, 2]", new Uint8Array(0)));
  await expectUserError(() => openSafetensors(p), [p, "must be a JSON object", "an array"]);

  // Unknown dtype.
  p = await put(rawFile({ a: { dtype: "F17", shape: [2], data_offsets: [0, 8] } }, data8));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'a' has unknown dtype 'F17'",
    "BF16",
  ]);

  // Bad shape / offsets.
  p = await put(rawFile({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, data8));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'a' shape must be an array of non-negative integers",
  ]);
  p = await put(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, data8));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'a' data_offsets must be [begin, end]",
  ]);
  p = await put(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, data8));
  await expectUserError(() => openSafetensors(p), [p, "end before they begin"]);

  // shape × dtype ≠ byte range.
  p = await put(rawFile({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, data8));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'a' has shape [3] × F32 = 12 bytes but data_offsets [0, 8] span 8 bytes",
  ]);

  // Range past the end of the data area: a truncated download.
  const name = "bert.embeddings.word_embeddings.weight";
  p = await put(
    rawFile({ [name]: { dtype: "F32", shape: [4, 4], data_offsets: [0, 64] } }, new Uint8Array(40)),
  );
  await expectUserError(() => openSafetensors(p), [
    p,
    `tensor '${name}' data ends at byte 64 but the file's data area has 40 bytes (truncated download? delete the file and download again)`,
  ]);

  // A valid file cut short.
  const full = await put(rawFile({
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [2], data_offsets: [8, 16] },
  }, f32([1, 2, 3, 4])));
  const bytes = await Deno.readFile(full);
  p = await put(bytes.subarray(0, bytes.length - 3));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'b' data ends at byte 16 but the file's data area has 13 bytes",
    "truncated download",
  ]);

  // Overlapping ranges.
  p = await put(rawFile({
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
  }, f32([1, 2, 3])));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensors 'a' [0, 8) and 'b' [4, 12) overlap",
  ]);

  // A gap, and trailing bytes.
  p = await put(
    rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, f32([0, 1, 2])),
  );
  await expectUserError(() => openSafetensors(p), [
    p,
    "gap of 4 bytes in the data area before tensor 'a'",
  ]);
  p = await put(rawFile(good, f32([1, 2, 3])));
  await expectUserError(() => openSafetensors(p), [p, "4 bytes after the last tensor's data"]);

  // Metadata must be string → string; an entry must be an object.
  p = await put(rawFile({ __metadata__: { format: 1 }, ...good }, data8));
  await expectUserError(() => openSafetensors(p), [
    p,
    "__metadata__ must map strings to strings, but 'format' is number 1",
  ]);
  p = await put(rawFile({ a: [1, 2] }, new Uint8Array(0)));
  await expectUserError(() => openSafetensors(p), [
    p,
    "tensor 'a' must be an object with dtype, shape and data_offsets",
  ]);

  // Missing file, directory.
  await expectUserError(() => openSafetensors(join(dir, "absent.safetensors")), [
    "absent.safetensors: file not found",
  ]);
  await expectUserError(() => openSafetensors(dir), [dir, "is a directory"]);
});

Deno.test("reading streams one tensor at a time and close() releases the file", async () => {
  const n = 1 << 16;
  const big = new Float32Array(n).map((_, i) => i * 0.5);
  const path = join(dir, "stream.safetensors");
  await writeSafetensors(path, [
    { name: "x", shape: [n], data: big },
    { name: "y", shape: [2], data: new Float32Array([3, 4]) },
  ]);
  const r = await openSafetensors(path);
  assertEquals(Array.from(await r.read("y")), [3, 4], "y read before x");
  const x = await r.read("x");
  assert(x[n - 1] === (n - 1) * 0.5 && x[12345] === 12345 * 0.5, "x values");
  r.close();
  r.close(); // idempotent
  let threw = false;
  try {
    await r.read("x");
  } catch {
    threw = true;
  }
  assert(threw, "read after close must fail");
});

Deno.test("writeSafetensors refuses inconsistent input and writes atomically", async () => {
  const path = join(dir, "atomic.safetensors");
  await writeSafetensors(path, [{ name: "a", shape: [1], data: new Float32Array([1]) }]);
  let threw = false;
  try {
    await writeSafetensors(path, [{ name: "a", shape: [3], data: new Float32Array([1, 2]) }]);
  } catch {
    threw = true;
  }
  assert(threw, "shape/data mismatch must throw");
  using r = await openSafetensors(path);
  assertEquals(Array.from(await r.read("a")), [1], "the old file is untouched");
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch { /* already gone */ }
});
