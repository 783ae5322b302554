import { describeValue, invalidOption } from "./invalid-option.js";

// The slice of node-mssql this package touches, typed structurally so that our published types
// depend on neither `mssql` nor `@types/mssql`: the caller's own mssql types flow through
// createEntraMssql's generic parameter.

/** A tedious connection as mssql's pool holds it (tedious `Connection`). */
export interface TediousConnection {
  readonly closed?: boolean;
  close(): void;
  /** tedious' EventEmitter `on` (`errorMessage` carries the server's error number). */
  on?(event: string, listener: (...args: never[]) => void): unknown;
}

/** The tedious config mssql builds for one connection (`_config()`). */
export interface TediousConfig {
  server: string;
  authentication?: { type: string; options: Record<string, unknown> };
  options?: Record<string, unknown>;
}

/** The mssql config after the ConnectionPool constructor applied its defaults. */
export interface MssqlPoolConfig extends Record<string, unknown> {
  server: string;
  database?: string;
  options?: { database?: string } & Record<string, unknown>;
  pool?: Record<string, unknown>;
}

/**
 * mssql's tedious ConnectionPool, with the underscore hooks it calls itself
 * (lib/tedious/connection-pool.js, lib/base/connection-pool.js in mssql 11 and 12).
 */
export interface MssqlPoolInternals {
  config: MssqlPoolConfig;
  _config(): TediousConfig;
  _poolCreate(): Promise<TediousConnection>;
  _poolValidate(connection: TediousConnection): boolean | Promise<boolean>;
  _poolDestroy(connection: TediousConnection): Promise<void>;
  release(connection: TediousConnection): unknown;
  /** mssql's acquire: a promise of a connection, or `this` when given a callback. */
  acquire(
    requester: object,
    callback?: (error: unknown, connection?: TediousConnection, config?: unknown) => void,
  ): unknown;
  request(...args: unknown[]): unknown;
  transaction(...args: unknown[]): unknown;
  query(...args: unknown[]): unknown;
  batch(...args: unknown[]): unknown;
}

export type MssqlPoolConstructor = new (config: unknown, callback?: unknown) => MssqlPoolInternals;

/** What createEntraMssql needs from the module it is given: `require("mssql")` / `import * as mssql`. */
export interface MssqlModule {
  ConnectionPool: abstract new (...args: never[]) => unknown;
  Request?: abstract new (...args: never[]) => unknown;
  Transaction?: abstract new (...args: never[]) => unknown;
  PreparedStatement?: abstract new (...args: never[]) => unknown;
}

const HOOKS = ["_config", "_poolCreate", "_poolValidate", "_poolDestroy", "release"] as const;

/** Checks that `mssql` is node-mssql with the tedious driver, whose pool hooks this package overrides. */
export function poolConstructorOf(mssql: unknown): MssqlPoolConstructor {
  const expected =
    'the node-mssql module with its tedious driver (import mssql from "mssql"), version 11 or 12';
  if ((typeof mssql !== "object" && typeof mssql !== "function") || mssql === null) {
    throw invalidOption("mssql", describeValue(mssql), expected);
  }
  const pool = (mssql as { ConnectionPool?: unknown }).ConnectionPool;
  if (typeof pool !== "function") {
    throw invalidOption("mssql", "an object without a ConnectionPool class", expected);
  }
  const prototype = (pool as { prototype?: Record<string, unknown> }).prototype ?? {};
  const missing = HOOKS.filter((hook) => typeof prototype[hook] !== "function");
  if (missing.length > 0) {
    throw invalidOption(
      "mssql",
      `a module whose ConnectionPool lacks ${missing.join(", ")} (msnodesqlv8 driver, or an unsupported mssql version)`,
      expected,
    );
  }
  return pool as MssqlPoolConstructor;
}
