import { isAccessTokenExpiredOnSession } from "@entra-sql/core";
import { SessionTokenExpiredError } from "./errors.js";
import type { emitter } from "./events.js";

// Error 37396 at statement time (DESIGN.md "Why the token bounds the connection"): the server
// revalidated the token of an open session, found it expired (or the principal revoked), and refused
// the statement without running it. The session cannot take a new token, so:
// - the pool (entra-connection-pool.ts) listens to each connection's `errorMessage` and marks the
//   connection retired: it is closed when it comes back and never handed out again;
// - the Request subclass below retries a refused statement ONCE when its parent is the pool (no
//   transaction), on a connection that logged in after the refusal (the pool's `acquire` enforces it);
// - inside a transaction the caller gets a SessionTokenExpiredError; the Transaction subclass lets
//   `rollback()` release the dead connection without failing, retries a refused BEGIN once, and turns a
//   refused COMMIT into the same named error.
// mssql creates its requests with the driver's global Request class (`shared.driver.Request`), so the
// pool's `request()`, `query()`, `batch()` and `transaction()` are overridden to use these classes.

/** What the pool offers the request and transaction classes (keyed by a symbol: not public API). */
export const SESSION_EXPIRY = Symbol("@entra-sql/mssql session expiry");

export interface SessionExpiryHooks {
  /** The next acquire by `requester` must get a connection that logged in after `since` (epoch ms). */
  requireFreshConnection(requester: object, since: number): void;
  /** True when a statement on this connection was refused with 37396. */
  isSessionExpired(connection: unknown): boolean;
}

type Callback = (error?: unknown, ...rest: unknown[]) => void;
type Emit = ReturnType<typeof emitter>;

/** mssql's Request, with the underscore methods its public ones call. */
interface MssqlRequestInternals {
  parent: unknown;
  stream: unknown;
  _query(command: unknown, callback: Callback): void;
  _batch(batch: unknown, callback: Callback): void;
  _execute(procedure: unknown, callback: Callback): void;
}
export type MssqlRequestConstructor = new (...args: unknown[]) => MssqlRequestInternals;

interface MssqlTransactionInternals {
  parent: unknown;
  _acquiredConnection: unknown;
  _begin(isolationLevel: unknown, callback: Callback): void;
  _commit(callback: Callback): void;
  _rollback(callback: Callback): void;
}
export type MssqlTransactionConstructor = new (...args: unknown[]) => MssqlTransactionInternals;

export function hooksOf(parent: unknown): SessionExpiryHooks | undefined {
  if (typeof parent !== "object" || parent === null) return undefined;
  const hooks = (parent as { [SESSION_EXPIRY]?: SessionExpiryHooks })[SESSION_EXPIRY];
  return typeof hooks === "object" ? hooks : undefined;
}

export function createRequestClass(Base: MssqlRequestConstructor, emit: Emit): MssqlRequestConstructor {
  class EntraRequest extends Base {
    override _query(command: unknown, callback: Callback): void {
      super._query(
        command,
        this.#onceMore("query", callback, (cb) => super._query(command, cb)),
      );
    }

    override _batch(batch: unknown, callback: Callback): void {
      super._batch(
        batch,
        this.#onceMore("batch", callback, (cb) => super._batch(batch, cb)),
      );
    }

    override _execute(procedure: unknown, callback: Callback): void {
      super._execute(
        procedure,
        this.#onceMore("execute", callback, (cb) => super._execute(procedure, cb)),
      );
    }

    /** Wraps the driver's callback: a 37396 refusal is retried once on the pool, named in a transaction. */
    #onceMore(
      method: "query" | "batch" | "execute",
      callback: Callback,
      again: (callback: Callback) => void,
    ): Callback {
      return (error, ...rest) => {
        if (error === undefined || error === null || !isAccessTokenExpiredOnSession(error)) {
          callback(error, ...rest);
          return;
        }
        const pool = hooksOf(this.parent);
        if (pool === undefined) {
          // A transaction or prepared statement holds the connection: nothing may be retried alone.
          callback(new SessionTokenExpiredError("transaction", { cause: error }), ...rest);
          return;
        }
        if (this.stream === true) {
          // Streamed requests already reported the error through their events.
          callback(error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        emit(() => ({ type: "statement-retried", reason: "session-token-expired", method }));
        again((secondError, ...secondRest) => {
          if (
            secondError !== undefined &&
            secondError !== null &&
            isAccessTokenExpiredOnSession(secondError)
          ) {
            callback(new SessionTokenExpiredError("retry", { cause: secondError }), ...secondRest);
            return;
          }
          callback(secondError, ...secondRest);
        });
      };
    }
  }
  Object.defineProperty(EntraRequest, "name", { value: "Request" });
  return EntraRequest;
}

export function createTransactionClass(
  Base: MssqlTransactionConstructor,
  Request: MssqlRequestConstructor,
  emit: Emit,
): MssqlTransactionConstructor {
  class EntraTransaction extends Base {
    request(config?: { requestTimeout?: number }): unknown {
      const overrides = { ...(this as unknown as { overrides?: object }).overrides };
      if (typeof config?.requestTimeout === "number" && Number.isFinite(config.requestTimeout)) {
        Object.assign(overrides, { requestTimeout: config.requestTimeout });
      }
      return new Request(this, overrides);
    }

    /** A BEGIN refused with 37396 ran nothing: it is retried once on a freshly logged-in connection. */
    override _begin(isolationLevel: unknown, callback: Callback): void {
      super._begin(isolationLevel, (error, ...rest) => {
        const pool = hooksOf(this.parent);
        if (error === undefined || error === null || !isAccessTokenExpiredOnSession(error) || !pool) {
          callback(error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        emit(() => ({ type: "statement-retried", reason: "session-token-expired", method: "begin" }));
        super._begin(isolationLevel, (secondError, ...secondRest) => {
          if (
            secondError !== undefined &&
            secondError !== null &&
            isAccessTokenExpiredOnSession(secondError)
          ) {
            callback(new SessionTokenExpiredError("retry", { cause: secondError }), ...secondRest);
            return;
          }
          callback(secondError, ...secondRest);
        });
      });
    }

    override _commit(callback: Callback): void {
      super._commit((error, ...rest) => {
        if (error !== undefined && error !== null && isAccessTokenExpiredOnSession(error)) {
          callback(new SessionTokenExpiredError("transaction", { cause: error }), ...rest);
          return;
        }
        callback(error, ...rest);
      });
    }

    /**
     * On a connection whose session token expired, the server refuses the ROLLBACK too; closing the
     * connection (which the pool does as it comes back) discards the transaction, so that refusal is
     * not an error of the rollback.
     */
    override _rollback(callback: Callback): void {
      const connection = this._acquiredConnection;
      super._rollback((error, ...rest) => {
        const expired =
          connection !== null &&
          connection !== undefined &&
          hooksOf(this.parent)?.isSessionExpired(connection);
        if (
          error !== undefined &&
          error !== null &&
          expired === true &&
          isAccessTokenExpiredOnSession(error)
        ) {
          callback(null, ...rest);
          return;
        }
        callback(error, ...rest);
      });
    }
  }
  Object.defineProperty(EntraTransaction, "name", { value: "Transaction" });
  return EntraTransaction;
}
