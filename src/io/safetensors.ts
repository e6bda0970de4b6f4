/**
 * safetensors reading and writing (https://github.com/huggingface/safetensors#format).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object mapping each
 * tensor name to {dtype, shape, data_offsets: [begin, end]}, plus an optional `__metadata__` of
 * string → string), then the data area; offsets are relative to the start of the data area, and
 * the tensors' byte ranges tile it exactly (sorted, no overlap, no gap, no trailing bytes).
 *
 * Reading streams: `openSafetensors` reads and validates only the header, and `read(name)` then
 * reads one tensor's byte range with seek + read, so a 500 MB checkpoint is never held twice.
 * Every tensor comes back as a Float32Array: F32 as is, F16/BF16/F64 converted, and I64/I32
 * (integer buffers such as `embeddings.position_ids`) converted to the nearest f32 (exact below
 * 2^24). Other dtypes are valid in the header but `read` refuses them. Writing produces F32 only,
 * atomically (src/io/atomic.ts).
 *
 * Every problem with a file is a UserError that starts with the file's path and says what is
 * wrong with it and, where it helps, what to do.
 */
import { UserError } from "../errors.ts";
import { writeAll, writeFileAtomicWith } from "./atomic.ts";

/** Bytes per element of every dtype the format defines. */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type Dtype = keyof typeof DTYPE_BYTES;

/** The dtypes `read` converts to f32. */
export const READABLE_DTYPES: readonly Dtype[] = ["F32", "F16", "BF16", "F64", "I64", "I32"];

/** The safetensors reference implementation refuses larger headers; so does l3mask. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data area. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In data-area order (sorted by begin). */
  entries: TensorEntry[];
  metadata: Record<string, string>;
  /** Absolute file offset of the data area (8 + header length). */
  dataStart: number;
  /** Bytes in the data area. */
  dataLength: number;
}

export interface SafetensorsReader {
  readonly path: string;
  /** Tensor name → entry, in data-area order. */
  readonly entries: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Reads one tensor (by byte range) and converts it to f32. */
  read(name: string): Promise<Float32Array>;
  close(): void;
  [Symbol.dispose](): void;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string '${v.length > 40 ? v.slice(0, 40) + "…" : v}'`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates a header's JSON bytes against a data area of `dataLength` bytes.
 * `file` names the file in error messages.
 */
export function parseSafetensorsHeader(
  file: string,
  headerBytes: Uint8Array,
  dataLength: number,
): { entries: TensorEntry[]; metadata: Record<string, string> } {
  const fail = (msg: string) => new UserError(`${file}: ${msg}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    throw fail("header is not valid UTF-8 (not a safetensors file, or a corrupted download?)");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw fail(
      `header is not valid JSON (${why}); not a safetensors file, or a corrupted download?`,
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw fail(`header must be a JSON object, got ${describe(json)}`);
  }

  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw fail(`__metadata__ must be an object of strings, got ${describe(raw)}`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") {
          throw fail(`__metadata__ must map strings to strings, but '${k}' is ${describe(v)}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw fail(
        `${where} must be an object with dtype, shape and data_offsets, got ${describe(raw)}`,
      );
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== "string") {
      throw fail(`${where} has no dtype (expected a string such as "F32")`);
    }
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw fail(
        `${where} has unknown dtype '${dtype}' (known: ${Object.keys(DTYPE_BYTES).join(", ")})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw fail(
        `${where} shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw fail(
        `${where} data_offsets must be [begin, end] with non-negative integers, got ${
          JSON.stringify(offsets)
        }`,
      );
    }
    const [begin, end] = offsets as number[];
    if (end < begin) throw fail(`${where} data_offsets [${begin}, ${end}] end before they begin`);
    const numel = numelOf(shape);
    const bytes = numel * DTYPE_BYTES[dtype as Dtype];
    if (!Number.isSafeInteger(bytes)) throw fail(`${where} shape ${fmtShape(shape)} is too large`);
    if (end - begin !== bytes) {
      throw fail(
        `${where} has shape ${fmtShape(shape)} × ${dtype} = ${bytes} bytes but data_offsets ` +
          `[${begin}, ${end}] span ${end - begin} bytes`,
      );
    }
    if (end > dataLength) {
      throw fail(
        `${where} data ends at byte ${end} but the file's data area has ${dataLength} bytes ` +
          `(truncated download? delete the file and download again)`,
      );
    }
    entries.push({ name, dtype: dtype as Dtype, shape: shape.slice(), begin, end });
  }

  // The format requires the byte ranges to tile the data area exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorEntry | undefined;
  for (const e of entries) {
    if (e.begin < pos && prev) {
      throw fail(
        `tensors '${prev.name}' [${prev.begin}, ${prev.end}) and '${e.name}' ` +
          `[${e.begin}, ${e.end}) overlap in the data area`,
      );
    }
    if (e.begin > pos) {
      throw fail(
        `gap of ${e.begin - pos} bytes in the data area before tensor '${e.name}' ` +
          `(bytes ${pos}..${e.begin} belong to no tensor)`,
      );
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLength) {
    throw fail(
      `${dataLength - pos} bytes after the last tensor's data (the data area has ${dataLength} ` +
        `bytes, tensors cover ${pos}); the file is corrupted or was written incorrectly`,
    );
  }
  return { entries, metadata };
}

/** Reads buf.length bytes at `position`; `onEof` makes the error when the file ends first. */
export async function readExactly(
  file: Deno.FsFile,
  buf: Uint8Array,
  position: number,
  onEof: () => UserError,
): Promise<void> {
  await file.seek(position, Deno.SeekMode.Start);
  let off = 0;
  while (off < buf.length) {
    const n = await file.read(buf.subarray(off));
    if (n === null) throw onEof();
    off += n;
  }
}

async function openFile(path: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    if (err instanceof Deno.errors.IsADirectory) throw isDir(path);
    throw err;
  }
  if ((await file.stat()).isDirectory) {
    file.close();
    throw isDir(path);
  }
  return file;
}

function isDir(path: string): UserError {
  return new UserError(`${path}: is a directory, expected a .safetensors file`);
}

async function readHeaderFrom(path: string, file: Deno.FsFile): Promise<SafetensorsHeader> {
  const fail = (msg: string) => new UserError(`${path}: ${msg}`);
  const size = (await file.stat()).size;
  if (size < 8) {
    throw fail(
      `file has ${size} bytes, too short for a safetensors header (truncated download? ` +
        `delete the file and download again)`,
    );
  }
  const lenBytes = new Uint8Array(8);
  await readExactly(file, lenBytes, 0, () => fail("file ended while reading the header length"));
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(size - 8)) {
    throw fail(
      `header length ${headerLen} points past the end of the file (${size} bytes); ` +
        `not a safetensors file, or a truncated download`,
    );
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLen);
  const headerBytes = new Uint8Array(n);
  await readExactly(file, headerBytes, 8, () => fail("file ended while reading the header"));
  const { entries, metadata } = parseSafetensorsHeader(path, headerBytes, size - 8 - n);
  return { entries, metadata, dataStart: 8 + n, dataLength: size - 8 - n };
}

/** Reads and validates only the header of `path` (no tensor data). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = await openFile(path);
  try {
    return await readHeaderFrom(path, file);
  } finally {
    file.close();
  }
}

/** Opens `path`, validates its header, and returns a reader that loads one tensor at a time. */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error("l3mask needs a little-endian host");
  const file = await openFile(path);
  let header: SafetensorsHeader;
  try {
    header = await readHeaderFrom(path, file);
  } catch (err) {
    file.close();
    throw err;
  }
  const entries = new Map(header.entries.map((e) => [e.name, e]));
  let closed = false;
  const close = () => {
    if (!closed) file.close();
    closed = true;
  };
  return {
    path,
    entries,
    metadata: header.metadata,
    read: async (name: string) => {
      if (closed) throw new Error(`${path}: read('${name}') after close()`);
      const e = entries.get(name);
      if (!e) throw new UserError(`${path}: has no tensor '${name}'`);
      return await readTensor(path, file, header.dataStart, e);
    },
    close,
    [Symbol.dispose]: close,
  };
}

async function readTensor(
  path: string,
  file: Deno.FsFile,
  dataStart: number,
  e: TensorEntry,
): Promise<Float32Array> {
  if (!READABLE_DTYPES.includes(e.dtype)) {
    throw new UserError(
      `${path}: tensor '${e.name}' has dtype ${e.dtype}; l3mask reads ${
        READABLE_DTYPES.join(", ")
      }`,
    );
  }
  const raw = new ArrayBuffer(e.end - e.begin);
  await readExactly(file, new Uint8Array(raw), dataStart + e.begin, () =>
    new UserError(
      `${path}: file ended while reading tensor '${e.name}' (the file changed or was truncated ` +
        `while open; delete it and download again)`,
    ));
  return decodeToF32(e.dtype, raw);
}

/**
 * Little-endian values of `dtype` (one of READABLE_DTYPES) → f32: F32 as is (a view of `raw`, no
 * copy), F16/BF16/F64 converted, I64/I32 to the nearest f32 (exact below 2^24).
 */
export function decodeToF32(dtype: Dtype, raw: ArrayBuffer): Float32Array {
  switch (dtype) {
    case "F32":
      return new Float32Array(raw);
    case "F16":
      return f16ArrayToF32(new Uint16Array(raw));
    case "BF16":
      return bf16ArrayToF32(new Uint16Array(raw));
    case "F64":
      return Float32Array.from(new Float64Array(raw));
    case "I64": {
      const src = new BigInt64Array(raw);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case "I32":
      return Float32Array.from(new Int32Array(raw));
    default:
      throw new Error(`decodeToF32: dtype ${dtype} is not one of ${READABLE_DTYPES.join(", ")}`);
  }
}

/** IEEE half (binary16) bits → number; handles subnormals, ±0, ±inf and NaN. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits → number (the top half of an f32). */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

let f16Table: Float32Array | undefined;

/** Converts a whole F16 buffer through a 65536-entry lookup table. */
export function f16ArrayToF32(raw: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  const table = f16Table;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = table[raw[i]];
  return out;
}

/** Converts a whole BF16 buffer (each value becomes the high 16 bits of an f32). */
export function bf16ArrayToF32(raw: Uint16Array): Float32Array {
  const out = new Float32Array(raw.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < raw.length; i++) bits[i] = raw[i] << 16;
  return out;
}

/**
 * Writes `tensors` as F32 to `path` (atomically, streaming one tensor at a time), in the order
 * given, with optional string metadata. The JSON header is padded with spaces to a multiple of 8
 * bytes so the data area stays aligned, as the reference implementation does.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error("l3mask needs a little-endian host");
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of tensors) {
    if (!t.name || t.name === "__metadata__" || Object.hasOwn(header, t.name)) {
      throw new Error(`writeSafetensors: bad or duplicate tensor name '${t.name}'`);
    }
    if (!t.shape.every(isNonNegInt) || numelOf(t.shape) !== t.data.length) {
      throw new Error(
        `writeSafetensors: tensor '${t.name}' has ${t.data.length} values but shape ${
          fmtShape(t.shape)
        }`,
      );
    }
    header[t.name] = {
      dtype: "F32",
      shape: t.shape.slice(),
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    headerBytes = enc.encode(json);
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  await writeFileAtomicWith(path, async (file) => {
    await writeAll(file, len);
    await writeAll(file, headerBytes);
    for (const t of tensors) {
      await writeAll(file, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
  });
}
