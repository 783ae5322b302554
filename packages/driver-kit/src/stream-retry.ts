import type { ConnectionLifecycle, RetryPool } from "./connection-lifecycle.js";
import { isSessionTokenExpiredError } from "./session-token-expired-error.js";
import { isAccessTokenExpiredOnSession } from "./sql-errors.js";

// A streamed query refused with 37396. The server refuses before running anything, so while no row
// reached the caller the query can run once more on a fresh connection; after rows, or inside a
// transaction, the caller's stream gets a SessionTokenExpiredError instead.

/** What a driver writes a streamed query's rows, end and errors to (a Node stream's methods). */
export interface StreamSink {
  write(row: unknown): boolean;
  end(): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  destroyed?: boolean;
}

export interface StreamRetrySettings<C> {
  connection: C;
  /** The caller's stream. */
  stream: StreamSink;
  /** One run of the query on `connection`, writing to `sink`; settles when the driver is done. */
  run: (connection: C, sink: StreamSink) => Promise<unknown>;
  /** The connection holds a transaction: a refusal is named, never run again. */
  inTransaction: () => boolean;
  pool: RetryPool<C>;
}

/**
 * Runs a streamed query, handing `run` a sink instead of the caller's stream: rows and the end go
 * through; a 37396 refusal is held back (with the end a driver sends after it). When the run settles
 * with a refusal held: inside a transaction the caller's stream gets a SessionTokenExpiredError
 * ("transaction"); after rows, "stream" (a second run would repeat them); otherwise the query runs once
 * more on a connection that logged in after the refusal, and the caller's stream sees only that run. A
 * second refusal, or no connection for it, is an 'error' on the caller's stream ("retry" for the
 * refusal). The returned promise rejects when the caller's stream got an 'error'.
 */
export async function streamWithOneRetry<C extends object>(
  lifecycle: ConnectionLifecycle<C>,
  settings: StreamRetrySettings<C>,
): Promise<void> {
  const { connection, stream, run } = settings;
  const first = new HoldingSink(stream);
  const outcome = await settle(run(connection, first));
  if (first.refusal === undefined) {
    if (outcome.failed) throw outcome.value;
    return;
  }
  lifecycle.onServerMessage(connection, first.refusal);
  const during = settings.inTransaction() ? "transaction" : first.rows > 0 ? "stream" : undefined;
  if (during !== undefined) {
    const named = lifecycle.sessionTokenExpired(during, first.refusal);
    stream.emit("error", named);
    throw named;
  }
  // The caller destroyed its stream meanwhile: nobody reads a second run.
  if (stream.destroyed === true) return;
  let retry: HoldingSink | undefined;
  try {
    await lifecycle.retryOnFreshConnection(connection, settings.pool, async (fresh) => {
      retry = new HoldingSink(stream);
      const second = await settle(run(fresh, retry));
      if (retry.refusal !== undefined) throw retry.refusal;
      if (second.failed) throw second.value;
    });
  } catch (error) {
    // The driver already gave the caller's stream any error other than a refusal.
    if (retry?.passedError !== true || isSessionTokenExpiredError(error)) stream.emit("error", error);
    throw error;
  }
}

/** What one run writes to: the caller's stream, with a 37396 refusal held back. */
class HoldingSink implements StreamSink {
  rows = 0;
  refusal: unknown;
  /** The driver emitted an error other than a refusal on the caller's stream. */
  passedError = false;

  constructor(private readonly stream: StreamSink) {}

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

async function settle(promise: Promise<unknown>): Promise<{ failed: boolean; value: unknown }> {
  try {
    return { failed: false, value: await promise };
  } catch (value) {
    return { failed: true, value };
  }
}
