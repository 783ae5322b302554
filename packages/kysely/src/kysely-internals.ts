import type { NodeCallback, TediousConnectionLike } from "@entra-sql/driver-kit";

// The parts of tedious, tarn and Kysely's MssqlDialect (kysely/dist/.../dialect/mssql/mssql-driver.js,
// 0.27 to 0.29) this package relies on, typed by shape: the package imports none of them (Kysely 0.28 and
// later are ES modules only, which a CommonJS package cannot require() on Node 20.18). What Kysely does:
// - `new tarn.Pool({ ...tarn.options, create, destroy, validate })` in MssqlDriver's constructor;
// - `create`: `await tedious.connectionFactory()` (called synchronously, first thing), then `connect()`
//   on that Connection, wrapped in its private MssqlConnection class;
// - `validate`: a `select 1` on the connection (0.29: unless `validateConnections: false`);
// - `destroy`: `close()` (0.27 then waits for 'end'); `releaseConnection`: `reset()` (0.27 always,
//   0.28+ with `resetConnectionsOnRelease`), then `pool.release(connection)`;
// - queries, streams and transactions through MssqlConnection's methods (KYSELY_CONNECTION_METHODS).

/** A tedious Connection, as this package creates it and Kysely drives it. */
export interface TediousConnection extends TediousConnectionLike {
  /** tedious: a transaction is open on the session (from the server's ENVCHANGE). */
  inTransaction?: boolean;
  connect(callback?: (error?: unknown) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  reset(callback: NodeCallback): unknown;
}

/** The tedious module (`import * as Tedious from "tedious"`), v19.2 or v20. */
export interface TediousModule {
  Connection: new (config: never) => object;
  Request: abstract new (...args: never[]) => object;
  TYPES: object;
  ISOLATION_LEVEL: object;
}

/** tarn's Pool as Kysely uses it (and this package subclasses it). */
export interface TarnPool {
  max: number;
  acquire(): { promise: Promise<unknown> };
  release(resource: unknown): boolean;
  destroy(): Promise<unknown>;
}

/** The tarn module (`import * as Tarn from "tarn"`), v3. */
export interface TarnModule {
  Pool: new (options: never) => object;
}

/** The options Kysely hands tarn's Pool constructor. */
export interface KyselyPoolOptions {
  create: () => Promise<KyselyConnection>;
  destroy: (connection: KyselyConnection) => unknown;
  validate?: (connection: KyselyConnection) => unknown;
  [option: string]: unknown;
}

/** Kysely's (private) MssqlConnection: the methods this package wraps on each instance. */
export interface KyselyConnection {
  executeQuery(compiledQuery: unknown): Promise<unknown>;
  streamQuery(compiledQuery: unknown, chunkSize?: number): AsyncIterableIterator<unknown>;
  beginTransaction(settings: unknown): Promise<void>;
  commitTransaction(): Promise<void>;
  rollbackTransaction(savepointName?: string): Promise<void>;
}

export const KYSELY_CONNECTION_METHODS = [
  "executeQuery",
  "streamQuery",
  "beginTransaction",
  "commitTransaction",
  "rollbackTransaction",
] as const;

export const TEDIOUS_CONNECTION_METHODS = [
  "connect",
  "close",
  "on",
  "once",
  "execSql",
  "reset",
  "beginTransaction",
  "commitTransaction",
  "rollbackTransaction",
] as const;

export const TARN_POOL_METHODS = ["acquire", "release", "destroy"] as const;
