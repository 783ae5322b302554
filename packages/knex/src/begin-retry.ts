import type { ConnectionLifecycle, RetryPool } from "@entra-sql/driver-kit";
import type { KnexTransaction, TediousConnection } from "./knex-internals.js";
import { beginRefusalOf } from "./session-token-expiry.js";

// A BEGIN TRANSACTION refused with 37396 runs the whole Knex transaction once more, on a fresh connection.
// Knex's Transaction (lib/execution/transaction.js, 3.1 to 3.3) starts a microtask after its constructor
// with `this.acquireConnection(config, cb)`: acquire a connection (or take `config.connection`), run
// `cb(connection)` (BEGIN, the handler, COMMIT or ROLLBACK), release it; the transaction settles as that
// call does. So that method is wrapped: when it rejects with the very error our beginTransaction wrapper
// gave for its connection (the handler was never called), `again(fresh)` runs a second, complete Knex
// transaction with the same handler, and the first settles as it does. Knex's own Transaction is not
// re-entered (its `_onAcquire` state would not survive a second BEGIN). A second refusal is named "retry";
// the second Transaction's events ('query', ...) reach the Knex instance only.

export function retryRefusedBegin(
  trx: KnexTransaction,
  again: (connection: TediousConnection) => PromiseLike<unknown>,
  lifecycle: ConnectionLifecycle<TediousConnection>,
  pool: RetryPool<TediousConnection>,
): void {
  const acquire = trx.acquireConnection;
  if (typeof acquire !== "function") {
    throw new Error(
      `${lifecycle.packageName}: this Knex's Transaction has no acquireConnection(); the refused-BEGIN retry needs it (Knex 3.1 to 3.3 have it)`,
    );
  }
  trx.acquireConnection = async function (
    this: KnexTransaction,
    config: { connection?: unknown } | undefined,
    run: (connection: TediousConnection) => Promise<unknown>,
  ): Promise<unknown> {
    let used: TediousConnection | undefined;
    try {
      return await acquire.call(this, config, (connection: TediousConnection) => {
        used = connection;
        return run(connection);
      });
    } catch (error) {
      // A transaction given its connection keeps it; the refused connection is already released.
      if (used === undefined || config?.connection !== undefined || beginRefusalOf(used) !== error)
        throw error;
      const since = Date.now();
      lifecycle.statementRetried();
      const fresh = await lifecycle.acquireBornAfter(since, pool);
      try {
        return await again(fresh);
      } catch (retryError) {
        if (beginRefusalOf(fresh) === retryError) {
          throw lifecycle.sessionTokenExpired("retry", (retryError as Error).cause);
        }
        throw retryError;
      } finally {
        delete fresh.__knexTxId;
        await pool.release(fresh);
      }
    }
  };
}
