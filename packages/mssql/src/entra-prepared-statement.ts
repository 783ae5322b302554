import { type NodeCallback, namingRefusalEvents, namingRefusals } from "@entra-sql/driver-kit";
import { poolLinkOf } from "./entra-connection-pool.js";
import type { TediousConnection } from "./mssql-driver.js";
import { PACKAGE_NAME } from "./options.js";
import { runStatement } from "./refusals.js";

// The PreparedStatement subclass (37396). Its handle lives only in its session: a refused prepare() ran
// nothing and runs once more; a refused execute() is named; unprepare() sends nothing on a refused session
// (mssql would keep the connection when sp_unprepare fails). mssql runs sp_prepare/sp_execute/sp_unprepare
// with its own global Request class, so errors are named around those calls (lib/base/prepared-statement.js).

interface MssqlPreparedStatementInternals {
  parent: unknown;
  prepared: boolean;
  _handle: number;
  _acquiredConnection: TediousConnection | null;
  _acquiredConfig: unknown;
  _prepare(statement: unknown, callback?: NodeCallback): void;
  _execute(values: unknown, callback?: unknown): unknown;
  _unprepare(callback: NodeCallback): void;
}
type MssqlPreparedStatementConstructor = new (...args: unknown[]) => MssqlPreparedStatementInternals;

export function createPreparedStatementClass(
  Base: new (...args: never[]) => object,
): MssqlPreparedStatementConstructor {
  class EntraPreparedStatement extends (Base as unknown as MssqlPreparedStatementConstructor) {
    override _prepare(statement: unknown, callback?: NodeCallback): void {
      const done = (typeof statement === "function" ? statement : callback) as NodeCallback;
      const text = typeof statement === "function" ? undefined : statement;
      runStatement(this, "prepare", (cb) => super._prepare(text, cb), done);
    }

    override _execute(values: unknown, callback?: unknown): unknown {
      const wrapped =
        typeof callback === "function"
          ? namingRefusals(callback as NodeCallback, "prepared-statement", PACKAGE_NAME)
          : callback;
      const request = super._execute(values, wrapped);
      // Streamed (`ps.stream = true`), errors are only 'error' events of the request mssql returns, an
      // instance of its own class; it emits them after an acquire (setImmediate), so this is in time.
      namingRefusalEvents(request, "prepared-statement", PACKAGE_NAME);
      return request;
    }

    override _unprepare(callback: NodeCallback): void {
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
