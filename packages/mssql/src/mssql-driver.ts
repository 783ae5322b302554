import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { installedVersion, requireMethods, type TediousConnectionLike } from "@entra-sql/driver-kit";
import { PACKAGE_NAME } from "./options.js";

// The slice of node-mssql 11 and 12 (tedious driver) this package touches, typed by shape so that our
// published types need neither `mssql` nor `@types/mssql`. The underscore methods are mssql's internal
// hooks (lib/tedious/connection-pool.js, lib/base/*.js): `classesOf` checks them when the module is given.

/** A tedious Connection as mssql's pool holds it. */
export type TediousConnection = TediousConnectionLike;

export type AcquireCallback = (error: unknown, connection?: unknown, config?: unknown) => void;

export interface MssqlPoolInternals {
  config: Record<string, unknown> & {
    server: string;
    database?: string;
    options?: { database?: string };
    pool?: { max?: unknown };
    beforeConnect?: (connection: TediousConnection) => void;
  };
  _config(): Record<string, unknown>;
  _poolCreate(): Promise<TediousConnection>;
  _poolValidate(connection: TediousConnection): boolean | Promise<boolean>;
  _poolDestroy(connection: TediousConnection): Promise<void>;
  release(connection: TediousConnection): unknown;
  acquire(requester: object, callback?: AcquireCallback): unknown;
  close(...args: unknown[]): unknown;
  connect(): Promise<unknown>;
}

/** The module createEntraMssql takes (`import mssql from "mssql"`); `classesOf` checks the rest. */
export interface MssqlModule {
  ConnectionPool: abstract new (...args: never[]) => unknown;
}

type Class = new (...args: never[]) => object;
export type MssqlClasses = Record<"ConnectionPool" | "Request" | "Transaction" | "PreparedStatement", Class>;

const HOOKS: Record<keyof MssqlClasses, readonly string[]> = {
  ConnectionPool: ["_config", "_poolCreate", "_poolValidate", "_poolDestroy", "release", "acquire", "close"],
  Request: ["_query", "_batch", "_execute", "_bulk", "emit"],
  Transaction: ["_begin", "_commit"],
  PreparedStatement: ["_prepare", "_execute", "_unprepare"],
};

const SUPPORTED = 'the node-mssql module with its tedious driver (import mssql from "mssql"), 11 or 12';

/** The module's classes, after checking it is node-mssql with the tedious driver and has every hook used. */
export function classesOf(mssql: unknown): MssqlClasses {
  if ((typeof mssql !== "object" && typeof mssql !== "function") || mssql === null) {
    throw invalidOptionFor(PACKAGE_NAME)("mssql", describeOptionValue(mssql), SUPPORTED);
  }
  const version = installedVersion("mssql", __filename);
  for (const [name, hooks] of Object.entries(HOOKS)) {
    const value = (mssql as Record<string, unknown>)[name];
    requireMethods(typeof value === "function" ? value.prototype : undefined, hooks, {
      packageName: PACKAGE_NAME,
      option: "mssql",
      driver: `${version} (its ${name}; the msnodesqlv8 driver has other hooks)`,
      supported: SUPPORTED,
    });
  }
  return mssql as unknown as MssqlClasses;
}
