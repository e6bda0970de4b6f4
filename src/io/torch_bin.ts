/**
 * Reading PyTorch checkpoints (`pytorch_model.bin`, torch.save since torch 1.6) without Python.
 *
 * The file is a zip archive of STORED (uncompressed) records, all under one folder `<prefix>/`:
 * `data.pkl` (a pickle of the state dict), `data/<key>` (each storage's raw little-endian bytes),
 * `version`, and in newer archives `byteorder`. The zip is parsed here (end record, zip64 end
 * records and extra fields when present, central directory, local headers); the pickle is read by
 * a small interpreter that knows only the opcodes and globals a state dict of tensors uses:
 * `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` (also `_rebuild_tensor`,
 * `_rebuild_parameter`) and the typed storage classes (`torch.FloatStorage`, ...). Any other
 * global is refused by name before anything is built: nothing in the file is ever executed.
 *
 * A tensor is a view of a storage: persistent id `('storage', type, key, location, numel)`, then
 * storage_offset, size and stride (as_strided semantics). Several tensors may share a storage
 * (tied weights); a view may be strided, offset or expanded (stride 0). `read(name)` reads the
 * storage range the view touches, converts it to f32 (safetensors.ts's decodeToF32: F32 as is,
 * F16/BF16/F64 converted, I64/I32 to the nearest f32) and gathers the view in row-major order.
 *
 * `readTorchBinIndex` reads only the zip's directory and data.pkl: names, dtypes, shapes and byte
 * ranges, cheap enough to fingerprint a checkpoint. Every problem with a file is a one-line
 * UserError that starts with the file's path.
 */
import { UserError } from "../errors.ts";
import {
  decodeToF32,
  type Dtype,
  DTYPE_BYTES,
  READABLE_DTYPES,
  readExactly,
} from "./safetensors.ts";

/** One tensor of the state dict: a view of a storage record. */
export interface TorchTensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Elements between neighbours along each dimension (torch's stride; 0 for expanded dims). */
  stride: number[];
  /** Index of the view's first element in its storage. */
  storageOffset: number;
  /** The storage's key: its record is `<prefix>/data/<key>`. */
  storage: string;
  /** Absolute byte range [begin, end) of the storage elements the view touches. */
  begin: number;
  end: number;
}

export interface TorchBinIndex {
  /** In the order of the state dict. */
  entries: TorchTensorEntry[];
  /** Bytes in the file. */
  fileSize: number;
}

export interface TorchBinReader {
  readonly path: string;
  /** Tensor name → entry, in the order of the state dict. */
  readonly entries: ReadonlyMap<string, TorchTensorEntry>;
  /** Reads one tensor (materialising its view, row-major) and converts it to f32. */
  read(name: string): Promise<Float32Array>;
  close(): void;
  [Symbol.dispose](): void;
}

/** data.pkl and the zip's central directory are read whole; larger ones are refused. */
export const MAX_INDEX_BYTES = 100_000_000;

/** The most elements one tensor may have (it is materialised as one Float32Array). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31;

const STORAGE_DTYPES: Record<string, Dtype> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

const CALLABLES = [
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_parameter",
];

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const REDOWNLOAD = "delete the file and download again";
const CONVERT = "convert the checkpoint to safetensors";

// ---------------------------------------------------------------------------------------------
// File access

async function openFile(path: string): Promise<{ file: Deno.FsFile; size: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new UserError(`${path}: file not found`);
    if (err instanceof Deno.errors.IsADirectory) throw isDir(path);
    throw err;
  }
  const st = await file.stat();
  if (st.isDirectory) {
    file.close();
    throw isDir(path);
  }
  return { file, size: st.size };
}

function isDir(path: string): UserError {
  return new UserError(`${path}: is a directory, expected a pytorch_model.bin file`);
}

// ---------------------------------------------------------------------------------------------
// Zip

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

interface ZipRecord {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

interface ZipArchive {
  records: Map<string, ZipRecord>;
  /** Where the central directory starts: every record's data must end before it. */
  centralStart: number;
}

function u64(view: DataView, at: number, fail: (m: string) => UserError, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`zip ${what} ${v} is out of range`);
  return Number(v);
}

/** Finds the end records and reads the central directory. */
async function readZipDirectory(
  path: string,
  file: Deno.FsFile,
  size: number,
): Promise<ZipArchive> {
  const fail = (msg: string) => new UserError(`${path}: ${msg}`);
  const truncated = () =>
    fail(
      `no zip end-of-archive record: the file is truncated (an interrupted download?) or not a ` +
        `torch.save archive; ${REDOWNLOAD}`,
    );
  // The end record (22 bytes + a comment of at most 64 KiB), and the zip64 locator before it.
  const tailLen = Math.min(size, 22 + U16_MAX + 20);
  const tail = new Uint8Array(tailLen);
  await readExactly(file, tail, size - tailLen, truncated);
  const tv = new DataView(tail.buffer);
  let end = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_END && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
      end = i;
      break;
    }
  }
  if (end < 0) throw truncated();
  const endAt = size - tailLen + end;
  if (tv.getUint16(end + 4, true) !== 0 || tv.getUint16(end + 6, true) !== 0) {
    throw fail(`is a multi-part zip archive; l3mask reads single-file torch.save archives`);
  }
  let count = tv.getUint16(end + 10, true);
  let cdSize = tv.getUint32(end + 12, true);
  let cdStart = tv.getUint32(end + 16, true);
  let recordsEnd = endAt; // the central directory ends where the end records begin
  if (end >= 20 && tv.getUint32(end - 20, true) === SIG_LOCATOR64) {
    const at = u64(tv, end - 12, fail, "zip64 end record offset");
    if (at + 56 > endAt - 20) {
      throw fail(`zip64 end record offset ${at} lies outside the file; ${REDOWNLOAD}`);
    }
    const rec = new Uint8Array(56);
    await readExactly(file, rec, at, truncated);
    const rv = new DataView(rec.buffer);
    if (rv.getUint32(0, true) !== SIG_END64) {
      throw fail(`no zip64 end record at byte ${at} (corrupted archive); ${REDOWNLOAD}`);
    }
    count = u64(rv, 32, fail, "entry count");
    cdSize = u64(rv, 40, fail, "central directory size");
    cdStart = u64(rv, 48, fail, "central directory offset");
    recordsEnd = at;
  } else if (count === U16_MAX || cdSize === U32_MAX || cdStart === U32_MAX) {
    throw fail(`zip end record needs a zip64 end record, which is missing; ${REDOWNLOAD}`);
  }
  if (cdStart + cdSize > recordsEnd) {
    throw fail(
      `zip central directory [${cdStart}, ${cdStart + cdSize}) overlaps the end records at ` +
        `byte ${recordsEnd} (truncated or corrupted archive); ${REDOWNLOAD}`,
    );
  }
  if (cdSize > MAX_INDEX_BYTES) {
    throw fail(`zip central directory of ${cdSize} bytes exceeds the ${MAX_INDEX_BYTES} limit`);
  }
  const cd = new Uint8Array(cdSize);
  await readExactly(file, cd, cdStart, truncated);
  const cv = new DataView(cd.buffer);
  const records = new Map<string, ZipRecord>();
  const dec = new TextDecoder("utf-8", { fatal: false });
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) {
      throw fail(
        `zip central directory entry ${n} of ${count} is missing or damaged (corrupted ` +
          `archive); ${REDOWNLOAD}`,
      );
    }
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
      throw fail(`zip central directory entry ${n} runs past the directory; ${REDOWNLOAD}`);
    }
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    let localOffset = cv.getUint32(p + 42, true);
    // Zip64 extra field (id 1): 8-byte values for exactly the fields that are 0xFFFFFFFF.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (what: string) => {
          if (q + 8 > e + 4 + len) throw fail(`zip64 field of '${name}' lacks its ${what}`);
          const v = u64(cv, q, fail, `${what} of '${name}'`);
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = next("size");
        if (compressedSize === U32_MAX) compressedSize = next("compressed size");
        if (localOffset === U32_MAX) localOffset = next("offset");
      }
      e += 4 + len;
    }
    if (records.has(name)) throw fail(`zip archive has two records named '${name}'`);
    records.set(name, {
      name,
      method: cv.getUint16(p + 10, true),
      flags: cv.getUint16(p + 8, true),
      compressedSize,
      size,
      localOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { records, centralStart: cdStart };
}

/** Where a record's bytes start in the file, after checking they lie whole before the directory. */
async function recordData(
  path: string,
  file: Deno.FsFile,
  zip: ZipArchive,
  r: ZipRecord,
): Promise<number> {
  const fail = (msg: string) => new UserError(`${path}: ${msg}`);
  if (r.flags & 1) throw fail(`record '${r.name}' is encrypted; l3mask cannot read it`);
  if (r.method !== 0 || r.compressedSize !== r.size) {
    throw fail(
      `record '${r.name}' is compressed (zip method ${r.method}); torch.save writes records ` +
        `uncompressed, so the archive was re-zipped: re-save it with torch.save, or ${CONVERT}`,
    );
  }
  if (r.localOffset + 30 > zip.centralStart) {
    throw fail(
      `record '${r.name}' starts at byte ${r.localOffset}, past the zip central directory at ` +
        `byte ${zip.centralStart} (corrupted archive); ${REDOWNLOAD}`,
    );
  }
  const head = new Uint8Array(30);
  await readExactly(file, head, r.localOffset, () => fail(`record '${r.name}' is cut off`));
  const hv = new DataView(head.buffer);
  if (hv.getUint32(0, true) !== SIG_LOCAL) {
    throw fail(
      `record '${r.name}' has no zip local header at byte ${r.localOffset} (corrupted ` +
        `archive); ${REDOWNLOAD}`,
    );
  }
  const start = r.localOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + r.size > zip.centralStart) {
    throw fail(
      `record '${r.name}' (${r.size} bytes from byte ${start}) runs into the zip central ` +
        `directory at byte ${zip.centralStart} (corrupted archive); ${REDOWNLOAD}`,
    );
  }
  return start;
}

async function readRecord(
  path: string,
  file: Deno.FsFile,
  zip: ZipArchive,
  r: ZipRecord,
): Promise<Uint8Array> {
  if (r.size > MAX_INDEX_BYTES) {
    throw new UserError(`${path}: record '${r.name}' of ${r.size} bytes is too large to index`);
  }
  const start = await recordData(path, file, zip, r);
  const out = new Uint8Array(r.size);
  await readExactly(
    file,
    out,
    start,
    () => new UserError(`${path}: record '${r.name}' is cut off`),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pickle: the subset torch.save writes for a state dict

class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
class PyList {
  constructor(readonly items: PyValue[]) {}
}
class PyDict {
  readonly map = new Map<PyKey, PyValue>();
}
class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
class StorageRef {
  constructor(
    readonly type: string,
    readonly dtype: Dtype,
    readonly key: string,
    readonly numel: number,
  ) {}
}
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
type PyKey = string | number | boolean | null;
type PyValue = PyKey | PyTuple | PyList | PyDict | PyGlobal | StorageRef | TensorRef;

function describeValue(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "string") return `the string '${v.length > 30 ? v.slice(0, 30) + "…" : v}'`;
  if (typeof v !== "object") return `${typeof v} ${String(v)}`;
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyList) return `a list of ${v.items.length}`;
  if (v instanceof PyDict) return `a dict of ${v.map.size}`;
  if (v instanceof PyGlobal) return `the global ${v.qualified}`;
  if (v instanceof StorageRef) return `a bare ${v.type}`;
  return "a tensor";
}

/** Pickle opcodes a state dict does not use, named in the error that refuses them. */
const OTHER_OPCODES: Record<number, string> = {
  0x49: "INT",
  0x4c: "LONG",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x46: "FLOAT",
  0x64: "DICT",
  0x6c: "LIST",
  0x69: "INST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x67: "GET",
  0x32: "DUP",
  0x50: "PERSID",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x8b: "LONG4",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/**
 * Interprets data.pkl and returns the state dict as name → tensor view. Only the opcodes of the
 * switch below are known; a global other than CALLABLES and the storage types is refused where it
 * appears, so no object the file names is ever created or called.
 */
function unpickleStateDict(path: string, pkl: Uint8Array): Map<string, TensorRef> {
  const fail = (msg: string) => new UserError(`${path}: data.pkl ${msg}`);
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const need = (n: number) => {
    if (pos + n > pkl.length) {
      throw fail(`ends in the middle of an opcode at byte ${pos} (truncated or corrupted file)`);
    }
  };
  const text = (n: number): string => {
    need(n);
    try {
      return utf8.decode(pkl.subarray(pos, pos + n));
    } catch {
      throw fail(`has a string that is not valid UTF-8 at byte ${pos}`);
    } finally {
      pos += n;
    }
  };
  const line = (): string => {
    const nl = pkl.indexOf(0x0a, pos);
    if (nl < 0) throw fail(`ends inside a GLOBAL name at byte ${pos}`);
    const s = new TextDecoder().decode(pkl.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw fail(`pops an empty stack at byte ${pos} (corrupted pickle)`);
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw fail(`reads an empty stack at byte ${pos} (corrupted pickle)`);
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const outer = marks.pop();
    if (!outer) throw fail(`closes a MARK that was never opened at byte ${pos}`);
    stack = outer;
    return items;
  };
  const global = (module: string, name: string): PyGlobal => {
    const g = new PyGlobal(module, name);
    if (CALLABLES.includes(g.qualified)) return g;
    if (module === "torch" && Object.hasOwn(STORAGE_DTYPES, name)) return g;
    if (module === "torch" && name.endsWith("Storage")) {
      throw fail(
        `has a tensor of storage type torch.${name}; l3mask reads ${
          Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`).join(", ")
        } (${CONVERT} with float weights)`,
      );
    }
    throw fail(
      `refers to '${g.qualified}', which is not part of a state dict of tensors; l3mask ` +
        `refused the file without running anything (it allows only ${CALLABLES.join(", ")} ` +
        `and torch storage types). Do not torch.load a file you do not trust`,
    );
  };
  const key = (v: PyValue): PyKey => {
    if (v === null || typeof v !== "object") return v;
    throw fail(`uses ${describeValue(v)} as a dict key`);
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (!(target instanceof PyDict)) throw fail(`sets items on ${describeValue(target)}`);
    if (items.length % 2) throw fail(`has SETITEMS with an odd number of values`);
    for (let i = 0; i < items.length; i += 2) target.map.set(key(items[i]), items[i + 1]);
  };
  const int = (v: PyValue, what: string): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw fail(`has ${describeValue(v)} for ${what} (expected a non-negative integer)`);
    }
    return v;
  };
  const ints = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple) && !(v instanceof PyList)) {
      throw fail(`has ${describeValue(v)} for ${what} (expected a tuple of integers)`);
    }
    return v.items.map((x) => int(x, what));
  };
  const persistentLoad = (pid: PyValue): StorageRef => {
    const items = pid instanceof PyTuple ? pid.items : [];
    const [tag, type, storageKey, _location, numel] = items;
    if (tag !== "storage" || items.length !== 5) {
      throw fail(
        `has persistent id ${describeValue(pid)}${
          typeof tag === "string" ? ` tagged '${tag}'` : ""
        }; torch.save (zip format) writes ('storage', type, key, location, numel)`,
      );
    }
    if (!(type instanceof PyGlobal) || !Object.hasOwn(STORAGE_DTYPES, type.name)) {
      throw fail(`has a storage whose type is ${describeValue(type)}, not a torch storage type`);
    }
    if (typeof storageKey !== "string") {
      throw fail(`has a storage key that is ${describeValue(storageKey)}, not a string`);
    }
    return new StorageRef(
      type.qualified,
      STORAGE_DTYPES[type.name],
      storageKey,
      int(numel, "a storage size"),
    );
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal)) throw fail(`calls ${describeValue(fn)}`);
    if (!(args instanceof PyTuple)) throw fail(`calls ${fn.qualified} with ${describeValue(args)}`);
    const a = args.items;
    switch (fn.qualified) {
      case "collections.OrderedDict":
        if (a.length !== 0) throw fail(`calls collections.OrderedDict with arguments`);
        return new PyDict();
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2": {
        const min = fn.name === "_rebuild_tensor" ? 4 : 6;
        if (a.length < min || a.length > min + 1) {
          throw fail(`calls ${fn.qualified} with ${a.length} arguments`);
        }
        if (!(a[0] instanceof StorageRef)) {
          throw fail(`calls ${fn.qualified} on ${describeValue(a[0])}, not a storage`);
        }
        const shape = ints(a[2], "a tensor's size");
        const stride = ints(a[3], "a tensor's stride");
        if (shape.length !== stride.length) {
          throw fail(`has a tensor with size [${shape}] but stride [${stride}]`);
        }
        return new TensorRef(a[0], int(a[1], "a storage offset"), shape, stride);
      }
      case "torch._utils._rebuild_parameter":
        if (a.length !== 3 || !(a[0] instanceof TensorRef)) {
          throw fail(`calls ${fn.qualified} with ${describeValue(args)}`);
        }
        return a[0];
      default:
        throw fail(`calls ${fn.qualified}, which only names a storage type`);
    }
  };

  while (true) {
    need(1);
    const at = pos;
    const op = pkl[pos++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (pkl[pos] > 5) throw fail(`is pickle protocol ${pkl[pos]}; l3mask reads 2 to 5`);
        pos += 1;
        break;
      case 0x95: // FRAME: a length hint
        need(8);
        pos += 8;
        break;
      case 0x2e: { // STOP
        const result = pop();
        return stateDict(result);
      }
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(pkl[pos]);
        pos += 1;
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        need(1);
        const n = pkl[pos++];
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[pos + i]);
        if (n > 0 && pkl[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
          throw fail(`has the integer ${v} at byte ${at}, too large for l3mask`);
        }
        stack.push(Number(v));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        need(4);
        pos += 4;
        stack.push(text(view.getUint32(pos - 4, true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1);
        pos += 1;
        stack.push(text(pkl[pos - 1]));
        break;
      case 0x8d: { // BINUNICODE8
        need(8);
        const n = view.getBigUint64(pos, true);
        pos += 8;
        if (n > BigInt(pkl.length)) throw fail(`has a string longer than the pickle at ${at}`);
        stack.push(text(Number(n)));
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = op - 0x84;
        if (stack.length < n) throw fail(`builds a tuple from an empty stack at byte ${at}`);
        stack.push(new PyTuple(stack.splice(stack.length - n, n)));
        break;
      }
      case 0x74: { // TUPLE (popMark replaces `stack`: take the items before pushing)
        const items = popMark();
        stack.push(new PyTuple(items));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push(new PyList([]));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!(list instanceof PyList)) throw fail(`appends to ${describeValue(list)}`);
        list.items.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!(list instanceof PyList)) throw fail(`appends to ${describeValue(list)}`);
        list.items.push(...items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw fail(`has STACK_GLOBAL without two strings at byte ${at}`);
        }
        stack.push(global(module, name));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: { // BUILD: state_dict()'s `_metadata` (module versions) lands here; unused
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict) || !(state instanceof PyDict || state === null)) {
          throw fail(`sets the state of ${describeValue(target)} at byte ${at}`);
        }
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memo.set(pkl[pos++], top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(view.getUint32(pos, true), top());
        pos += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const n = op === 0x68 ? 1 : 4;
        need(n);
        const i = n === 1 ? pkl[pos] : view.getUint32(pos, true);
        pos += n;
        if (!memo.has(i)) throw fail(`reads memo slot ${i}, never written (corrupted pickle)`);
        stack.push(memo.get(i)!);
        break;
      }
      default:
        throw fail(
          `has pickle opcode 0x${op.toString(16).padStart(2, "0")}${
            OTHER_OPCODES[op] ? ` (${OTHER_OPCODES[op]})` : ""
          } at byte ${at}, which a ` +
            `torch.save state dict does not use; l3mask reads state dicts of tensors only ` +
            `(${CONVERT})`,
        );
    }
  }

  function stateDict(v: PyValue): Map<string, TensorRef> {
    if (!(v instanceof PyDict)) {
      throw fail(
        `holds ${describeValue(v)}, not a state dict (name → tensor); save the model's ` +
          `state_dict() (transformers' save_pretrained does)`,
      );
    }
    const out = new Map<string, TensorRef>();
    for (const [k, t] of v.map) {
      if (typeof k !== "string") throw fail(`has the key ${describeValue(k)}, not a tensor name`);
      if (!(t instanceof TensorRef)) {
        throw fail(
          `holds ${describeValue(t)} under '${k}', not a tensor: not a plain state dict ` +
            `(a training checkpoint? save the model's state_dict() instead)`,
        );
      }
      out.set(k, t);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Archive → tensor index

interface Opened {
  file: Deno.FsFile;
  index: TorchBinIndex;
}

/** First bytes that say what a non-zip file is, for the error message. */
function notZip(path: string, head: Uint8Array): UserError {
  const fail = (msg: string) => new UserError(`${path}: ${msg}`);
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    return fail(
      "legacy torch.save format (torch < 1.6, a pickle rather than a zip archive), which " +
        "l3mask does not read; re-save with torch>=1.6 or convert to safetensors",
    );
  }
  if (head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x46) {
    return fail("is an HDF5 file (TensorFlow/Keras weights), not a torch.save archive");
  }
  if (head.length >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar") {
    return fail(
      "legacy torch.save tar format (torch < 0.4), which l3mask does not read; re-save with " +
        "torch>=1.6 or convert to safetensors",
    );
  }
  return fail(`is not a torch.save zip archive (no zip signature at the start); ${REDOWNLOAD}`);
}

async function openIndexed(path: string): Promise<Opened> {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error("l3mask needs a little-endian host");
  const fail = (msg: string) => new UserError(`${path}: ${msg}`);
  const { file, size } = await openFile(path);
  try {
    const head = new Uint8Array(Math.min(size, 512));
    await readExactly(file, head, 0, () => fail("shrank while being read"));
    if (size < 4 || new DataView(head.buffer).getUint32(0, true) !== SIG_LOCAL) {
      if (size < 22) {
        throw fail(`file has ${size} bytes, too short for a torch.save archive; ${REDOWNLOAD}`);
      }
      throw notZip(path, head);
    }
    const zip = await readZipDirectory(path, file, size);
    const pickles = [...zip.records.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pickles.length !== 1) {
      throw fail(
        pickles.length === 0
          ? `zip archive has no <folder>/data.pkl record: not a torch.save checkpoint`
          : `zip archive has ${pickles.length} data.pkl records (${pickles.join(", ")})`,
      );
    }
    const prefix = pickles[0].slice(0, -"data.pkl".length);
    const byteorder = zip.records.get(`${prefix}byteorder`);
    if (byteorder) {
      const order = new TextDecoder().decode(await readRecord(path, file, zip, byteorder)).trim();
      if (order !== "little") {
        throw fail(
          `was written on a ${order}-endian machine (byteorder '${order}'); l3mask reads ` +
            `little-endian archives only: re-save it on a little-endian machine or ${CONVERT}`,
        );
      }
    }
    const pkl = await readRecord(path, file, zip, zip.records.get(pickles[0])!);
    const tensors = unpickleStateDict(path, pkl);
    const storages = new Map<string, { ref: StorageRef; start: number }>();
    const entries: TorchTensorEntry[] = [];
    for (const [name, t] of tensors) {
      const s = t.storage;
      let known = storages.get(s.key);
      if (known === undefined) {
        const record = zip.records.get(`${prefix}data/${s.key}`);
        if (!record) {
          throw fail(
            `tensor '${name}' uses storage '${s.key}' but the archive has no record ` +
              `'${prefix}data/${s.key}' (incomplete archive); ${REDOWNLOAD}`,
          );
        }
        const bytes = s.numel * DTYPE_BYTES[s.dtype];
        if (record.size !== bytes) {
          throw fail(
            `storage '${s.key}' is ${s.numel} × ${s.dtype} = ${bytes} bytes but its record ` +
              `holds ${record.size} bytes (corrupted archive); ${REDOWNLOAD}`,
          );
        }
        known = { ref: s, start: await recordData(path, file, zip, record) };
        storages.set(s.key, known);
      } else if (known.ref.dtype !== s.dtype || known.ref.numel !== s.numel) {
        throw fail(
          `storage '${s.key}' is ${known.ref.numel} × ${known.ref.dtype} for one tensor and ` +
            `${s.numel} × ${s.dtype} for '${name}'`,
        );
      }
      entries.push(entryOf(path, name, t, known.start));
    }
    return { file, index: { entries, fileSize: size } };
  } catch (err) {
    file.close();
    throw err;
  }
}

function entryOf(path: string, name: string, t: TensorRef, start: number): TorchTensorEntry {
  const es = DTYPE_BYTES[t.storage.dtype];
  let numel = 1;
  let last = t.offset; // the largest storage index the view touches
  for (let d = 0; d < t.shape.length; d++) {
    numel *= t.shape[d];
    last += Math.max(t.shape[d] - 1, 0) * t.stride[d];
  }
  // Expanded (stride-0) views can be far larger than their storage and than the file.
  if (!Number.isSafeInteger(last) || numel > MAX_TENSOR_ELEMENTS) {
    throw new UserError(
      `${path}: tensor '${name}' of shape [${t.shape.join(", ")}] has more than ` +
        `${MAX_TENSOR_ELEMENTS} elements, too many for l3mask`,
    );
  }
  if (numel > 0 && last >= t.storage.numel) {
    throw new UserError(
      `${path}: tensor '${name}' (size [${t.shape.join(", ")}], stride [${
        t.stride.join(", ")
      }], offset ${t.offset}) reads storage element ${last} but storage '${t.storage.key}' ` +
        `has ${t.storage.numel} elements (corrupted archive); ${REDOWNLOAD}`,
    );
  }
  const first = numel > 0 ? t.offset : 0;
  return {
    name,
    dtype: t.storage.dtype,
    shape: t.shape.slice(),
    stride: t.stride.slice(),
    storageOffset: t.offset,
    storage: t.storage.key,
    begin: start + first * es,
    end: numel > 0 ? start + (last + 1) * es : start,
  };
}

/**
 * Names, dtypes, shapes, strides and byte ranges of every tensor of a torch.save archive, and
 * the file's size: reads the zip directory and data.pkl only (no tensor data).
 */
export async function readTorchBinIndex(path: string): Promise<TorchBinIndex> {
  const { file, index } = await openIndexed(path);
  file.close();
  return index;
}

/** Opens a torch.save archive, validates it, and returns a reader loading one tensor at a time. */
export async function openTorchBin(path: string): Promise<TorchBinReader> {
  const { file, index } = await openIndexed(path);
  const entries = new Map(index.entries.map((e) => [e.name, e]));
  let closed = false;
  const close = () => {
    if (!closed) file.close();
    closed = true;
  };
  return {
    path,
    entries,
    read: async (name: string) => {
      if (closed) throw new Error(`${path}: read('${name}') after close()`);
      const e = entries.get(name);
      if (!e) throw new UserError(`${path}: has no tensor '${name}'`);
      return await readView(path, file, e);
    },
    close,
    [Symbol.dispose]: close,
  };
}

function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

async function readView(
  path: string,
  file: Deno.FsFile,
  e: TorchTensorEntry,
): Promise<Float32Array> {
  if (!READABLE_DTYPES.includes(e.dtype)) {
    throw new UserError(
      `${path}: tensor '${e.name}' has dtype ${e.dtype}; l3mask reads ${
        READABLE_DTYPES.join(", ")
      }`,
    );
  }
  const numel = e.shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return new Float32Array(0);
  const raw = new ArrayBuffer(e.end - e.begin);
  await readExactly(file, new Uint8Array(raw), e.begin, () =>
    new UserError(
      `${path}: file ended while reading tensor '${e.name}' (the file changed or was truncated ` +
        `while open); ${REDOWNLOAD}`,
    ));
  const span = decodeToF32(e.dtype, raw); // storage elements [offset, last]
  if (isRowMajor(e.shape, e.stride)) return span;
  return gather(span, e.shape, e.stride, numel);
}

/** The view (shape, stride) of `src` (whose element 0 is the view's first) in row-major order. */
function gather(
  src: Float32Array,
  shape: readonly number[],
  stride: readonly number[],
  numel: number,
): Float32Array {
  const out = new Float32Array(numel);
  const nd = shape.length;
  const inner = shape[nd - 1];
  const innerStride = stride[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let base = 0;
  let o = 0;
  for (let row = 0; row < numel / inner; row++) {
    for (let j = 0, p = base; j < inner; j++, p += innerStride) out[o++] = src[p];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      base += stride[d];
      if (idx[d] < shape[d]) break;
      base -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
