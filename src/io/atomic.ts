/**
 * Atomic file writes: write to `<path>.tmp-<pid>` beside the target, flush, then rename over the
 * target. A reader (or a resumed run) sees either the old file or the complete new one, never a
 * half-written file, and an interrupted write leaves only the temporary file behind.
 */
import { dirname } from "node:path";
import { asFsUserError } from "./outputs.ts";

/** The temporary name a write to `path` goes through (same directory, so rename is atomic). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${Deno.pid}`;
}

/**
 * Streams into `path` atomically: `write` gets an open file (positioned at 0) and may write to it
 * in as many pieces as it likes; on success the file is synced and renamed over `path`, on failure
 * the temporary file is removed and the error rethrown (a file-system failure such as a read-only
 * directory or a full disk as a one-line UserError naming `path`). Missing parent directories are
 * created.
 */
export async function writeFileAtomicWith(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  const tmp = tempPathFor(path);
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  } catch (err) {
    throw asFsUserError(err, path, "choose a writable location");
  }
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
    throw asFsUserError(err, path, "choose a writable location");
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
