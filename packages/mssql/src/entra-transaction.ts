import type { MssqlRequestConstructor } from "./entra-request.js";
import type { Emit } from "./events.js";
import { type Callback, hooksOf, isRefusal, named } from "./session-token-expiry.js";

// The Transaction subclass (error 37396, session-token-expiry.ts). A transaction holds one connection:
// a statement refused inside it cannot run alone elsewhere, so its requests (entra-request.ts) name the
// error. Here: BEGIN, COMMIT and ROLLBACK.

interface MssqlTransactionInternals {
  parent: unknown;
  _acquiredConnection: unknown;
  _begin(isolationLevel: unknown, callback: Callback): void;
  _commit(callback: Callback): void;
  _rollback(callback: Callback): void;
}
export type MssqlTransactionConstructor = new (...args: unknown[]) => MssqlTransactionInternals;

export function createTransactionClass(
  Base: MssqlTransactionConstructor,
  Request: MssqlRequestConstructor,
  emit: Emit,
): MssqlTransactionConstructor {
  class EntraTransaction extends Base {
    /** COMMIT was refused with 37396; mssql has released the connection, so there is nothing to roll back. */
    #refusedCommit = false;

    request(config?: { requestTimeout?: number }): unknown {
      const overrides = { ...(this as unknown as { overrides?: object }).overrides };
      if (typeof config?.requestTimeout === "number" && Number.isFinite(config.requestTimeout)) {
        Object.assign(overrides, { requestTimeout: config.requestTimeout });
      }
      return new Request(this, overrides);
    }

    /** A BEGIN refused with 37396 ran nothing: it is retried once on a freshly logged-in connection. */
    override _begin(isolationLevel: unknown, callback: Callback): void {
      this.#refusedCommit = false;
      super._begin(isolationLevel, (error, ...rest) => {
        const pool = hooksOf(this.parent);
        if (!isRefusal(error) || pool === undefined) {
          callback(error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        emit(() => ({ type: "statement-retried", reason: "session-token-expired", method: "begin" }));
        super._begin(isolationLevel, (secondError, ...secondRest) =>
          callback(named(secondError, "retry"), ...secondRest),
        );
      });
    }

    /**
     * A refused COMMIT committed nothing. mssql releases the connection after any COMMIT (the pool closes
     * this one, marked retired by the refusal), and the server discards the transaction with the session.
     */
    override _commit(callback: Callback): void {
      super._commit((error, ...rest) => {
        if (isRefusal(error)) this.#refusedCommit = true;
        callback(named(error, "transaction"), ...rest);
      });
    }

    /**
     * On a connection whose session token expired, the server refuses the ROLLBACK too; closing the
     * connection (which the pool does as it comes back) discards the transaction, so that refusal is
     * not an error of the rollback. After a refused COMMIT the connection is already gone: the rollback
     * the error message asks for has nothing left to do and resolves (mssql would say "not begun").
     */
    override _rollback(callback: Callback): void {
      const connection = this._acquiredConnection;
      if (this.#refusedCommit && (connection === null || connection === undefined)) {
        this.#refusedCommit = false;
        setImmediate(callback, null);
        return;
      }
      super._rollback((error, ...rest) => {
        const expired =
          connection !== null &&
          connection !== undefined &&
          hooksOf(this.parent)?.isSessionExpired(connection) === true;
        callback(expired && isRefusal(error) ? null : error, ...rest);
      });
    }
  }
  Object.defineProperty(EntraTransaction, "name", { value: "Transaction" });
  return EntraTransaction;
}
