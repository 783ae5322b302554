import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import type { ConnectionRegistry } from "./connection-registry.js";
import { SessionTokenExpiredError } from "./errors.js";
import type { Emit } from "./events.js";
import type { MssqlClientInternals, TediousConnection } from "./knex-internals.js";

// Error 37396 at statement time (DESIGN.md "Why the token bounds the connection"): the server
// revalidated the token of an open session, found it expired (or the principal revoked), and refused
// the statement without running it. The session cannot take a new token, so:
// - each connection's `errorMessage` is watched; a refused statement retires the connection (closed as
//   it comes back, never handed out again), and every connection that logged in no later than it;
// - outside a transaction the client's `_query` runs the statement once more on a connection that
//   logged in after the refusal (retryOnFreshConnection);
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
    beginTransaction.call(connection, named(callback, "begin"), ...rest);
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

function named(callback: Callback, during: "begin" | "transaction"): Callback {
  return (error, ...rest) => {
    if (error !== undefined && error !== null && isAccessTokenExpiredOnSession(error)) {
      callback(new SessionTokenExpiredError(during, { cause: error }), ...rest);
      return;
    }
    callback(error, ...rest);
  };
}

/**
 * Runs a statement refused with 37396 once more, on a connection that logged in after the refusal
 * (older idle ones the pool hands out first are retired on the way). The refused connection is given
 * back first, so a pool of one does not wait on itself; the runner's own release of it later is a no-op
 * (tarn ignores the release of a connection it no longer lends).
 */
export async function retryOnFreshConnection(
  client: MssqlClientInternals,
  refused: TediousConnection,
  run: (connection: TediousConnection) => Promise<unknown>,
  registry: ConnectionRegistry,
  emit: Emit,
): Promise<unknown> {
  const since = Date.now();
  registry.sessionExpired(refused);
  await client.releaseConnection(refused);
  emit(() => ({ type: "statement-retried", reason: "session-token-expired" }));
  const fresh = await acquireBornAfter(client, since, registry);
  try {
    return await run(fresh);
  } catch (error) {
    if (isAccessTokenExpiredOnSession(error)) {
      throw new SessionTokenExpiredError("retry", { cause: error });
    }
    throw error;
  } finally {
    await client.releaseConnection(fresh);
  }
}

async function acquireBornAfter(
  client: MssqlClientInternals,
  since: number,
  registry: ConnectionRegistry,
): Promise<TediousConnection> {
  const bound = (typeof client.pool?.max === "number" ? client.pool.max : 10) + 1;
  for (let attempt = 0; ; attempt++) {
    const connection = await client.acquireConnection();
    const stamp = registry.stampOf(connection);
    if (stamp === undefined || stamp.bornAt > since || attempt >= bound) return connection;
    registry.retire(connection, "session-token-expired", "acquire");
    await client.releaseConnection(connection);
  }
}
