/**
 * An error the user can fix (bad input, missing file, no adapter). main.ts prints its message as
 * one line without a stack trace and exits with status 2; any other error is a bug and keeps its
 * stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
