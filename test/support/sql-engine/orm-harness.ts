import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import type { Knex } from "knex";
import type { SqlEngine, SqlParameter, SqlSession, SqlType, SqlValue, StatementOutcome } from "./types.js";

// Test-only wiring of real Knex (mssql dialect) and real TypeORM (mssql driver) straight onto an engine,
// without TDS: the ORMs generate and send exactly the SQL they would send to SQL Server, and the engine
// answers. This is how the engine's tests check that the statements the ORMs really emit are supported.
// The TDS stand-in's own integration tests cover the wire.

const require = createRequire(import.meta.url);

/** Like tedious' RequestError / mssql's RequestError: a message and SQL Server's number. */
export class HarnessRequestError extends Error {
  override name = "RequestError";
  readonly code = "EREQUEST";
  constructor(
    message: string,
    readonly number: number,
    readonly state: number,
    readonly class_: number,
    readonly originalError: unknown,
  ) {
    super(message);
  }
}

function firstError(statements: StatementOutcome[]): HarnessRequestError | undefined {
  for (const o of statements) {
    if (o.kind === "error") {
      return new HarnessRequestError(
        o.error.message,
        o.error.number,
        o.error.state,
        o.error.severity,
        o.error,
      );
    }
  }
  return undefined;
}

function inferType(value: unknown): SqlType {
  if (typeof value === "boolean") return { kind: "bit" };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return { kind: "float" };
    return value >= -2147483648 && value <= 2147483647 ? { kind: "int" } : { kind: "bigint" };
  }
  if (typeof value === "bigint") return { kind: "bigint" };
  if (value instanceof Date) return { kind: "datetime" };
  if (value instanceof Uint8Array) return { kind: "varbinary", maxLength: "max" };
  return { kind: "nvarchar", maxLength: 4000 };
}

function toSqlValue(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (
    typeof value === "boolean" ||
    typeof value === "number" ||
    typeof value === "bigint" ||
    typeof value === "string" ||
    value instanceof Date ||
    value instanceof Uint8Array
  ) {
    return value;
  }
  return String(value);
}

// ---- Knex ----------------------------------------------------------------------------------------

/** What Knex's mssql dialect calls on a tedious Connection, backed by an engine session. */
class EngineConnection extends EventEmitter {
  connected = true;
  inTransaction = false;
  readonly state = { name: "LoggedIn" };

  constructor(readonly session: SqlSession) {
    super();
  }

  private settle(promise: Promise<void>, callback: (err?: Error) => void): void {
    promise.then(
      () => {
        this.inTransaction = this.session.transactionCount > 0;
        callback();
      },
      (error: Error) => callback(error),
    );
  }

  beginTransaction(callback: (err?: Error) => void, name?: string): void {
    this.settle(this.session.beginTransaction(name), callback);
  }

  commitTransaction(callback: (err?: Error) => void): void {
    this.settle(this.session.commitTransaction(), callback);
  }

  rollbackTransaction(callback: (err?: Error) => void, name?: string): void {
    this.settle(this.session.rollbackTransaction(name), callback);
  }

  saveTransaction(callback: (err?: Error) => void, name: string): void {
    this.settle(this.session.saveTransaction(name), callback);
  }

  close(): void {
    this.connected = false;
    void this.session.close().then(() => this.emit("end"));
  }
}

interface KnexQuery {
  sql: string;
  bindings?: unknown[];
  response?: unknown;
}

/** Sees every batch an ORM sends (SQL text and parameters), in order. */
export type QueryObserver = (sql: string, parameters: SqlParameter[]) => void;

/** A Knex instance (client "mssql") whose connections are engine sessions. */
export function knexOnEngine(
  engine: SqlEngine,
  config: Partial<Knex.Config> = {},
  onQuery?: QueryObserver,
): Knex {
  const createKnex = require("knex") as (config: Knex.Config) => Knex;
  const MssqlClient = require("knex/lib/dialects/mssql/index.js") as new (config: Knex.Config) => object;
  let sessions = 0;

  class EngineClient extends (MssqlClient as unknown as new (
    config: Knex.Config,
  ) => Record<string, unknown>) {
    acquireRawConnection(): Promise<EngineConnection> {
      sessions++;
      return Promise.resolve(new EngineConnection(engine.openSession({ principalName: `knex-${sessions}` })));
    }

    destroyRawConnection(connection: EngineConnection): Promise<void> {
      connection.connected = false;
      return connection.session.close();
    }

    validateConnection(connection: EngineConnection): boolean {
      return connection.connected;
    }

    async _query(connection: EngineConnection, query: KnexQuery): Promise<KnexQuery> {
      const parameters: SqlParameter[] = (query.bindings ?? []).map((value, i) => ({
        name: `@p${i}`,
        type: inferType(value),
        value: toSqlValue(value),
        output: false,
      }));
      onQuery?.(query.sql, parameters);
      const outcome = await connection.session.execute(query.sql, parameters);
      const error = firstError(outcome.statements);
      if (error) throw error;
      // tedious hands Knex every row of every result set as [{ metadata: { colName }, value }].
      const rows: { metadata: { colName: string }; value: unknown }[][] = [];
      for (const o of outcome.statements) {
        if (o.kind !== "rows") continue;
        for (const row of o.resultSet.rows) {
          rows.push(
            row.map((value, i) => ({ metadata: { colName: o.resultSet.columns[i]?.name ?? "" }, value })),
          );
        }
      }
      query.response = rows;
      return query;
    }
  }

  return createKnex({
    client: EngineClient as unknown as Knex.Config["client"],
    connection: {},
    pool: { min: 0, max: 4 },
    ...config,
  });
}

// ---- TypeORM -------------------------------------------------------------------------------------

/** mssql type objects (mssql.Int, mssql.NVarChar(255), ...) -> SqlType. */
function mssqlType(type: unknown, value: unknown): SqlType {
  const t = (typeof type === "function" ? type : (type as { type?: unknown } | undefined)?.type) as
    | { declaration?: string }
    | undefined;
  const opts = (typeof type === "object" ? type : {}) as {
    length?: number;
    precision?: number;
    scale?: number;
  };
  switch (t?.declaration) {
    case "bit":
      return { kind: "bit" };
    case "tinyint":
      return { kind: "tinyint" };
    case "smallint":
      return { kind: "smallint" };
    case "int":
      return { kind: "int" };
    case "bigint":
      return { kind: "bigint" };
    case "real":
      return { kind: "real" };
    case "float":
      return { kind: "float" };
    case "decimal":
    case "numeric":
      return { kind: "decimal", precision: opts.precision ?? 18, scale: opts.scale ?? 0 };
    case "varchar":
      return { kind: "varchar", maxLength: opts.length ?? 8000 };
    case "nvarchar":
    case "nchar":
    case "ntext":
      return { kind: "nvarchar", maxLength: opts.length ?? 4000 };
    case "date":
      return { kind: "date" };
    case "datetime":
    case "smalldatetime":
      return { kind: "datetime" };
    case "datetime2":
      return { kind: "datetime2", scale: opts.scale ?? 7 };
    case "datetimeoffset":
      return { kind: "datetimeoffset", scale: opts.scale ?? 7 };
    case "uniqueidentifier":
      return { kind: "uniqueidentifier" };
    case "varbinary":
    case "binary":
      return { kind: "varbinary", maxLength: opts.length ?? "max" };
    default:
      return inferType(value);
  }
}

interface MssqlResult {
  recordset: Record<string, unknown>[];
  recordsets: Record<string, unknown>[][];
  rowsAffected: number[];
  output: Record<string, unknown>;
}

/** A session-pool for TypeORM's ConnectionPool: idle sessions are reused, like pooled connections. */
class SessionPool {
  private readonly idle: SqlSession[] = [];
  private readonly all: SqlSession[] = [];
  private count = 0;

  constructor(private readonly engine: SqlEngine) {}

  take(): SqlSession {
    const session = this.idle.pop();
    if (session) return session;
    this.count++;
    const created = this.engine.openSession({ principalName: `typeorm-${this.count}` });
    this.all.push(created);
    return created;
  }

  give(session: SqlSession): void {
    this.idle.push(session);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((s) => s.close()));
  }
}

async function runOn(
  session: SqlSession,
  sql: string,
  inputs: SqlParameter[],
  onQuery: QueryObserver | undefined,
): Promise<MssqlResult> {
  onQuery?.(sql, inputs);
  const outcome = await session.execute(sql, inputs);
  const error = firstError(outcome.statements);
  if (error) throw error;
  const recordsets: Record<string, unknown>[][] = [];
  const rowsAffected: number[] = [];
  for (const o of outcome.statements) {
    if (o.kind === "rows") {
      recordsets.push(
        o.resultSet.rows.map((row) => {
          const record: Record<string, unknown> = {};
          o.resultSet.columns.forEach((c, i) => {
            record[c.name] = row[i];
          });
          return record;
        }),
      );
      rowsAffected.push(o.rowCount);
    } else if (o.kind === "done" && o.rowCount !== undefined) rowsAffected.push(o.rowCount);
  }
  return { recordset: recordsets[0] ?? [], recordsets, rowsAffected, output: {} };
}

/**
 * An object TypeORM accepts as `driver` for `type: "mssql"`: the real mssql module with ConnectionPool,
 * Transaction and Request replaced by engine-backed versions.
 */
export function mssqlDriverOnEngine(engine: SqlEngine, onQuery?: QueryObserver): Record<string, unknown> {
  const real = require("mssql") as Record<string, unknown>;
  const pools: SessionPool[] = [];

  class Transaction {
    session: SqlSession | undefined;
    constructor(readonly pool: ConnectionPool) {}

    begin(isolationOrCallback?: unknown, callback?: (err?: Error) => void): void {
      const cb = (typeof isolationOrCallback === "function" ? isolationOrCallback : callback) as (
        err?: Error,
      ) => void;
      const session = this.pool.sessions.take();
      this.session = session;
      session.beginTransaction().then(
        () => cb(),
        (error: Error) => cb(error),
      );
    }

    private finish(promise: Promise<void>, cb: (err?: Error) => void): void {
      promise.then(
        () => {
          if (this.session) this.pool.sessions.give(this.session);
          this.session = undefined;
          cb();
        },
        (error: Error) => cb(error),
      );
    }

    commit(cb: (err?: Error) => void): void {
      this.finish(this.session ? this.session.commitTransaction() : Promise.resolve(), cb);
    }

    rollback(cb: (err?: Error) => void): void {
      this.finish(this.session ? this.session.rollbackTransaction() : Promise.resolve(), cb);
    }
  }

  class Request {
    private readonly inputs: SqlParameter[] = [];
    constructor(readonly parent: ConnectionPool | Transaction) {}

    /** input(name, value) or input(name, type, value), as mssql's Request takes them. */
    input(name: string, ...rest: unknown[]): this {
      const hasType = rest.length >= 2;
      const typeOrValue = rest[0];
      const v = hasType ? rest[1] : typeOrValue;
      this.inputs.push({
        name: `@${name}`,
        type: hasType ? mssqlType(typeOrValue, v) : inferType(v),
        value: toSqlValue(v),
        output: false,
      });
      return this;
    }

    async query(sql: string): Promise<MssqlResult> {
      if (this.parent instanceof Transaction) {
        const session = this.parent.session;
        if (!session) throw new Error("Transaction has not begun.");
        return runOn(session, sql, this.inputs, onQuery);
      }
      const session = this.parent.sessions.take();
      try {
        return await runOn(session, sql, this.inputs, onQuery);
      } finally {
        this.parent.sessions.give(session);
      }
    }
  }

  class ConnectionPool extends EventEmitter {
    readonly sessions = new SessionPool(engine);
    connected = false;

    constructor(readonly config: unknown) {
      super();
      pools.push(this.sessions);
    }

    connect(callback?: (err?: Error) => void): this {
      this.connected = true;
      setImmediate(() => callback?.());
      return this;
    }

    request(): Request {
      return new Request(this);
    }

    transaction(): Transaction {
      return new Transaction(this);
    }

    /** mssql's close(callback) or close(): Promise. */
    close(callback?: (err?: Error) => void): Promise<void> {
      this.connected = false;
      const closing = this.sessions.closeAll();
      closing.then(
        () => callback?.(),
        (error: Error) => callback?.(error),
      );
      return closing;
    }
  }

  return { ...real, ConnectionPool, Transaction, Request };
}
