import type { TediousConnectionLike } from "@entra-sql/driver-kit";

// The parts of a Sequelize 6 instance and of its mssql dialect that this package relies on
// (lib/sequelize.js, lib/dialects/abstract/connection-manager.js, lib/dialects/mssql/connection-manager.js
// and query.js; identical in what we use from 6.29 to 6.37). These are Sequelize's internals, not its
// documented API: sequelize-checks.ts checks they exist when the instance is handed in, and the
// integration tests run against real Sequelize 6.29.0 and 6.37.8.

/** A tedious Connection as Sequelize's mssql dialect creates it, with the fields Sequelize adds. */
export interface TediousConnection extends TediousConnectionLike {
  /** tedious: a transaction is open on the session. */
  inTransaction?: boolean;
  /** Sequelize (Transaction.prepareEnvironment): the id of the transaction holding it. */
  uuid?: unknown;
}

/** The config Sequelize hands its dialect's `connect` for every new connection (the instance's `config`). */
export interface SequelizeConnectConfig {
  host?: string;
  port?: unknown;
  database?: string;
  username?: unknown;
  password?: unknown;
  dialectOptions?: Record<string, unknown> & {
    authentication?: unknown;
    options?: Record<string, unknown>;
  };
  pool?: Record<string, unknown>;
  replication?: unknown;
}

/** The mssql dialect's ConnectionManager (also the instance's `connectionManager`): what is overridden. */
export interface MssqlConnectionManager {
  /** The tedious module (`dialectModule` or require("tedious")); `connect` reads `Connection` from it. */
  lib: { Connection: new (config: never) => TediousConnection };
  /** sequelize-pool's Pool: `size` counts connections open or opening. */
  pool: { size?: number };
  /** The instance's config, cloned; `pool.validate` is the pool's validation. */
  config: SequelizeConnectConfig & { pool: { max?: number; validate?: unknown } };
  /** Creates one tedious Connection from `config` and resolves once it logged in. */
  connect(config: SequelizeConnectConfig): Promise<TediousConnection>;
  /** Closes one connection (the pool's destroy, and the version probe's). */
  disconnect(connection: TediousConnection): Promise<void>;
  /** The pool's validation (the default `pool.validate` calls it on every acquire). */
  validate(connection: TediousConnection): boolean;
  /** A connection from the pool. */
  getConnection(options?: object): Promise<TediousConnection>;
  /** Gives a connection back to the pool (statements outside a transaction, and a transaction's end). */
  releaseConnection(connection: TediousConnection): void;
  /** `sequelize.close()`: drains the pool and closes every connection. */
  close(): Promise<void>;
}

/** The mssql dialect's Query: `run` runs one statement on `this.connection`. */
export interface MssqlQuery {
  connection: TediousConnection;
  options: { transaction?: { parent?: unknown; connection?: TediousConnection; id?: unknown } | null };
  run(sql: string, parameters?: unknown): Promise<unknown>;
}

export type MssqlQueryConstructor = new (...args: never[]) => MssqlQuery;

/** A Sequelize instance, any 6.x version. */
export interface SequelizeInstance {
  options: {
    dialect?: unknown;
    replication?: unknown;
    pool?: Record<string, unknown>;
    /** 0 until Sequelize's first getConnection has asked the server (on a connection of its own). */
    databaseVersion?: string | number;
  };
  config: SequelizeConnectConfig;
  connectionManager: MssqlConnectionManager;
  dialect: { Query: MssqlQueryConstructor };
}
