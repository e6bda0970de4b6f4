/** Flag value checks shared by the commands; each failure names the flag and what it takes. */
import { UserError } from "../errors.ts";

export function positiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError(`${flag} must be a positive integer, got '${s}'`);
  }
  return n;
}

export function nonNegativeNumber(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) {
    throw new UserError(`${flag} must be a number >= 0, got '${s}'`);
  }
  return n;
}

export function probability(s: string, flag: string): number {
  const n = Number(s);
  if (!(n > 0 && n <= 1)) throw new UserError(`${flag} must be a number in (0, 1], got '${s}'`);
  return n;
}

export function choice<T extends string>(s: string, flag: string, options: readonly T[]): T {
  if (!(options as readonly string[]).includes(s)) {
    throw new UserError(`${flag} must be one of ${options.join(", ")}; got '${s}'`);
  }
  return s as T;
}
