import {
  isSessionTokenExpiredError as isSessionTokenExpired,
  SessionTokenExpiredError as SessionTokenExpiredBase,
} from "@entra-sql/core";

// Named errors with `cause`. The connect-time errors (TokenLoginRejectedError, ConnectionFailedError)
// and the base of SessionTokenExpiredError are core's, shared with @entra-sql/mssql.

/**
 * A statement was refused with error 37396 ("access token is expired") on a connection held by a
 * transaction, by a stream that had already emitted rows, or again after its one retry. The server did
 * not run it; inside a transaction, nothing of the transaction was committed. The connection is
 * destroyed, never handed out again: let the transaction roll back (Knex does when the handler throws)
 * and run it again from the application. `cause` is tedious' error.
 */
export class SessionTokenExpiredError extends SessionTokenExpiredBase<
  "transaction" | "begin" | "retry" | "stream"
> {
  constructor(
    /**
     * `"transaction"`: a statement, streamed query or COMMIT inside a transaction; `"begin"`: the BEGIN
     * TRANSACTION of a transaction given its connection (`{ connection }`), so not run again (nothing
     * ran); `"retry"`: a statement, streamed query or BEGIN outside a transaction, refused again on a
     * freshly logged-in connection; `"stream"`: a `.stream()` / `.pipe()` query refused after it had
     * already emitted rows, so not run again (its rows would repeat).
     */
    during: "transaction" | "begin" | "retry" | "stream",
    options: { cause: unknown },
  ) {
    super(during, messages[during], options);
  }
}

const messages = {
  transaction:
    "@entra-sql/knex: the server refused a statement inside a transaction because the login token of its " +
    "session expired (error 37396, e.g. after the server revalidated open sessions). The statement was not " +
    "executed and the transaction was NOT committed; its connection is destroyed, not reused. Run the whole " +
    "transaction again: new connections log in with a fresh token.",
  begin:
    "@entra-sql/knex: the server refused BEGIN TRANSACTION because the login token of the session expired " +
    "(error 37396). Nothing of the transaction ran; its connection is destroyed, not reused. Run the " +
    "transaction again: new connections log in with a fresh token.",
  retry:
    "@entra-sql/knex: the server refused a statement because the login token of its session expired " +
    "(error 37396), and refused it again after one retry on a freshly logged-in connection. The statement " +
    "was not executed. Check the token source (clock skew, token lifetime) and the identity's access.",
  stream:
    "@entra-sql/knex: the server refused a streamed query because the login token of its session expired " +
    "(error 37396) after the stream had already emitted rows, so it was not run again (those rows would " +
    "repeat). The refused statement was not executed; its connection is destroyed, not reused. Discard the " +
    "rows received and run the query again: new connections log in with a fresh token.",
} as const;

/** Compares `name` (core's check), so it works across duplicate installs and adapters. */
export const isSessionTokenExpiredError = (error: unknown): error is SessionTokenExpiredError =>
  isSessionTokenExpired(error);
