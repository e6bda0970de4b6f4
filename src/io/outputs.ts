/**
 * Output locations checked before long work starts, and file-system failures in words.
 *
 * A command calls `checkOutputFile` / `checkOutputDir` for every place it will write (its `--out`,
 * `--report`, `--cache-dir`, ...) before it loads a model or scores anything: the check creates the
 * missing parent directories and writes and removes a probe file where the output will go, so a
 * read-only directory, a path that is a directory, or a parent that cannot exist is a one-line
 * UserError at once rather than a stack trace after hours of work.
 */
import { dirname, join } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/**
 * Words for a file-system error: Deno's error classes, the OS codes they carry, and the plain
 * Errors whose only trace of the cause is "(os error N)" in the message (EFBIG under a file-size
 * limit reaches JavaScript as "File too large (os error 27)").
 */
export function fsProblem(e: unknown): string | undefined {
  const code = (e as { code?: string })?.code;
  const message = e instanceof Error ? e.message : "";
  if (/\(os error 27\)/.test(message)) {
    return "file too large for this file system or the file-size limit";
  }
  if (/\(os error 28\)/.test(message)) return "no space left on the device";
  if (code === "EROFS") return "read-only file system";
  if (code === "EFBIG") return "file too large for this file system or the file-size limit";
  if (code === "ENOSPC") return "no space left on the device";
  if (code === "EDQUOT") return "disk quota exceeded";
  if (code === "ENAMETOOLONG") return "file name too long";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  if (e instanceof Deno.errors.NotADirectory) return "a part of the path is not a directory";
  if (e instanceof Deno.errors.NotFound) return "the directory does not exist";
  if (e instanceof Deno.errors.AlreadyExists) return "already exists";
  if (code && /^E[A-Z]+$/.test(code)) return message;
  if (/\(os error \d+\)/.test(message)) return message;
  return undefined;
}

/** A write that failed for a file-system reason, in words; a caller may name the flag instead. */
export class FsUserError extends UserError {
  constructor(readonly problem: string, what: string, fix: string) {
    super(`${what}: cannot write (${problem}); ${fix}`);
  }
}

/**
 * `e` as a UserError naming `what` (e.g. "--out runs/x.jsonl") when it is a file-system error (an
 * FsUserError raised deeper down is named again); other errors are returned unchanged.
 */
export function asFsUserError(e: unknown, what: string, fix: string): unknown {
  if (e instanceof FsUserError) return new FsUserError(e.problem, what, fix);
  const problem = e instanceof UserError ? undefined : fsProblem(e);
  if (problem === undefined) return e;
  return new FsUserError(problem, what, fix);
}

const FIX = "choose a writable location";

async function probe(dir: string, what: string): Promise<void> {
  const file = join(dir, `.l3mask-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(file, "probe");
  } catch (e) {
    // mkdir over an existing file reports "already exists": the path runs through a file.
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new FsUserError("a part of the path is not a directory", what, FIX);
    }
    throw asFsUserError(e, what, FIX);
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/** `path` will be written as a file by `flag` (e.g. "--out"): it must not be a directory. */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  const what = `${flag} ${path}`;
  const st = await Deno.stat(path).catch(() => null);
  if (st?.isDirectory) {
    throw new UserError(`${what}: is a directory; ${flag} takes a file name`);
  }
  await probe(dirname(path), what);
  if (st) {
    // An existing file is replaced by rename; it must not be a non-regular file we cannot replace.
    if (!st.isFile) throw new UserError(`${what}: exists and is not a regular file; ${FIX}`);
  }
}

/** Writes `data` to `path` atomically; a failure is one line naming `flag`, no file left behind. */
export async function writeOutputFile(path: string, flag: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    throw asFsUserError(e, `${flag} ${path}`, "choose a writable location");
  }
}

/** `path` will hold files written by `flag`: it is created if missing and must be writable. */
export async function checkOutputDir(path: string, flag: string): Promise<void> {
  const what = `${flag} ${path}`;
  const st = await Deno.stat(path).catch(() => null);
  if (st && !st.isDirectory) throw new UserError(`${what}: exists and is not a directory; ${FIX}`);
  await probe(path, what);
}
