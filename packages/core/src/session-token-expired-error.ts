import { EntraSqlError } from "./errors.js";

// The error every driver adapter gives when a statement refused with 37396 (sql-errors.ts
// `isAccessTokenExpiredOnSession`) cannot be run again for the caller. Shared here so that one
// `isSessionTokenExpiredError` recognises it from any adapter; each adapter names its own cases
// (`during`) and writes the message telling its users what to do.

/**
 * A statement was refused with error 37396 ("access token is expired") and was not run again: the
 * server did not execute it, and its connection is destroyed. `during` says which case (the adapter's
 * own list), the message what to do; `cause` is the driver's error.
 */
export class SessionTokenExpiredError<During extends string = string> extends EntraSqlError {
  override name = "SessionTokenExpiredError";
  /** Error 37396. */
  readonly number = 37396;
  constructor(
    readonly during: During,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** Compares `name`, so it works across duplicate installs of the packages. */
export const isSessionTokenExpiredError = (error: unknown): error is SessionTokenExpiredError =>
  typeof error === "object" &&
  error !== null &&
  (error as { name?: unknown }).name === "SessionTokenExpiredError";
