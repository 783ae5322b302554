import type { NodeCallback, StreamSink, TediousConnectionLike } from "@entra-sql/driver-kit";

// The parts of Knex's mssql client (lib/client.js, lib/dialects/mssql/index.js, identical in what we
// use across 3.1, 3.2 and 3.3) and of a tedious Connection that this package relies on. These are
// Knex's dialect methods, not its documented API: knex-dialect.ts checks they exist when the module is
// handed in, and the integration tests run against real Knex 3.1, 3.2 and 3.3.

/** A tedious Connection as Knex's mssql client creates it, with the fields Knex adds. */
export interface TediousConnection extends TediousConnectionLike {
  /** tedious: a transaction is open on the session (from the server's ENVCHANGE). */
  inTransaction?: boolean;
  state?: { name?: string };
  /** Knex (lib/execution/transaction.js acquireConnection): the id of the transaction holding it. */
  __knexTxId?: unknown;
  /** Knex: why the connection is unusable ('error' / 'end' handlers in acquireRawConnection). */
  __knex__disposed?: unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  execSql(request: unknown): void;
  beginTransaction(callback: NodeCallback, ...rest: unknown[]): unknown;
  commitTransaction(callback: NodeCallback, ...rest: unknown[]): unknown;
}

/** Knex's Transaction (lib/execution/transaction.js): the method wrapped to run a refused BEGIN again. */
export interface KnexTransaction {
  acquireConnection?: (
    config: { connection?: unknown } | undefined,
    run: (connection: TediousConnection) => Promise<unknown>,
  ) => Promise<unknown>;
}

/** Knex's mssql Client instance: the methods overridden or called here. */
export interface MssqlClientInternals {
  /** The `connection` config, or the latest result of a connection provider function. */
  connectionSettings: Record<string, unknown>;
  /** True on the per-transaction client Knex makes with `Object.create(Client.prototype)`. */
  transacting?: boolean;
  /** tarn's pool (absent before initialisation and after destroy). */
  pool?: { max?: number };
  /** Builds the tedious Connection synchronously from `connectionSettings`, then waits for its login. */
  acquireRawConnection(): Promise<TediousConnection>;
  /** The tedious module; `acquireRawConnection` calls it synchronously for `Connection`. */
  _driver(): TediousModule;
  validateConnection(connection: TediousConnection): boolean;
  acquireConnection(): Promise<TediousConnection>;
  releaseConnection(connection: TediousConnection): Promise<void>;
  destroyRawConnection(connection: TediousConnection): Promise<void>;
  _query(connection: TediousConnection, query: object): Promise<unknown>;
  _stream(
    connection: TediousConnection,
    query: object,
    stream: StreamSink,
    options?: unknown,
  ): Promise<unknown>;
  /** A top-level or nested Transaction; `config.connection`: run on that connection (not released). */
  transaction(container: unknown, config?: Record<string, unknown>, outerTx?: unknown): KnexTransaction;
  _enqueueRequest(request: unknown, connection: TediousConnection): void;
  _chomp(connection: TediousConnection): void;
  destroy(callback?: unknown): Promise<void>;
}

export type MssqlClientConstructor = new (config: never) => MssqlClientInternals;

/** The tedious module as Knex's mssql client uses it. */
export interface TediousModule {
  Connection: new (config: never) => TediousConnection;
}
