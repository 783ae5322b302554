import { isInvalidOptionError, type TokenSourceOptions } from "@entra-sql/core";
import {
  createEntraMssql,
  type EntraMssqlExtras,
  type EntraMssqlOptions,
  type MssqlModule,
} from "@entra-sql/mssql";
import { describeValue, invalidOption } from "./invalid-option.js";
import { insideTokenSource, refuseMisplacedKeys } from "./misplaced-keys.js";
import {
  ENTRA_KEYS,
  type EntraTypeOrmKey,
  type EntraTypeOrmOptions,
  REFUSED_KEYS,
  type TypeOrmPassThrough,
} from "./options.js";

// The one entry point: TypeORM options for `type: "mssql"` whose driver logs every connection in with
// an Entra token. Glue only: the pool behaviour is @entra-sql/mssql's, the tokens are core's.

/**
 * The mssql module TypeORM gets as `driver`: mssql with an Entra ConnectionPool, plus its token source.
 * Typed as the `mssql` module you passed, if any.
 */
export type EntraDriver<M extends MssqlModule = MssqlModule> = M & EntraMssqlExtras;

/** What entraDataSourceOptions returns: the caller's TypeORM options, plus `type` and `driver`. */
export type EntraDataSourceOptions<T> = Omit<T, EntraTypeOrmKey> & {
  readonly type: "mssql";
  readonly driver: EntraDriver<T extends { mssql: infer M extends MssqlModule } ? M : MssqlModule>;
};

/**
 * TypeORM `DataSource` options for Azure SQL / SQL Server with Microsoft Entra ID tokens. Takes
 * TypeORM's mssql options (host, database, entities, pool, replication, ...) and this package's options
 * in one object; returns the TypeORM options unchanged plus `type: "mssql"` and a `driver` that logs
 * every new connection in with a token and retires connections before their token expires. Master and
 * slaves of `replication` share that one driver and its one token source. Options are validated here.
 * @example
 * const dataSource = new DataSource(
 *   entraDataSourceOptions({
 *     credential: "managed-identity",
 *     host: "myserver.database.windows.net",
 *     database: "app",
 *     entities: [Customer, Order],
 *   }),
 * );
 */
export function entraDataSourceOptions<T extends TypeOrmPassThrough & EntraTypeOrmOptions>(
  options: T & EntraTypeOrmOptions,
): EntraDataSourceOptions<T> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidOption(
      "options",
      describeValue(options),
      "an object of TypeORM mssql options and @entra-sql/typeorm options",
    );
  }
  const record = options as Record<string, unknown>;
  if (record.type !== undefined && record.type !== "mssql") {
    throw invalidOption(
      "type",
      describeValue(record.type),
      '"mssql" or nothing (this package configures TypeORM\'s SQL Server driver)',
    );
  }
  refuseManagedKeys(record, "");
  refuseMisplacedKeys(record);
  const replication = record.replication as { master?: unknown; slaves?: unknown } | undefined;
  if (replication !== undefined && replication !== null) {
    if (typeof replication.master === "object" && replication.master !== null) {
      refuseManagedKeys(replication.master as Record<string, unknown>, "replication.master.");
    }
    if (Array.isArray(replication.slaves)) {
      replication.slaves.forEach((slave, i) => {
        if (typeof slave === "object" && slave !== null) {
          refuseManagedKeys(slave as Record<string, unknown>, `replication.slaves[${i}].`);
        }
      });
    }
  }

  const typeorm: Record<string, unknown> = {};
  const entra: Partial<Record<EntraTypeOrmKey, unknown>> = {};
  for (const [key, value] of Object.entries(record)) {
    if (Object.hasOwn(ENTRA_KEYS, key)) entra[key as EntraTypeOrmKey] = value;
    else typeorm[key] = value;
  }

  const driver = createDriver(entra, record);
  return { ...typeorm, type: "mssql", driver } as unknown as EntraDataSourceOptions<T>;
}

function refuseManagedKeys(options: Record<string, unknown>, prefix: string): void {
  for (const [key, fix] of Object.entries(REFUSED_KEYS)) {
    const value = options[key];
    if (value === undefined) continue;
    const shown = key === "password" ? "set (value hidden)" : describeValue(value);
    throw invalidOption(`${prefix}${key}`, shown, fix);
  }
}

function createDriver(
  entra: Partial<Record<EntraTypeOrmKey, unknown>>,
  options: Record<string, unknown>,
): EntraDriver {
  const { mssql: given, credential, identityOptions, tokenSource, ...rest } = entra;
  if (credential !== undefined && tokenSource !== undefined) {
    throw invalidOption(
      "credential",
      describeValue(credential),
      "either `credential` or `tokenSource`, not both (put the credential inside tokenSource: { credential })",
    );
  }
  if (identityOptions !== undefined && tokenSource !== undefined) {
    throw invalidOption(
      "identityOptions",
      describeValue(identityOptions),
      `it inside the token source: ${insideTokenSource("identityOptions", options)} (at the top level it is ` +
        "a shortcut for tokenSource: { credential, identityOptions }, so only without tokenSource)",
    );
  }
  // The shortcuts become token source options, which @entra-sql/mssql turns into a token source.
  const shortcut = credential !== undefined || identityOptions !== undefined;
  const mssql = given === undefined ? loadMssql() : given;
  if (
    typeof mssql !== "object" ||
    mssql === null ||
    typeof (mssql as MssqlModule).ConnectionPool !== "function"
  ) {
    throw invalidOption("mssql", describeValue(mssql), 'the mssql module (import mssql from "mssql")');
  }
  const shortcutOptions = {
    ...(credential !== undefined ? { credential } : {}),
    ...(identityOptions !== undefined ? { identityOptions } : {}),
  } as TokenSourceOptions;
  const mssqlOptions = {
    ...rest,
    ...(shortcut ? { tokenSource: shortcutOptions } : tokenSource !== undefined ? { tokenSource } : {}),
  } as EntraMssqlOptions;
  try {
    return createEntraMssql(mssql as MssqlModule, mssqlOptions);
  } catch (error) {
    // Same option names here as in @entra-sql/mssql; say which package the user called.
    if (isInvalidOptionError(error)) {
      const option = shortcut ? error.option.replace(/^tokenSource\./, "") : error.option;
      throw invalidOption(option, error.value, error.expected, error);
    }
    throw error;
  }
}

function loadMssql(): MssqlModule {
  try {
    return require("mssql") as MssqlModule;
  } catch (error) {
    throw invalidOption(
      "mssql",
      "not given, and the mssql package could not be loaded",
      'the mssql module: install it (npm install mssql) or pass it (import mssql from "mssql")',
      error,
    );
  }
}
