import { type ConnectionLifecycle, isAccessTokenExpiredOnSession } from "@entra-sql/driver-kit";
import type { MssqlClientInternals, TediousConnection } from "./knex-internals.js";

// The one retry of a statement refused with 37396 outside a transaction.

/**
 * Runs a statement refused with 37396 once more, on a connection that logged in after the refusal
 * (older idle ones the pool hands out are retired on the way). The refused connection is given back
 * first, so a pool of one does not wait on itself; the runner's own release of it later is a no-op
 * (tarn ignores the release of a connection it no longer lends).
 */
export async function retryOnFreshConnection(
  client: MssqlClientInternals,
  refused: TediousConnection,
  run: (connection: TediousConnection) => Promise<unknown>,
  lifecycle: ConnectionLifecycle<TediousConnection>,
): Promise<unknown> {
  const since = Date.now();
  await client.releaseConnection(refused);
  lifecycle.statementRetried();
  const fresh = await acquireBornAfter(client, since, lifecycle);
  try {
    return await run(fresh);
  } catch (error) {
    if (isAccessTokenExpiredOnSession(error)) throw lifecycle.sessionTokenExpired("retry", error);
    throw error;
  } finally {
    await client.releaseConnection(fresh);
  }
}

/** A connection that logged in after `since`, through the client's pool. */
export function acquireBornAfter(
  client: MssqlClientInternals,
  since: number,
  lifecycle: ConnectionLifecycle<TediousConnection>,
): Promise<TediousConnection> {
  return lifecycle.acquireBornAfter(since, {
    acquire: () => client.acquireConnection(),
    release: (connection) => client.releaseConnection(connection),
    maxTries: (typeof client.pool?.max === "number" ? client.pool.max : 10) + 1,
  });
}
