/**
 * A failed write as a one-line UserError. `asFsUserError` (src/io/outputs.ts) knows Deno's error
 * classes and the errno codes they carry; some OS errors reach JavaScript as a plain Error whose
 * only trace of the cause is "(os error N)" in its message (EFBIG under a file-size limit is one:
 * "File too large (os error 27)"). Those are the user's to fix too, so they become a UserError
 * here instead of escaping as a stack trace.
 */
import { UserError } from "../errors.ts";
import { asFsUserError } from "../io/outputs.ts";

/** `e` as a UserError naming `what` when it is a file-system error; other errors unchanged. */
export function asWriteUserError(e: unknown, what: string, fix: string): unknown {
  const mapped = asFsUserError(e, what, fix);
  if (mapped instanceof UserError || !(e instanceof Error)) return mapped;
  if (!/\(os error \d+\)/.test(e.message)) return mapped;
  return new UserError(`${what}: cannot write (${e.message}); ${fix}`);
}
