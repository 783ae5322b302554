import type { SessionTokenExpiredDuring } from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback } from "./mssql-driver.js";
import { holderOf, isRefusal, named } from "./refusals.js";

// The Request subclass: a statement refused with 37396 is run once more on a freshly logged-in
// connection when its parent is the pool; held by a transaction or prepared statement, it becomes a
// SessionTokenExpiredError.
//
// mssql's public methods (query, batch, execute, bulk) call `_query`, `_batch`, `_execute`, `_bulk`
// with a completion callback; the retry wraps that callback. Streamed requests (`stream: true`,
// `toReadableStream()`, `pipe()`) report errors differently (mssql 11 and 12 lib/tedious/request.js):
// each server error is emitted as an 'error' event on the request AT ONCE, from the connection's
// `errorMessage` listener, and the completion callback then gets no error and makes the base class
// emit 'done'. So `emit` is overridden: a 37396 'error' of a first attempt that has streamed nothing
// yet (no recordset, row or row count; the server refuses before running anything) is held back, the
// completion callback runs the statement again instead of finishing, and the caller sees the retry's
// events and a single 'done', never a spurious 'error'. A refusal after results were streamed cannot be
// retried without delivering them twice: it is emitted as a SessionTokenExpiredError ("stream").

type Method = "query" | "batch" | "execute" | "bulk";

/** mssql's Request, with the underscore methods its public ones call. */
interface MssqlRequestInternals {
  parent: unknown;
  stream: unknown;
  _query(command: unknown, callback: Callback): void;
  _batch(batch: unknown, callback: Callback): void;
  _execute(procedure: unknown, callback: Callback): void;
  _bulk(table: unknown, options: unknown, callback: Callback): void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}
export type MssqlRequestConstructor = new (...args: unknown[]) => MssqlRequestInternals;

/** One run of a statement on one connection. */
interface Attempt {
  /** A first run on the pool: a refusal (streamed: before any result) runs the statement once more. */
  readonly retryable: boolean;
  /**
   * What a refusal that is not retried becomes: `"stream"` (a first run that had streamed results),
   * `"retry"`, or the holder (`"transaction"`, `"prepared-statement"`); `undefined` for a request on a
   * pool of another module, whose errors are left alone.
   */
  readonly namedAs: SessionTokenExpiredDuring | undefined;
  /** A streamed 37396 'error' held back: the completion callback retries instead of finishing. */
  heldBack: unknown;
  /** The attempt streamed a recordset, row or row count: a retry would deliver results twice. */
  delivered: boolean;
}

const STREAMED_RESULTS = new Set<string | symbol>(["recordset", "row", "rowsaffected"]);

export function createRequestClass(Base: new (...args: never[]) => object): MssqlRequestConstructor {
  class EntraRequest extends (Base as unknown as MssqlRequestConstructor) {
    #attempt: Attempt | undefined;
    /** Set while a statement method runs synchronously: tedious' `_batch` calls `_query`, wrapped once. */
    #entered = false;

    override _query(command: unknown, callback: Callback): void {
      this.#run("query", callback, (cb) => super._query(command, cb));
    }

    override _batch(batch: unknown, callback: Callback): void {
      this.#run("batch", callback, (cb) => super._batch(batch, cb));
    }

    override _execute(procedure: unknown, callback: Callback): void {
      this.#run("execute", callback, (cb) => super._execute(procedure, cb));
    }

    override _bulk(table: unknown, options: unknown, callback: Callback): void {
      this.#run("bulk", callback, (cb) => super._bulk(table, options, cb));
    }

    /** Streamed requests only (mssql emits 'error' events in stream mode only); see the file comment. */
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const attempt = this.#attempt;
      if (attempt === undefined || !this.stream || attempt.namedAs === undefined) {
        return super.emit(event, ...args);
      }
      if (STREAMED_RESULTS.has(event)) attempt.delivered = true;
      const [error] = args;
      if (event !== "error" || !isRefusal(error)) return super.emit(event, ...args);
      if (attempt.retryable && !attempt.delivered) {
        attempt.heldBack ??= error;
        return true;
      }
      return super.emit("error", named(error, attempt.namedAs));
    }

    #run(method: Method, callback: Callback, call: (callback: Callback) => void): void {
      if (this.#entered) {
        call(callback);
        return;
      }
      const pool = poolLinkOf(this.parent);
      const first = attempt(pool !== undefined, pool !== undefined ? "stream" : holderOf(this.parent));
      this.#start(first, call, (error, ...rest) => {
        const refused = first.heldBack !== undefined || (first.retryable && isRefusal(error));
        if (pool === undefined || !refused) {
          this.#attempt = undefined;
          const held = !first.retryable && first.namedAs !== undefined;
          callback(held ? named(error, first.namedAs) : error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        pool.lifecycle.statementRetried({ method });
        this.#start(attempt(false, "retry"), call, (secondError, ...secondRest) => {
          this.#attempt = undefined;
          callback(named(secondError, "retry"), ...secondRest);
        });
      });
    }

    #start(next: Attempt, call: (callback: Callback) => void, callback: Callback): void {
      this.#attempt = next;
      this.#entered = true;
      try {
        call(callback);
      } finally {
        this.#entered = false;
      }
    }
  }
  Object.defineProperty(EntraRequest, "name", { value: "Request" });
  return EntraRequest;
}

function attempt(retryable: boolean, namedAs: SessionTokenExpiredDuring | undefined): Attempt {
  return { retryable, namedAs, heldBack: undefined, delivered: false };
}
