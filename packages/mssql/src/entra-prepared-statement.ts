import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback, TediousConnection } from "./mssql-driver.js";
import { holderOf, isRefusal, named, withOneRetry } from "./refusals.js";

// The PreparedStatement subclass (error 37396). It holds one connection from prepare() to unprepare(),
// and its handle lives only in that session: a refused prepare() held nothing yet and runs once more on
// a fresh connection (named inside a transaction); a refused execute() is named; unprepare() sends nothing
// on a refused session (mssql would keep the connection when sp_unprepare fails) and releases it, and the
// pool closes it. mssql runs sp_prepare, sp_execute and sp_unprepare with its own global Request class,
// so the errors are named around those calls.

/** mssql's PreparedStatement (lib/base/prepared-statement.js, mssql 11 and 12). */
interface MssqlPreparedStatementInternals {
  parent: unknown;
  prepared: boolean;
  _handle: number;
  _acquiredConnection: TediousConnection | null;
  _acquiredConfig: unknown;
  _prepare(statement: unknown, callback?: Callback): void;
  _execute(values: unknown, callback?: unknown): unknown;
  _unprepare(callback: Callback): void;
}
type MssqlPreparedStatementConstructor = new (...args: unknown[]) => MssqlPreparedStatementInternals;

export function createPreparedStatementClass(
  Base: new (...args: never[]) => object,
): MssqlPreparedStatementConstructor {
  class EntraPreparedStatement extends (Base as unknown as MssqlPreparedStatementConstructor) {
    override _prepare(statement: unknown, callback?: Callback): void {
      const done = (typeof statement === "function" ? statement : callback) as Callback;
      const text = typeof statement === "function" ? undefined : statement;
      // Inside a transaction its connection is the one refused: the transaction is lost.
      const inTransaction = (error: unknown) =>
        holderOf(this.parent) === "transaction" ? named(error, "transaction") : error;
      withOneRetry(this, "prepare", (cb) => super._prepare(text, cb), done, inTransaction);
    }

    override _execute(values: unknown, callback?: unknown): unknown {
      const wrapped =
        typeof callback === "function"
          ? (error: unknown, ...rest: unknown[]) =>
              (callback as Callback)(named(error, "prepared-statement"), ...rest)
          : callback;
      const request = super._execute(values, wrapped);
      nameStreamedRefusals(request);
      return request;
    }

    override _unprepare(callback: Callback): void {
      const connection = this._acquiredConnection;
      const link = poolLinkOf(this.parent) ?? poolLinkOf((this.parent as { parent?: unknown }).parent);
      if (connection === null || link === undefined || !link.lifecycle.isSessionExpired(connection)) {
        super._unprepare(callback);
        return;
      }
      // What mssql does after a successful sp_unprepare (a transaction's release keeps the connection for
      // it); the handle died with the session.
      (this.parent as { release(connection: unknown): unknown }).release(connection);
      this._acquiredConnection = null;
      this._acquiredConfig = null;
      this._handle = 0;
      this.prepared = false;
      setImmediate(callback, null);
    }
  }
  Object.defineProperty(EntraPreparedStatement, "name", { value: "PreparedStatement" });
  return EntraPreparedStatement;
}

/**
 * A streamed execute() (`ps.stream = true`) reports errors only as 'error' events of the request mssql
 * returns, an instance of mssql's own class: its 37396 events are named on that instance. mssql emits
 * them after an acquire (setImmediate), so patching right after `_execute` returns is in time.
 */
function nameStreamedRefusals(request: unknown): void {
  if (typeof request !== "object" || request === null) return;
  const target = request as { emit?: (event: string | symbol, ...args: unknown[]) => boolean };
  const emitEvent = target.emit;
  if (typeof emitEvent !== "function") return;
  target.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "error" && isRefusal(args[0])) {
      return emitEvent.call(this, event, named(args[0], "prepared-statement"), ...args.slice(1));
    }
    return emitEvent.call(this, event, ...args);
  };
}
