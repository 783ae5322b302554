import type { EntraMssqlOptions } from "@entra-sql/mssql";
import type { PrismaMssql } from "@prisma/adapter-mssql";

// Options of entraPrismaMssql: @entra-sql/mssql's (driver-kit's: documented, defaulted and validated
// there), plus what @prisma/adapter-mssql itself takes.

export const PACKAGE_NAME = "@entra-sql/prisma";

/** `new PrismaMssql(config, options)`'s second argument (schema, onPoolError, onConnectionError). */
export type PrismaMssqlOptions = NonNullable<ConstructorParameters<typeof PrismaMssql>[1]>;

/** The node-mssql config `PrismaMssql` takes (server, port, database, options, pool); no credentials. */
export type PrismaMssqlConfig = Exclude<ConstructorParameters<typeof PrismaMssql>[0], string>;

/** Options of `entraPrismaMssql`. Every Entra default is in `ENTRA_PRISMA_DEFAULTS`. */
export interface EntraPrismaOptions extends EntraMssqlOptions {
  /** Passed to `PrismaMssql` unchanged: `schema`, `onPoolError`, `onConnectionError`. */
  prisma?: PrismaMssqlOptions;
  /**
   * The `@prisma/adapter-mssql` module and the `mssql` module it builds its pool from. Default: the
   * adapter installed beside this package, and the mssql it resolves. For apps that hold another copy.
   */
  modules?: PrismaAdapterModules;
}

export interface PrismaAdapterModules {
  PrismaMssql: typeof PrismaMssql;
  mssql: object;
}
