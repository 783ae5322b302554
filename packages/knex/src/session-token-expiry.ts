import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import type { ConnectionRegistry } from "./connection-registry.js";
import { SessionTokenExpiredError } from "./errors.js";
import type { TediousConnection } from "./knex-internals.js";

// Error 37396 at statement time (DESIGN.md "Why the token bounds the connection"): the server
// revalidated the token of an open session, found it expired (or the principal revoked), and refused
// the statement without running it. The session cannot take a new token, so:
// - each connection's `errorMessage` is watched (this file); a refused statement retires the connection
//   (closed as it comes back, never handed out again), and every connection that logged in no later
//   than it;
// - outside a transaction the client's `_query` runs the statement once more on a connection that
//   logged in after the refusal (statement-retry.ts), and so does `_stream` while no row was
//   emitted (stream-retry.ts);
// - a refused BEGIN of `db.transaction(...)` runs the whole transaction once more on a fresh connection
//   (begin-retry.ts): nothing of it ran, its handler had not been called;
// - inside a transaction the caller gets a SessionTokenExpiredError. Knex's mssql Transaction calls
//   tedious' beginTransaction / commitTransaction / rollbackTransaction directly
//   (lib/dialects/mssql/transaction.js), so those three are wrapped on each connection we create.

type Callback = (error?: unknown, ...rest: unknown[]) => void;

/** Watches the connection's server errors and names 37396 refusals of BEGIN and COMMIT. */
export function watchSession(connection: TediousConnection, registry: ConnectionRegistry): void {
  connection.on("errorMessage", (message: unknown) => {
    if (isAccessTokenExpiredOnSession(message)) registry.sessionExpired(connection);
  });
  const { beginTransaction, commitTransaction, rollbackTransaction } = connection;
  connection.beginTransaction = (callback: Callback, ...rest: unknown[]) =>
    beginTransaction.call(
      connection,
      named(callback, "begin", (error) => registry.beginRefused(connection, error)),
      ...rest,
    );
  connection.commitTransaction = (callback: Callback, ...rest: unknown[]) =>
    commitTransaction.call(connection, named(callback, "transaction"), ...rest);
  // On a session whose token expired the server refuses the ROLLBACK too. Closing the connection (done
  // as it comes back to the pool) discards the transaction, so that refusal is no error of the rollback,
  // and Knex then rejects the transaction with the statement's SessionTokenExpiredError, not with it.
  connection.rollbackTransaction = (callback: Callback, ...rest: unknown[]) =>
    rollbackTransaction.call(
      connection,
      (error?: unknown, ...more: unknown[]) => {
        const dead = registry.isSessionExpired(connection) && isAccessTokenExpiredOnSession(error);
        callback(dead ? undefined : error, ...more);
      },
      ...rest,
    );
}

function named(
  callback: Callback,
  during: "begin" | "transaction",
  onRefused?: (error: SessionTokenExpiredError) => void,
): Callback {
  return (error, ...rest) => {
    if (error !== undefined && error !== null && isAccessTokenExpiredOnSession(error)) {
      const named = new SessionTokenExpiredError(during, { cause: error });
      onRefused?.(named);
      callback(named, ...rest);
      return;
    }
    callback(error, ...rest);
  };
}
