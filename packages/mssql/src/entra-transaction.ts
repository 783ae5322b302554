import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback } from "./mssql-driver.js";
import { isRefusal, named } from "./refusals.js";

// The Transaction subclass (error 37396). A transaction holds one connection: a statement refused inside
// it cannot run alone elsewhere, so its requests name the error. Here: a refused BEGIN ran nothing and is
// retried once on a fresh connection; a refused COMMIT is named. ROLLBACK on the refused session is never
// sent: driver-kit's tedious guard closes the connection instead (the server ends the transaction).

interface MssqlTransactionInternals {
  parent: unknown;
  overrides?: object;
  _begin(isolationLevel: unknown, callback: Callback): void;
  _commit(callback: Callback): void;
}
type MssqlTransactionConstructor = new (...args: unknown[]) => MssqlTransactionInternals;

export function createTransactionClass(
  Base: new (...args: never[]) => object,
  Request: new (...args: unknown[]) => object,
): MssqlTransactionConstructor {
  class EntraTransaction extends (Base as unknown as MssqlTransactionConstructor) {
    request(config?: { requestTimeout?: number }): unknown {
      const overrides = { ...this.overrides };
      if (typeof config?.requestTimeout === "number" && Number.isFinite(config.requestTimeout)) {
        Object.assign(overrides, { requestTimeout: config.requestTimeout });
      }
      return new Request(this, overrides);
    }

    override _begin(isolationLevel: unknown, callback: Callback): void {
      super._begin(isolationLevel, (error, ...rest) => {
        const pool = poolLinkOf(this.parent);
        if (!isRefusal(error) || pool === undefined) {
          callback(error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        pool.lifecycle.statementRetried({ method: "begin" });
        super._begin(isolationLevel, (secondError, ...secondRest) =>
          callback(named(secondError, "retry"), ...secondRest),
        );
      });
    }

    /** A refused COMMIT committed nothing; mssql releases the connection, and the pool closes it. */
    override _commit(callback: Callback): void {
      super._commit((error, ...rest) => callback(named(error, "transaction"), ...rest));
    }
  }
  Object.defineProperty(EntraTransaction, "name", { value: "Transaction" });
  return EntraTransaction;
}
