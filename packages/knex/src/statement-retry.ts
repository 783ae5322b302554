import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import type { ConnectionRegistry } from "./connection-registry.js";
import { SessionTokenExpiredError } from "./errors.js";
import type { Emit } from "./events.js";
import type { MssqlClientInternals, TediousConnection } from "./knex-internals.js";

// The one retry of a statement refused with 37396 outside a transaction (session-token-expiry.ts).

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

/** A connection that logged in after `since` (older idle ones are retired on the way). */
export async function acquireBornAfter(
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
