import type { ConnectionLifecycle, RetryPool } from "./connection-lifecycle.js";
import { isAccessTokenExpiredOnSession } from "./sql-errors.js";

// A statement refused with 37396 did not run, and its session cannot take a new token. Inside a
// transaction it cannot run alone elsewhere: the caller gets a SessionTokenExpiredError. Outside one it
// runs once more on a connection that logged in after the refusal. For promise-shaped drivers (Knex's
// `_query`); `streamWithOneRetry` is the same for streamed queries, `runWithOneRetry` for callbacks.

export interface QueryRetrySettings<C, T> {
  connection: C;
  /** One run of the statement on `connection`. */
  run: (connection: C) => Promise<T>;
  /** The connection holds a transaction: a refusal is named, never run again. */
  inTransaction: () => boolean;
  pool: RetryPool<C>;
}

/**
 * Runs the statement; a 37396 refusal retires the connection and is named ("transaction") inside a
 * transaction, else runs once more (`ConnectionLifecycle.retryOnFreshConnection`).
 * @example return queryWithOneRetry(lifecycle, { connection, run: (c) => super._query(c, q), inTransaction, pool });
 */
export async function queryWithOneRetry<C extends object, T>(
  lifecycle: ConnectionLifecycle<C>,
  settings: QueryRetrySettings<C, T>,
): Promise<T> {
  const { connection, run } = settings;
  try {
    return await run(connection);
  } catch (error) {
    if (!isAccessTokenExpiredOnSession(error)) throw error;
    lifecycle.onServerMessage(connection, error);
    if (settings.inTransaction()) throw lifecycle.sessionTokenExpired("transaction", error);
    return lifecycle.retryOnFreshConnection(connection, settings.pool, run);
  }
}
