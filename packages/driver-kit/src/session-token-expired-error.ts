import { EntraSqlError } from "@entra-sql/core";
import { isAccessTokenExpiredOnSession } from "./sql-errors.js";

// The error every adapter gives when a statement refused with 37396 (sql-errors.ts
// `isAccessTokenExpiredOnSession`) cannot be run again for the caller. The server did not run the
// statement; the session cannot take a new token, so its connection is closed, never reused.

/**
 * Which case: `"transaction"` a statement, streamed query or COMMIT inside a transaction (nothing of it
 * was committed); `"begin"` the BEGIN of a transaction given its connection; `"prepared-statement"` an
 * execute of a prepared statement (its handle died with the session); `"retry"` refused again after one
 * retry on a freshly logged-in connection; `"stream"` a streamed query refused after it had delivered
 * results (a retry would deliver them twice).
 */
export type SessionTokenExpiredDuring = "transaction" | "begin" | "prepared-statement" | "retry" | "stream";

const WHAT_TO_DO: Record<SessionTokenExpiredDuring, string> = {
  transaction:
    "The statement was not executed and the transaction was NOT committed: its connection is closed, which " +
    "ends the transaction at the server (no ROLLBACK is sent on the refused session). Run the whole " +
    "transaction again; new connections log in with a fresh token.",
  begin:
    "Nothing of the transaction ran and its connection was closed. Run the transaction again; new " +
    "connections log in with a fresh token.",
  "prepared-statement":
    "The statement was not executed, and its prepared handle died with the session: unprepare() (it " +
    "resolves without a round trip), then prepare() and execute again. If it was prepared inside a " +
    "transaction, roll the transaction back and run it again.",
  retry:
    "It refused it again after one retry on a freshly logged-in connection. The statement was not executed. " +
    "Check the token source (clock skew, token lifetime) and the identity's access.",
  stream:
    "The query had already delivered results, so it was not run again (they would repeat). The refused " +
    "statement was not executed; discard what was received and run the query again.",
};

/**
 * A statement was refused with error 37396 ("access token is expired") and was not run again. `during`
 * says which case, the message what to do; `cause` is the driver's error.
 */
export class SessionTokenExpiredError extends EntraSqlError {
  override name = "SessionTokenExpiredError";
  /** Error 37396. */
  readonly number = 37396;
  constructor(
    readonly during: SessionTokenExpiredDuring,
    options: { cause: unknown; packageName: string },
  ) {
    super(
      `${options.packageName}: the server refused a statement because the login token of its session expired ` +
        `(error 37396, e.g. after the server revalidated open sessions). ${WHAT_TO_DO[during]}`,
      { cause: options.cause },
    );
  }
}

/** Compares `name`, so it works across duplicate installs and adapters. */
export const isSessionTokenExpiredError = (error: unknown): error is SessionTokenExpiredError =>
  typeof error === "object" &&
  error !== null &&
  (error as { name?: unknown }).name === "SessionTokenExpiredError";

/** A driver error saying 37396 that is not named yet (a named one is never wrapped again). */
export const isUnnamedRefusal = (error: unknown): boolean =>
  error !== undefined &&
  error !== null &&
  !isSessionTokenExpiredError(error) &&
  isAccessTokenExpiredOnSession(error);

/** A 37396 refusal as a SessionTokenExpiredError (`cause`: the driver error); any other error unchanged. */
export function nameRefusal(error: unknown, during: SessionTokenExpiredDuring, packageName: string): unknown {
  return isUnnamedRefusal(error)
    ? new SessionTokenExpiredError(during, { cause: error, packageName })
    : error;
}
