/**
 * Model resolution: local directories, the hub cache, offline mode, and downloads with resume
 * against an in-process fake of the hub's HTTP API. No test touches the network: every call
 * passes its own fetch, and the global fetch is replaced by one that fails the test if called.
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import { UserError } from "../src/errors.ts";
import { MODEL_FILES, parseModelSpec, repoCacheDir, resolveModel } from "../src/io/hub.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function assertEquals(actual: unknown, expected: unknown, label: string): void {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  assert(a === e, `${label}: expected ${e}, got ${a}`);
}

async function expectUserError(fn: () => Promise<unknown>, parts: string[]): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert(
      err instanceof UserError,
      `expected a UserError, got ${err instanceof Error ? err.stack : err}`,
    );
    assert(!err.message.includes("\n"), `message is not one line: ${err.message}`);
    for (const p of parts) assert(err.message.includes(p), `message lacks '${p}': ${err.message}`);
    return err.message;
  }
  throw new Error(`expected a UserError containing ${JSON.stringify(parts)}, got no error`);
}

// The caller's environment must not switch these tests offline or change the token.
const savedEnv = Object.fromEntries(
  ["HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"].map((k) => [k, Deno.env.get(k)]),
);
for (const k of Object.keys(savedEnv)) Deno.env.delete(k);

const noNetwork: typeof fetch = (input) => {
  throw new Error(`test tried to use the network: ${String(input)}`);
};
globalThis.fetch = noNetwork;

const root = await Deno.makeTempDir({ prefix: "l3mask_hub_" });
let counter = 0;
const fresh = async (name: string) => {
  const d = join(root, `${name}-${counter++}`);
  await Deno.mkdir(d, { recursive: true });
  return d;
};

const enc = new TextEncoder();
const FILES: Record<string, Uint8Array> = {
  "config.json": enc.encode(JSON.stringify({ model_type: "roberta" })),
  "tokenizer.json": enc.encode(JSON.stringify({ version: "1.0" })),
  // Big enough to be stored with LFS on the fake hub (sha256 etag).
  "model.safetensors": new Uint8Array(300_000).map((_, i) => (i * 7919) % 251),
};
const LFS = new Set(["model.safetensors", "pytorch_model.bin"]);
const SHA = "0123456789abcdef0123456789abcdef01234567";
const HUB = "https://hub.test";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitOid = (b: Uint8Array) =>
  createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const etagOf = (path: string, b: Uint8Array) => LFS.has(path) ? sha256(b) : gitOid(b);

interface FakeHub {
  fetch: typeof fetch;
  requests: { method: string; url: string; range?: string; auth?: string }[];
}

/**
 * The hub endpoints @huggingface/hub and hub.ts use: model info (commit), paths-info (sizes and
 * checksums), resolve (Range probe and byte ranges). `cutAfter` makes the next file download
 * stop with a network error after that many bytes.
 */
function fakeHub(
  files: Record<string, Uint8Array>,
  opts: { cutAfter?: number; id?: string } = {},
): FakeHub {
  const id = opts.id ?? "org/tiny-roberta";
  const requests: FakeHub["requests"] = [];
  let cutAfter = opts.cutAfter;
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  const handle = (input: string | URL | Request, init?: RequestInit): Response => {
    const url = new URL(
      typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
    );
    const headers = new Headers(init?.headers);
    const method = init?.method ?? "GET";
    requests.push({
      method,
      url: url.href,
      range: headers.get("Range") ?? undefined,
      auth: headers.get("Authorization") ?? undefined,
    });
    assert(url.origin === HUB, `request to ${url.origin}`);
    const path = decodeURIComponent(url.pathname);
    if (path === `/api/models/${id}/revision/main`) return json({ _id: "x", id, sha: SHA });
    if (path === `/api/models/${id}/paths-info/${SHA}`) {
      const { paths } = JSON.parse(String(init?.body));
      return json(
        (paths as string[]).filter((p) => p in files).map((p) => {
          const b = files[p];
          return LFS.has(p)
            ? {
              type: "file",
              path: p,
              oid: gitOid(enc.encode("pointer " + p)),
              size: 134,
              lfs: { oid: sha256(b), size: b.length, pointerSize: 134 },
            }
            : { type: "file", path: p, oid: gitOid(b), size: b.length };
        }),
      );
    }
    if (path.startsWith("/api/models/")) return json({ error: "Repository not found" }, 404);
    const prefix = `/${id}/resolve/${SHA}/`;
    if (path.startsWith(prefix)) {
      const file = path.slice(prefix.length);
      const b = files[file];
      if (!b) {
        return new Response("no", { status: 404, headers: { "X-Error-Code": "EntryNotFound" } });
      }
      const range = headers.get("Range");
      const common = { ETag: `"${etagOf(file, b)}"`, "Content-Type": "application/octet-stream" };
      if (range) {
        const m = /^bytes=(\d+)-(\d*)$/.exec(range)!;
        const start = Number(m[1]), end = m[2] ? Number(m[2]) + 1 : b.length;
        return new Response(body(b.subarray(start, end)), {
          status: 206,
          headers: { ...common, "Content-Range": `bytes ${start}-${end - 1}/${b.length}` },
        });
      }
      return new Response(body(b), { status: 200, headers: common });
    }
    return new Response("unexpected", { status: 500 });
  };
  const fake: typeof fetch = (input, init) => {
    try {
      return Promise.resolve(handle(input, init));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  /** A body in 64 KiB chunks that fails after `cutAfter` bytes when a cut is armed. */
  function body(b: Uint8Array): ReadableStream<Uint8Array> {
    const cut = cutAfter !== undefined && b.length > cutAfter ? cutAfter : undefined;
    if (cut !== undefined) cutAfter = undefined;
    let off = 0;
    return new ReadableStream({
      pull(ctrl) {
        if (cut !== undefined && off >= cut) {
          ctrl.error(new TypeError("connection reset by peer"));
          return;
        }
        const end = Math.min(b.length, off + 65536, cut ?? Infinity);
        ctrl.enqueue(b.slice(off, end));
        off = end;
        if (off >= b.length) ctrl.close();
      },
    });
  }
  return { fetch: fake, requests };
}

async function writeModelDir(dir: string, files: readonly string[]): Promise<void> {
  for (const f of files) await Deno.writeFile(join(dir, f), FILES[f] ?? new Uint8Array([1]));
}

async function sameBytes(path: string, want: Uint8Array): Promise<boolean> {
  const got = await Deno.readFile(path);
  return got.length === want.length && got.every((v, i) => v === want[i]);
}

Deno.test("parseModelSpec: ids, revisions and rejects", () => {
  assertEquals(parseModelSpec("roberta-base"), { id: "roberta-base", revision: "main" }, "plain");
  assertEquals(
    parseModelSpec("allenai/scibert_scivocab_uncased@v1.0"),
    { id: "allenai/scibert_scivocab_uncased", revision: "v1.0" },
    "org + revision",
  );
  assertEquals(parseModelSpec("x/y@refs/pr/3").revision, "refs/pr/3", "pr ref");
  for (const bad of ["a b", "a/b/c", "-x", "x@", "x@a..b", "x--y"]) {
    let ok = false;
    try {
      parseModelSpec(bad);
    } catch (err) {
      ok = err instanceof UserError;
    }
    assert(ok, `'${bad}' must be rejected`);
  }
});

Deno.test("local directory: complete is returned as is, incomplete names what is missing", async () => {
  const dir = await fresh("local");
  await writeModelDir(dir, MODEL_FILES);
  assertEquals(await resolveModel(dir, { fetch: noNetwork }), dir, "complete dir");

  const partial = await fresh("partial");
  await writeModelDir(partial, ["config.json"]);
  await expectUserError(() => resolveModel(partial, { fetch: noNetwork }), [
    partial,
    "is missing a tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt) and model.safetensors or pytorch_model.bin",
    "tokenizer files",
    "safe_serialization=True",
  ]);

  // pytorch_model.bin stands in for model.safetensors (its contents are read when loading).
  const torch = await fresh("torch");
  await writeModelDir(torch, ["config.json", "tokenizer.json"]);
  await Deno.writeFile(join(torch, "pytorch_model.bin"), new Uint8Array(4));
  assertEquals(await resolveModel(torch, { fetch: noNetwork }), torch, "pytorch_model.bin dir");

  // Other frameworks' weights are refused by name, with the conversion.
  for (
    const [file, flag] of [["tf_model.h5", "from_tf=True"], [
      "flax_model.msgpack",
      "from_flax=True",
    ]]
  ) {
    const other = await fresh("other");
    await writeModelDir(other, ["config.json", "tokenizer.json"]);
    await Deno.writeFile(join(other, file), new Uint8Array(4));
    await expectUserError(() => resolveModel(other, { fetch: noNetwork }), [
      `'${other}' has no model.safetensors or pytorch_model.bin`,
      `it has ${file}`,
      "which l3mask does not read",
      flag,
      "save_pretrained('OUT')",
    ]);
  }

  await expectUserError(() => resolveModel(join(root, "nowhere"), { fetch: noNetwork }), [
    "does not exist",
  ]);
  await expectUserError(() => resolveModel(join(dir, "config.json"), { fetch: noNetwork }), [
    "is a file",
  ]);
});

Deno.test("offline: a cache without the model is a clear error, never a request", async () => {
  const cacheDir = await fresh("cache-empty");
  await expectUserError(
    () => resolveModel("roberta-base", { offline: true, cacheDir, fetch: noNetwork }),
    [
      "model 'roberta-base' is not in the cache at",
      join(cacheDir, "models--roberta-base"),
      "offline mode is on; run once without --offline or pass a local directory",
    ],
  );
  // HF_HUB_OFFLINE=1 does the same without the option.
  Deno.env.set("HF_HUB_OFFLINE", "1");
  try {
    await expectUserError(() => resolveModel("roberta-base", { cacheDir, fetch: noNetwork }), [
      "offline mode is on",
    ]);
  } finally {
    Deno.env.delete("HF_HUB_OFFLINE");
  }
});

Deno.test("offline: a pre-populated HF-layout cache resolves through refs/ and snapshots/", async () => {
  const cacheDir = await fresh("cache-full");
  const repo = repoCacheDir(cacheDir, "allenai/scibert_scivocab_uncased");
  assert(repo.endsWith("models--allenai--scibert_scivocab_uncased"), repo);
  const snap = join(repo, "snapshots", SHA);
  await Deno.mkdir(snap, { recursive: true });
  await Deno.mkdir(join(repo, "blobs"), { recursive: true });
  for (const f of MODEL_FILES) {
    const blob = join(repo, "blobs", etagOf(f, FILES[f]));
    await Deno.writeFile(blob, FILES[f]);
    await Deno.symlink(`../../blobs/${etagOf(f, FILES[f])}`, join(snap, f));
  }
  await Deno.mkdir(join(repo, "refs"), { recursive: true });
  await Deno.writeTextFile(join(repo, "refs", "main"), SHA);

  const id = "allenai/scibert_scivocab_uncased";
  assertEquals(
    await resolveModel(id, { offline: true, cacheDir, fetch: noNetwork }),
    snap,
    "via refs/main",
  );
  assertEquals(
    await resolveModel(`${id}@${SHA}`, { offline: true, cacheDir, fetch: noNetwork }),
    snap,
    "via commit",
  );
  await expectUserError(
    () => resolveModel(`${id}@v2`, { offline: true, cacheDir, fetch: noNetwork }),
    [
      `model '${id}@v2' is not in the cache`,
    ],
  );
  await Deno.remove(join(snap, "tokenizer.json"));
  await expectUserError(() => resolveModel(id, { offline: true, cacheDir, fetch: noNetwork }), [
    "only partly in the cache",
    "missing a tokenizer (tokenizer.json",
  ]);
});

Deno.test("online: downloads into the HF cache layout, verifies, then works offline", async () => {
  const cacheDir = await fresh("cache-dl");
  const hub = fakeHub(FILES);
  const msgs: string[] = [];
  const token = "hf_test_token";
  const dir = await resolveModel("org/tiny-roberta", {
    cacheDir,
    fetch: hub.fetch,
    hubUrl: HUB,
    token,
    progress: (m) => msgs.push(m),
  });
  const repo = repoCacheDir(cacheDir, "org/tiny-roberta");
  assertEquals(dir, join(repo, "snapshots", SHA), "snapshot dir");
  for (const f of MODEL_FILES) {
    assert(await sameBytes(join(dir, f), FILES[f]), `${f} content`);
    assert((await Deno.lstat(join(dir, f))).isSymlink, `${f} is a symlink into blobs/`);
  }
  assert(
    await sameBytes(
      join(repo, "blobs", sha256(FILES["model.safetensors"])),
      FILES["model.safetensors"],
    ),
    "blob by sha256",
  );
  assertEquals((await Deno.readTextFile(join(repo, "refs", "main"))).trim(), SHA, "refs/main");
  assert(hub.requests.every((r) => r.auth === `Bearer ${token}`), "token sent on every request");
  assert(
    msgs.some((m) => m.includes("downloading org/tiny-roberta/model.safetensors")),
    msgs.join("|"),
  );

  // Now cached: offline needs no request, online only asks for the commit.
  assertEquals(
    await resolveModel("org/tiny-roberta", { offline: true, cacheDir, fetch: noNetwork }),
    dir,
    "offline",
  );
  const again = fakeHub(FILES);
  assertEquals(
    await resolveModel("org/tiny-roberta", { cacheDir, fetch: again.fetch, hubUrl: HUB }),
    dir,
    "online again",
  );
  assertEquals(again.requests.length, 1, "one request (the commit) when cached");

  // Hub unreachable: a complete cached snapshot is used.
  const down: typeof fetch = () =>
    Promise.reject(new TypeError("error sending request: dns error"));
  assertEquals(
    await resolveModel("org/tiny-roberta", { cacheDir, fetch: down, hubUrl: HUB }),
    dir,
    "fallback to cache",
  );
});

Deno.test("online: an interrupted download resumes with a Range request", async () => {
  const cacheDir = await fresh("cache-resume");
  const weights = FILES["model.safetensors"];
  const cutting = fakeHub(FILES, { cutAfter: 131072 });
  // The cut hits the first body longer than 128 KiB: model.safetensors.
  await expectUserError(
    () => resolveModel("org/tiny-roberta", { cacheDir, fetch: cutting.fetch, hubUrl: HUB }),
    [
      "was interrupted",
      "run the command again to resume",
    ],
  );
  const repo = repoCacheDir(cacheDir, "org/tiny-roberta");
  const partial = join(repo, "blobs", `${sha256(weights)}.incomplete`);
  const partialSize = (await Deno.stat(partial)).size;
  assertEquals(partialSize, 131072, "the partial download is kept");
  assert(
    await sameBytes(join(repo, "snapshots", SHA, "config.json"), FILES["config.json"]),
    "config.json done",
  );

  const msgs: string[] = [];
  const hub = fakeHub(FILES);
  const dir = await resolveModel("org/tiny-roberta", {
    cacheDir,
    fetch: hub.fetch,
    hubUrl: HUB,
    progress: (m) => msgs.push(m),
  });
  const ranged = hub.requests.filter((r) => r.range && r.range !== "bytes=0-0");
  assertEquals(
    ranged.map((r) => r.range),
    [`bytes=${partialSize}-`],
    "resumed from the partial size",
  );
  assert(msgs.some((m) => m.startsWith("resuming")), msgs.join("|"));
  for (const f of MODEL_FILES) {
    assert(await sameBytes(join(dir, f), FILES[f]), `${f} content after resume`);
  }
  assert(
    ![...Deno.readDirSync(join(repo, "blobs"))].some((e) => e.name.endsWith(".incomplete")),
    "no partial left",
  );
});

Deno.test("online: a corrupt partial download fails its checksum and is deleted", async () => {
  const cacheDir = await fresh("cache-corrupt");
  const weights = FILES["model.safetensors"];
  const repo = repoCacheDir(cacheDir, "org/tiny-roberta");
  await Deno.mkdir(join(repo, "blobs"), { recursive: true });
  const partial = join(repo, "blobs", `${sha256(weights)}.incomplete`);
  await Deno.writeFile(partial, new Uint8Array(1000).fill(9)); // not the file's first bytes
  await expectUserError(
    () => resolveModel("org/tiny-roberta", { cacheDir, fetch: fakeHub(FILES).fetch, hubUrl: HUB }),
    [
      "org/tiny-roberta/model.safetensors does not match the hub's checksum",
      "run the command again",
    ],
  );
  let gone = false;
  try {
    await Deno.stat(partial);
  } catch {
    gone = true;
  }
  assert(gone, "corrupt partial deleted");
  const dir = await resolveModel("org/tiny-roberta", {
    cacheDir,
    fetch: fakeHub(FILES).fetch,
    hubUrl: HUB,
  });
  assert(await sameBytes(join(dir, "model.safetensors"), weights), "downloaded afresh");
});

Deno.test("online: pytorch_model.bin is downloaded when the hub has no model.safetensors", async () => {
  const { "model.safetensors": _, ...torchOnly } = FILES;
  const bin = new Uint8Array(200_000).map((_, i) => (i * 31) % 253);
  const hub = fakeHub({ ...torchOnly, "pytorch_model.bin": bin });
  const cacheDir = await fresh("cache-torch");
  const dir = await resolveModel("org/tiny-roberta", { cacheDir, fetch: hub.fetch, hubUrl: HUB });
  assert(await sameBytes(join(dir, "pytorch_model.bin"), bin), "pytorch_model.bin content");
  assert(!(await Deno.stat(join(dir, "model.safetensors")).then(() => true, () => false)), "no st");
  assertEquals(
    await resolveModel("org/tiny-roberta", { offline: true, cacheDir, fetch: noNetwork }),
    dir,
    "the .bin snapshot is complete offline",
  );

  // With both on the hub, only model.safetensors is fetched.
  const both = fakeHub({ ...FILES, "pytorch_model.bin": bin });
  const bothDir = await resolveModel("org/tiny-roberta", {
    cacheDir: await fresh("cache-both"),
    fetch: both.fetch,
    hubUrl: HUB,
  });
  assert(await sameBytes(join(bothDir, "model.safetensors"), FILES["model.safetensors"]), "st");
  assert(
    !both.requests.some((r) => r.url.endsWith("/pytorch_model.bin")),
    both.requests.map((r) => r.url).join(" "),
  );
});

Deno.test("online: vocabulary files are downloaded when the hub has no tokenizer.json", async () => {
  const { "tokenizer.json": _, "model.safetensors": __, ...rest } = FILES;
  const bin = new Uint8Array(200_000).map((_, i) => (i * 37) % 251);
  const files: Record<string, Uint8Array> = {
    ...rest,
    "vocab.txt": enc.encode("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n"),
    "tokenizer_config.json": enc.encode(JSON.stringify({ do_lower_case: true })),
    "pytorch_model.bin": bin,
    "README.md": enc.encode("not a model file"),
  };
  const hub = fakeHub(files);
  const cacheDir = await fresh("cache-vocab");
  const dir = await resolveModel("org/tiny-roberta", { cacheDir, fetch: hub.fetch, hubUrl: HUB });
  const fetched = hub.requests.filter((r) => r.method === "GET" && r.url.includes("/resolve/"))
    .map((r) => r.url.split("/").at(-1)!);
  assertEquals(
    [...new Set(fetched)],
    ["config.json", "tokenizer_config.json", "vocab.txt", "pytorch_model.bin"],
    "files fetched",
  );
  for (const f of ["vocab.txt", "tokenizer_config.json", "pytorch_model.bin"]) {
    assert(await sameBytes(join(dir, f), files[f]), f);
  }
  assertEquals(
    await resolveModel("org/tiny-roberta", { offline: true, cacheDir, fetch: noNetwork }),
    dir,
    "the vocabulary-file snapshot is complete offline",
  );
  // A merges.txt without its vocab.json is no tokenizer.
  const { "vocab.txt": ___, ...noVocab } = files;
  const mergesCache = await fresh("cache-merges");
  await expectUserError(
    () =>
      resolveModel("org/tiny-roberta", {
        cacheDir: mergesCache,
        fetch: fakeHub({ ...noVocab, "merges.txt": enc.encode("#version: 0.2\n") }).fetch,
        hubUrl: HUB,
      }),
    ["lacks a tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt)"],
  );
});

Deno.test("online: TF-only models, missing models and bad tokens are UserErrors", async () => {
  const cacheDir = await fresh("cache-errors");
  const { "model.safetensors": _, ...noWeights } = FILES;
  const tf = fakeHub({ ...noWeights, "tf_model.h5": new Uint8Array(64) });
  await expectUserError(
    () => resolveModel("org/tiny-roberta", { cacheDir, fetch: tf.fetch, hubUrl: HUB }),
    [
      "model 'org/tiny-roberta' has no model.safetensors or pytorch_model.bin on the Hugging Face Hub",
      "it has tf_model.h5 (TensorFlow weights), which l3mask does not read",
      "from_tf=True",
      "refs/pr/<N>",
    ],
  );
  await expectUserError(
    () =>
      resolveModel("org/tiny-roberta", { cacheDir, fetch: fakeHub(noWeights).fetch, hubUrl: HUB }),
    ["lacks model.safetensors or pytorch_model.bin"],
  );
  const { "tokenizer.json": __, ...noTokenizer } = FILES;
  await expectUserError(
    () =>
      resolveModel("org/tiny-roberta", {
        cacheDir,
        fetch: fakeHub(noTokenizer).fetch,
        hubUrl: HUB,
      }),
    ["lacks a tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt)"],
  );
  await expectUserError(
    () => resolveModel("org/absent", { cacheDir, fetch: fakeHub(FILES).fetch, hubUrl: HUB }),
    [
      "model 'org/absent' was not found on the Hugging Face Hub (HTTP 404",
    ],
  );
  await expectUserError(
    () =>
      resolveModel("org/tiny-roberta", { cacheDir, fetch: noNetwork, hubUrl: HUB, token: "abc" }),
    ["HF_TOKEN does not look like a Hugging Face access token"],
  );
  const down: typeof fetch = () =>
    Promise.reject(new TypeError("error sending request: dns error"));
  await expectUserError(() => resolveModel("org/other", { cacheDir, fetch: down, hubUrl: HUB }), [
    "could not reach the Hugging Face Hub for 'org/other'",
    "dns error",
  ]);
});

Deno.test("HF_TOKEN from the environment is sent", async () => {
  const cacheDir = await fresh("cache-token");
  Deno.env.set("HF_TOKEN", "hf_from_env");
  try {
    const hub = fakeHub(FILES);
    await resolveModel("org/tiny-roberta", { cacheDir, fetch: hub.fetch, hubUrl: HUB });
    assert(
      hub.requests.length > 0 && hub.requests.every((r) => r.auth === "Bearer hf_from_env"),
      "env token",
    );
  } finally {
    Deno.env.delete("HF_TOKEN");
  }
});

globalThis.addEventListener("unload", () => {
  for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) Deno.env.set(k, v);
  try {
    Deno.removeSync(root, { recursive: true });
  } catch { /* already gone */ }
});
