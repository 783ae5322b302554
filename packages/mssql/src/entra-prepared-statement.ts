import { poolLinkOf } from "./entra-connection-pool.js";
import type { Callback, TediousConnection } from "./mssql-driver.js";
import { holderOf, isRefusal, named } from "./refusals.js";

// The PreparedStatement subclass (error 37396). A prepared statement holds one connection from
// prepare() to unprepare(), and its handle exists only in that session, so like a transaction it cannot
// move to another connection:
// - prepare() refused held nothing yet (mssql has released the connection): on the pool it is retried
//   once on a freshly logged-in connection, like BEGIN; inside a transaction it is named;
// - execute() refused becomes a SessionTokenExpiredError ("prepared-statement");
// - unprepare() sends nothing on a session the server refused (mssql would keep the connection forever
//   when sp_unprepare fails): it releases the connection, which the pool then closes.
// mssql runs sp_prepare, sp_execute and sp_unprepare with requests of its own global Request class,
// so the errors are named here, around those calls.

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
      super._prepare(text, (error, ...rest) => {
        const pool = poolLinkOf(this.parent);
        if (!isRefusal(error) || pool === undefined) {
          // Inside a transaction its connection is the one refused: the transaction is lost.
          done(holderOf(this.parent) === "transaction" ? named(error, "transaction") : error, ...rest);
          return;
        }
        pool.requireFreshConnection(this, Date.now());
        pool.lifecycle.statementRetried({ method: "prepare" });
        super._prepare(text, (secondError, ...secondRest) =>
          done(named(secondError, "retry"), ...secondRest),
        );
      });
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
