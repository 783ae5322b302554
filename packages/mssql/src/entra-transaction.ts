import { type NodeCallback, namingRefusals } from "@entra-sql/driver-kit";
import { PACKAGE_NAME } from "./options.js";
import { runStatement } from "./refusals.js";

// The Transaction subclass (error 37396). A statement refused inside a transaction cannot run alone
// elsewhere: its requests name the error. A refused BEGIN ran nothing and runs once more on a fresh
// connection; a refused COMMIT is named (mssql then releases the connection, and the pool closes it).
// ROLLBACK is never sent on a refused session: driver-kit's tedious guard closes the connection instead.

interface MssqlTransactionInternals {
  parent: unknown;
  request(config?: unknown): { overrides?: object };
  _begin(isolationLevel: unknown, callback: NodeCallback): void;
  _commit(callback: NodeCallback): void;
}
type MssqlTransactionConstructor = new (...args: unknown[]) => MssqlTransactionInternals;

export function createTransactionClass(
  Base: new (...args: never[]) => object,
  Request: new (...args: unknown[]) => object,
): MssqlTransactionConstructor {
  class EntraTransaction extends (Base as unknown as MssqlTransactionConstructor) {
    /** mssql's, with this module's Request (and the overrides mssql's own request would get). */
    override request(config?: unknown): { overrides?: object } {
      return new Request(this, super.request(config).overrides);
    }

    override _begin(isolationLevel: unknown, callback: NodeCallback): void {
      runStatement(this, "begin", (cb) => super._begin(isolationLevel, cb), callback);
    }

    override _commit(callback: NodeCallback): void {
      super._commit(namingRefusals(callback, "transaction", PACKAGE_NAME));
    }
  }
  Object.defineProperty(EntraTransaction, "name", { value: "Transaction" });
  return EntraTransaction;
}
