import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import type { ConnectionRegistry } from "./connection-registry.js";
import { isSessionTokenExpiredError, SessionTokenExpiredError } from "./errors.js";
import type { Emit } from "./events.js";
import type {
  KnexTransaction,
  MssqlClientInternals,
  StreamTarget,
  TediousConnection,
} from "./knex-internals.js";

// Error 37396 at statement time (DESIGN.md "Why the token bounds the connection"): the server
// revalidated the token of an open session, found it expired (or the principal revoked), and refused
// the statement without running it. The session cannot take a new token, so:
// - each connection's `errorMessage` is watched; a refused statement retires the connection (closed as
//   it comes back, never handed out again), and every connection that logged in no later than it;
// - outside a transaction the client's `_query` runs the statement once more on a connection that
//   logged in after the refusal (retryOnFreshConnection), and so does `_stream` while no row was
//   emitted (streamRetryingOnce);
// - a refused BEGIN of `db.transaction(...)` runs the whole transaction once more on a fresh connection
//   (retryRefusedBegin): nothing of it ran, its handler had not been called;
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

/**
 * Knex's mssql `_stream(connection, query, stream)` (lib/dialects/mssql/index.js, Knex 3.1.0 lines
 * 285-319, 3.3.0 lines 286-318) builds a tedious Request whose rows it `stream.write()`s, whose errors it
 * `stream.emit('error', err)`s (from the request callback and from the request's 'error' event) and whose
 * 'requestCompleted' it turns into `stream.end()`; it then enqueues the request on `connection`. Knex's
 * Runner (lib/execution/runner.js `stream`) calls it through `client.stream` with the connection it
 * acquired and releases that connection when the stream closes and when `_stream` settles.
 *
 * So `_stream` is handed, instead of the caller's stream, a target with those three methods only: rows
 * and the end go through to the caller's stream; a 37396 refusal is held back (with the `end()` Knex
 * sends after it). When `_stream` settles with a refusal held:
 * - inside a transaction: the caller's stream gets a SessionTokenExpiredError (`"transaction"`);
 * - after rows were emitted: a SessionTokenExpiredError (`"stream"`): running it again would repeat them;
 * - otherwise the query runs once more, through Knex's `_stream` again, on a connection that logged in
 *   after the refusal; the caller's stream sees only that run's rows, errors and end. A second refusal, or
 *   a failure to get that connection, is an 'error' on the caller's stream (`"retry"` for the refusal).
 * The returned promise rejects when the caller's stream got an 'error' (Knex's Runner ignores it then).
 */
export async function streamRetryingOnce(
  client: MssqlClientInternals,
  connection: TediousConnection,
  stream: StreamTarget,
  run: (connection: TediousConnection, target: StreamTarget) => Promise<unknown>,
  registry: ConnectionRegistry,
  emit: Emit,
): Promise<void> {
  const first = new HoldingTarget(stream);
  const failure = await settle(run(connection, first));
  if (first.refusal === undefined) {
    if (failure.error) throw failure.value;
    return;
  }
  registry.sessionExpired(connection);
  let final: SessionTokenExpiredError | undefined;
  if (client.transacting === true || connection.inTransaction === true) {
    final = new SessionTokenExpiredError("transaction", { cause: first.refusal });
  } else if (first.rows > 0) {
    final = new SessionTokenExpiredError("stream", { cause: first.refusal });
  }
  if (final !== undefined) {
    stream.emit("error", final);
    throw final;
  }
  // The caller destroyed its stream meanwhile: nobody reads a second run.
  if (stream.destroyed === true) return;
  let retry: HoldingTarget | undefined;
  try {
    await retryOnFreshConnection(
      client,
      connection,
      async (fresh) => {
        retry = new HoldingTarget(stream);
        const outcome = await settle(run(fresh, retry));
        if (retry.refusal !== undefined) throw retry.refusal;
        if (outcome.error) throw outcome.value;
      },
      registry,
      emit,
    );
  } catch (error) {
    // Knex already gave the caller's stream any error other than a refusal.
    if (retry?.passedError !== true || isSessionTokenExpiredError(error)) stream.emit("error", error);
    throw error;
  }
}

/** What one run of Knex's `_stream` writes to: the caller's stream, with a 37396 refusal held back. */
class HoldingTarget implements StreamTarget {
  rows = 0;
  refusal: unknown;
  /** Knex emitted an error other than a refusal on the caller's stream. */
  passedError = false;

  constructor(private readonly stream: StreamTarget) {}

  write(row: unknown): boolean {
    if (this.refusal !== undefined) return true;
    this.rows++;
    return this.stream.write(row);
  }

  end(): unknown {
    if (this.refusal === undefined) this.stream.end();
    return this;
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "error" && isAccessTokenExpiredOnSession(args[0])) {
      this.refusal ??= args[0];
      return true;
    }
    if (event === "error") this.passedError = true;
    return this.stream.emit(event, ...args);
  }
}

async function settle(promise: Promise<unknown>): Promise<{ error: boolean; value: unknown }> {
  try {
    return { error: false, value: await promise };
  } catch (value) {
    return { error: true, value };
  }
}

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
