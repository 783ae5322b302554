import type { SessionTokenExpiredDuring } from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback } from "./mssql-driver.js";
import { holderOf, isRefusal, named } from "./refusals.js";

// The Request subclass: a statement refused with 37396 runs once more on a freshly logged-in connection
// when its parent is the pool; held by a transaction or prepared statement, it becomes a
// SessionTokenExpiredError. mssql's public methods call `_query`, `_batch`, `_execute`, `_bulk` with a
// completion callback, which the retry wraps.
// Streamed requests (`stream: true`, `toReadableStream()`, `pipe()`; mssql 11 and 12
// lib/tedious/request.js) emit each server error as an 'error' event at once, and the completion callback
// then gets no error. So `emit` holds back a 37396 'error' of a first attempt that streamed nothing yet
// (the server refuses before running anything), and the callback retries instead of finishing: the caller
// sees the retry's events and one 'done'. After results were streamed, a retry would deliver them twice:
// the 'error' becomes a SessionTokenExpiredError ("stream").

type Method = "query" | "batch" | "execute" | "bulk";

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
  /** What a refusal not retried becomes; `undefined` on another module's pool (errors left alone). */
  readonly namedAs: SessionTokenExpiredDuring | undefined;
  /** A streamed 37396 'error' held back: the completion callback retries instead of finishing. */
  heldBack?: unknown;
  /** The attempt streamed a recordset, row or row count. */
  delivered?: boolean;
}

const STREAMED_RESULTS = new Set<string | symbol>(["recordset", "row", "rowsaffected"]);

export function createRequestClass(Base: new (...args: never[]) => object): MssqlRequestConstructor {
  class EntraRequest extends (Base as unknown as MssqlRequestConstructor) {
    #attempt: Attempt | undefined;
    /** Set while a statement method runs synchronously: mssql's `_batch` calls `_query`, wrapped once. */
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

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const attempt = this.#attempt;
      if (attempt?.namedAs === undefined || !this.stream) return super.emit(event, ...args);
      if (STREAMED_RESULTS.has(event)) attempt.delivered = true;
      if (event !== "error" || !isRefusal(args[0])) return super.emit(event, ...args);
      if (!attempt.retryable || attempt.delivered)
        return super.emit("error", named(args[0], attempt.namedAs));
      attempt.heldBack ??= args[0];
      return true;
    }

    #run(method: Method, callback: Callback, call: (callback: Callback) => void): void {
      if (this.#entered) {
        call(callback);
        return;
      }
      const pool = poolLinkOf(this.parent);
      const first: Attempt = {
        retryable: pool !== undefined,
        namedAs: pool ? "stream" : holderOf(this.parent),
      };
      this.#start(first, call, (error, ...rest) => {
        if (pool === undefined || (first.heldBack === undefined && !isRefusal(error))) {
          this.#attempt = undefined;
          callback(pool || first.namedAs === undefined ? error : named(error, first.namedAs), ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        pool.lifecycle.statementRetried({ method });
        this.#start({ retryable: false, namedAs: "retry" }, call, (secondError, ...secondRest) => {
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
