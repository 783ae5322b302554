import {
  type ConnectionLifecycle,
  isAccessTokenExpiredOnSession,
  isSessionTokenExpiredError,
  type SessionTokenExpiredError,
} from "@entra-sql/driver-kit";
import type { MssqlClientInternals, StreamTarget, TediousConnection } from "./knex-internals.js";
import { retryOnFreshConnection } from "./statement-retry.js";

// A streamed query refused with 37396: retried once while no row was emitted.

/**
 * Knex's mssql `_stream(connection, query, stream)` (lib/dialects/mssql/index.js, 3.1 to 3.3) builds a tedious Request whose rows it `stream.write()`s, whose errors it
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
  lifecycle: ConnectionLifecycle<TediousConnection>,
): Promise<void> {
  const first = new HoldingTarget(stream);
  const failure = await settle(run(connection, first));
  if (first.refusal === undefined) {
    if (failure.error) throw failure.value;
    return;
  }
  lifecycle.onServerMessage(connection, first.refusal);
  let final: SessionTokenExpiredError | undefined;
  if (client.transacting === true || connection.inTransaction === true) {
    final = lifecycle.sessionTokenExpired("transaction", first.refusal);
  } else if (first.rows > 0) {
    final = lifecycle.sessionTokenExpired("stream", first.refusal);
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
      lifecycle,
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
