import { safeEmitter, type TokenSource } from "@entra-sql/core";
import { createPoolClass, type EntraClasses } from "./entra-connection-pool.js";
import {
  createPreparedStatementClass,
  type MssqlPreparedStatementConstructor,
} from "./entra-prepared-statement.js";
import { createRequestClass, type MssqlRequestConstructor } from "./entra-request.js";
import { createTransactionClass, type MssqlTransactionConstructor } from "./entra-transaction.js";
import { type MssqlModule, poolConstructorOf } from "./mssql-driver.js";
import { type EntraMssqlOptions, resolveOptions } from "./options.js";

// The entry points: an mssql-compatible module (ORMs take it as their `driver`) and a pool factory.

/** What createEntraMssql adds to the mssql module it returns. */
export interface EntraMssqlExtras {
  /** The token source every pool of this module logs in with. Close it when the app shuts down. */
  readonly tokenSource: TokenSource;
}

/**
 * The `mssql` module with `ConnectionPool` replaced by a subclass whose connections log in with
 * Entra ID tokens and retire before their token expires, and `Request` / `Transaction` /
 * `PreparedStatement` replaced by subclasses that handle error 37396 (a statement refused on a session
 * whose token expired: retried once on a fresh connection outside a transaction, a
 * `SessionTokenExpiredError` inside a transaction or prepared statement).
 * Everything else is mssql's own (`sql.Int`, `sql.Table`, ...). `connect(config)` returns a new connected
 * pool of this module (mssql's global pool helpers such as `sql.query` are not routed through it).
 * Options are validated here.
 * @example
 * import mssql from "mssql";
 * const sql = createEntraMssql(mssql, { tokenSource: { credential: "managed-identity" } });
 * const pool = await new sql.ConnectionPool({ server: "myserver.database.windows.net", database: "app" }).connect();
 */
export function createEntraMssql<M extends MssqlModule>(
  mssql: M,
  options?: EntraMssqlOptions,
): M & EntraMssqlExtras {
  const Base = poolConstructorOf(mssql);
  const resolved = resolveOptions(options);
  // Request, Transaction and PreparedStatement subclasses handle error 37396 (retry once outside a
  // transaction, a named error inside one); the pool creates its requests and transactions with them.
  const emit = safeEmitter(resolved.onEvent);
  const BaseRequest = (mssql as { Request?: unknown }).Request;
  const BaseTransaction = (mssql as { Transaction?: unknown }).Transaction;
  const BasePreparedStatement = (mssql as { PreparedStatement?: unknown }).PreparedStatement;
  const Request =
    typeof BaseRequest === "function"
      ? createRequestClass(BaseRequest as MssqlRequestConstructor, emit)
      : undefined;
  const Transaction =
    Request !== undefined && typeof BaseTransaction === "function"
      ? createTransactionClass(BaseTransaction as MssqlTransactionConstructor, Request, emit)
      : undefined;
  const PreparedStatement =
    typeof BasePreparedStatement === "function"
      ? createPreparedStatementClass(BasePreparedStatement as MssqlPreparedStatementConstructor, emit)
      : undefined;
  const classes: EntraClasses = { Request, Transaction };
  const ConnectionPool = createPoolClass(Base, resolved, classes);
  const connect = (config: unknown) => {
    const pool = new ConnectionPool(config) as unknown as { connect(): Promise<unknown> };
    return pool.connect();
  };
  return {
    ...mssql,
    ConnectionPool,
    ...(Request === undefined ? {} : { Request }),
    ...(Transaction === undefined ? {} : { Transaction }),
    ...(PreparedStatement === undefined ? {} : { PreparedStatement }),
    connect,
    tokenSource: resolved.tokenSource,
  } as unknown as M & EntraMssqlExtras;
}

/**
 * A single pool, for plain mssql users: `createEntraMssql(mssql, options)` then
 * `new ConnectionPool(config)`. Call `.connect()` on it.
 * @example
 * const pool = await createEntraConnectionPool(mssql, config, { scope: "https://database.windows.net/.default" }).connect();
 */
export function createEntraConnectionPool<M extends MssqlModule>(
  mssql: M,
  config: object | string,
  options?: EntraMssqlOptions,
): InstanceType<M["ConnectionPool"]> {
  const { ConnectionPool } = createEntraMssql(mssql, options);
  const Pool = ConnectionPool as unknown as new (config: unknown) => InstanceType<M["ConnectionPool"]>;
  return new Pool(config);
}
