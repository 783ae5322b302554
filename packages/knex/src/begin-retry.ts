import type { ConnectionLifecycle, RetryPool } from "@entra-sql/driver-kit";
import type { KnexTransaction, TediousConnection } from "./knex-internals.js";
import { beginRefusalOf } from "./session-token-expiry.js";

// A BEGIN TRANSACTION refused with 37396: the transaction runs once more.

/**
 * A refused BEGIN TRANSACTION runs the transaction once more, on a fresh connection, the way Knex runs a
 * transaction given its connection. Knex's Transaction (lib/execution/transaction.js, 3.1 to 3.3)
 * starts in its constructor with `_previousSibling.then(() => this._evaluateContainer(config,
 * container))` (`Promise.resolve()` for a top-level one, so a later microtask), and `_evaluateContainer`
 * calls `this.acquireConnection(config, cb)`: acquire a connection (or take `config.connection`), run `cb(connection)` (make the transaction client,
 * BEGIN, then the handler, then COMMIT or ROLLBACK; it settles as the transaction does), release it. The
 * transaction's promise is the result of that call.
 *
 * So `acquireConnection` of the just-made top-level Transaction is wrapped (before that microtask runs).
 * When its run rejects with the very error our beginTransaction wrapper gave Knex for the connection it
 * ran on (so: the BEGIN was refused, the handler never called), and the transaction was not given a
 * connection by the caller, the refused connection has already been released (retired, closed), and
 * `client.transaction(container, { ...config, connection: fresh })` runs a second, complete Knex
 * transaction with the same handler on a connection that logged in after the refusal. The first
 * Transaction settles as that one does. The handler is never called twice: it is called only once a
 * BEGIN succeeded. Knex's own Transaction object is not re-entered (its `_onAcquire` resolver state would
 * not survive a second BEGIN). A refusal of the second BEGIN is a SessionTokenExpiredError (`"retry"`).
 * Events the second Transaction emits ('query', ...) reach the Knex instance, not the first Transaction.
 */
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
      const refusedBegin =
        used !== undefined && config?.connection === undefined && beginRefusalOf(used) === error;
      if (!refusedBegin || used === undefined) throw error;
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
