import type { ConnectionRegistry } from "./connection-registry.js";
import { SessionTokenExpiredError } from "./errors.js";
import type { Emit } from "./events.js";
import type { KnexTransaction, MssqlClientInternals, TediousConnection } from "./knex-internals.js";
import { acquireBornAfter } from "./statement-retry.js";

// A BEGIN TRANSACTION refused with 37396 (session-token-expiry.ts): the transaction runs once more.

/**
 * A refused BEGIN TRANSACTION runs the transaction once more, on a fresh connection, the way Knex runs a
 * transaction given its connection. Knex's Transaction (lib/execution/transaction.js, 3.1.0 to 3.3.0)
 * starts in its constructor with `_previousSibling.then(() => this._evaluateContainer(config,
 * container))` (line 79; `Promise.resolve()` for a top-level one, so a later microtask), and
 * `_evaluateContainer` (3.1.0 line 202, 3.3.0 line 254) calls `this.acquireConnection(config, cb)` (3.1.0
 * line 259, 3.3.0 line 263):
 * acquire a connection (or take `config.connection`), run `cb(connection)` (make the transaction client,
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
  client: MssqlClientInternals,
  trx: KnexTransaction,
  again: (connection: TediousConnection) => PromiseLike<unknown>,
  registry: ConnectionRegistry,
  emit: Emit,
): void {
  const acquire = trx.acquireConnection;
  if (typeof acquire !== "function") return;
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
        used !== undefined && config?.connection === undefined && registry.beginRefusalOf(used) === error;
      if (!refusedBegin || used === undefined) throw error;
      const since = Date.now();
      emit(() => ({ type: "statement-retried", reason: "session-token-expired" }));
      const fresh = await acquireBornAfter(client, since, registry);
      try {
        return await again(fresh);
      } catch (retryError) {
        if (registry.beginRefusalOf(fresh) === retryError) {
          throw new SessionTokenExpiredError("retry", { cause: (retryError as Error).cause });
        }
        throw retryError;
      } finally {
        delete fresh.__knexTxId;
        await client.releaseConnection(fresh);
      }
    }
  };
}
