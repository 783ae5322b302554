import {
  isSessionTokenExpiredError as isSessionTokenExpired,
  SessionTokenExpiredError as SessionTokenExpiredBase,
} from "@entra-sql/core";

// This package's named error, with `cause`. The connect-time errors (TokenLoginRejectedError,
// ConnectionFailedError) and the base of SessionTokenExpiredError are core's, shared with
// @entra-sql/knex; index.ts re-exports them.

type During = "transaction" | "prepared-statement" | "retry" | "stream";

/**
 * A statement was refused with error 37396 ("access token is expired") and could not be run again for
 * you: it was on a connection held by a transaction or a prepared statement, or it was refused again
 * after its one retry, or a streamed request was refused after it had streamed results. The refused
 * statement did not run; its connection is destroyed (never returned to the pool's use). `during` says
 * which case, and the message what to do. `cause` is the driver's error.
 */
export class SessionTokenExpiredError extends SessionTokenExpiredBase<During> {
  constructor(
    /**
     * `"transaction"`: a statement or COMMIT inside a transaction; `"prepared-statement"`: an execute of
     * a prepared statement; `"retry"`: refused again on a freshly logged-in connection; `"stream"`: a
     * streamed request refused after it had streamed results, so not retried.
     */
    during: During,
    options: { cause: unknown },
  ) {
    super(during, SESSION_TOKEN_EXPIRED_MESSAGES[during], options);
  }
}

const REFUSED =
  "@entra-sql/mssql: the server refused %s because the login token of its session expired (error 37396, " +
  "e.g. after the server revalidated open sessions).";
const refused = (what: string, rest: string) => `${REFUSED.replace("%s", what)} ${rest}`;

const SESSION_TOKEN_EXPIRED_MESSAGES: Record<During, string> = {
  transaction: refused(
    "a statement inside a transaction",
    "The statement was not executed and the transaction was NOT committed: roll it back (it resolves; the " +
      "connection is destroyed, not reused) and run the whole transaction again; new connections log in " +
      "with a fresh token.",
  ),
  "prepared-statement": refused(
    "to execute a prepared statement",
    "The statement was not executed, and its prepared handle died with that session: call unprepare() (it " +
      "resolves; the connection is destroyed, not reused), then prepare() the statement again (this " +
      "PreparedStatement or a new one) and execute it; new connections log in with a fresh token. If it " +
      "was prepared inside a transaction, unprepare it, roll the transaction back and run it again.",
  ),
  retry: refused(
    "a statement",
    "It refused it again after one retry on a freshly logged-in connection. The statement was not " +
      "executed. Check the token source (clock skew, token lifetime) and the identity's access.",
  ),
  stream: refused(
    "a statement of a streamed request",
    "The request had already streamed results (from its earlier statements, which ran), so it was not " +
      "retried: a retry would stream them again. The refused statement was not executed. Run the request " +
      "again, minding what its earlier statements changed; new connections log in with a fresh token.",
  ),
};

/** Compares `name` (core's check), so it works across duplicate installs and adapters. */
export const isSessionTokenExpiredError = (error: unknown): error is SessionTokenExpiredError =>
  isSessionTokenExpired(error);
