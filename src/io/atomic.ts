/**
 * Atomic file writes: write to `<path>.tmp-<pid>` beside the target, flush, then rename over the
 * target. A reader (or a resumed run) sees either the old file or the complete new one, never a
 * half-written file, and an interrupted write leaves only the temporary file behind.
 */
import { dirname } from "node:path";

/** The temporary name a write to `path` goes through (same directory, so rename is atomic). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}`;
}

/**
 * Streams into `path` atomically: `write` gets an open file (positioned at 0) and may write to it
 * in as many pieces as it likes; on success the file is synced and renamed over `path`, on failure
 * the temporary file is removed and the error rethrown. Missing parent directories are created.
 */
export async function writeFileAtomicWith(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let closed = false;
  try {
    await write(file);
    await file.syncData();
    file.close();
    closed = true;
    await Deno.rename(tmp, path);
  } catch (err) {
    if (!closed) file.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** Writes all of `data` to `file`, looping over short writes. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await file.write(data.subarray(off));
}

/** Writes `data` (a string is written as UTF-8) to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await writeFileAtomicWith(path, (file) => writeAll(file, bytes));
}
