import {
  isUnnamedRefusal,
  type NodeCallback,
  nameRefusal,
  type SessionTokenExpiredDuring,
} from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import { PACKAGE_NAME } from "./options.js";
import { holderOf, type Method, runStatement } from "./refusals.js";

// The Request subclass: mssql's `_query` (a batch too, `_isBatch` set), `_execute` and `_bulk` run with
// driver-kit's one retry after 37396 (refusals.ts). Streamed requests (mssql 11 and 12) emit each server
// error as an 'error' event at once, and the callback then gets no error: so `emit` holds back a 37396
// 'error' of a first attempt that streamed nothing yet, and the callback retries instead. After results,
// a retry would deliver them twice: the 'error' is named ("stream").

interface MssqlRequestInternals {
  parent: unknown;
  stream: unknown;
  _isBatch?: boolean;
  _query(command: unknown, callback: NodeCallback): void;
  _batch(batch: unknown, callback: NodeCallback): void;
  _execute(procedure: unknown, callback: NodeCallback): void;
  _bulk(table: unknown, options: unknown, callback: NodeCallback): void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}
export type MssqlRequestConstructor = new (...args: unknown[]) => MssqlRequestInternals;

/** One run of a statement on one connection. */
interface Attempt {
  /** A refusal's name; "stream" (first run on the pool): retried if before any result; `undefined`: as is. */
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

    override _query(command: unknown, callback: NodeCallback): void {
      this.#run(this._isBatch === true ? "batch" : "query", callback, (cb) => super._query(command, cb));
    }

    override _execute(procedure: unknown, callback: NodeCallback): void {
      this.#run("execute", callback, (cb) => super._execute(procedure, cb));
    }

    override _bulk(table: unknown, options: unknown, callback: NodeCallback): void {
      this.#run("bulk", callback, (cb) => super._bulk(table, options, cb));
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const attempt = this.#attempt;
      if (attempt?.namedAs === undefined || !this.stream) return super.emit(event, ...args);
      if (STREAMED_RESULTS.has(event)) attempt.delivered = true;
      if (event !== "error" || !isUnnamedRefusal(args[0])) return super.emit(event, ...args);
      if (attempt.namedAs !== "stream" || attempt.delivered)
        return super.emit("error", nameRefusal(args[0], attempt.namedAs, PACKAGE_NAME));
      attempt.heldBack ??= args[0];
      return true;
    }

    #run(method: Method, callback: NodeCallback, call: (callback: NodeCallback) => void): void {
      const first: Attempt = { namedAs: poolLinkOf(this.parent) ? "stream" : holderOf(this.parent) };
      const second: Attempt = { namedAs: "retry" };
      runStatement(
        this,
        method,
        (cb, attempt) => {
          this.#attempt = attempt === 1 ? first : second;
          call(cb);
        },
        (error, ...rest) => {
          this.#attempt = undefined;
          callback(error, ...rest);
        },
        (error) => first.heldBack !== undefined || isUnnamedRefusal(error),
      );
    }
  }
  Object.defineProperty(EntraRequest, "name", { value: "Request" });
  return EntraRequest;
}
