import type { TokenSource } from "@entra-sql/core";
import { resolveConnectionOptions } from "@entra-sql/driver-kit";
import { createPoolClass } from "./entra-connection-pool.js";
import { createPreparedStatementClass } from "./entra-prepared-statement.js";
import { createRequestClass } from "./entra-request.js";
import { createTransactionClass } from "./entra-transaction.js";
import { classesOf, type MssqlModule } from "./mssql-driver.js";
import { type EntraMssqlEvent, type EntraMssqlOptions, PACKAGE_NAME } from "./options.js";

/** What createEntraMssql adds to the mssql module it returns. */
export interface EntraMssqlExtras {
  /** The token source every pool of this module logs in with. Close it when the app shuts down. */
  readonly tokenSource: TokenSource;
}

/**
 * The `mssql` module whose pools log connections in with Entra ID tokens and retire them at max age or
 * before their token expires; a statement refused with 37396 runs once more on a fresh connection, or
 * fails with a `SessionTokenExpiredError` inside a transaction or prepared statement. The rest is mssql's
 * own (`sql.Int`, ...); `connect(config)` returns a connected pool of this module, not mssql's global one.
 * @example
 * import mssql from "mssql";
 * const sql = createEntraMssql(mssql, { credential: "managed-identity" });
 * const pool = await new sql.ConnectionPool({ server: "myserver.database.windows.net", database: "app" }).connect();
 */
export function createEntraMssql<M extends MssqlModule>(
  mssql: M,
  options?: EntraMssqlOptions,
): M & EntraMssqlExtras {
  const classes = classesOf(mssql);
  const resolved = resolveConnectionOptions<EntraMssqlEvent>(options, PACKAGE_NAME);
  const Request = createRequestClass(classes.Request);
  const Transaction = createTransactionClass(classes.Transaction, Request);
  const PreparedStatement = createPreparedStatementClass(classes.PreparedStatement);
  const ConnectionPool = createPoolClass({ ...classes, Request, Transaction }, resolved);
  const connect = (config: unknown) => new ConnectionPool(config).connect();
  const { tokenSource } = resolved;
  const replaced = { ConnectionPool, Request, Transaction, PreparedStatement, connect, tokenSource };
  return { ...mssql, ...replaced } as unknown as M & EntraMssqlExtras;
}

/**
 * One pool, for plain mssql users: `createEntraMssql(mssql, options)`, then `new ConnectionPool(config)`.
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
