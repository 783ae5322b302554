import type { TokenSource } from "@entra-sql/core";
import { isInvalidOptionError } from "@entra-sql/core";
import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import {
  CONNECTION_OPTION_DEFAULTS,
  checkConnectionSettings,
  checkTarnPoolOptions,
  requireKnownScope,
} from "@entra-sql/driver-kit";
import { createEntraMssql, type MssqlModule } from "@entra-sql/mssql";
import type { PrismaMssql } from "@prisma/adapter-mssql";
import { type EntraPrismaOptions, PACKAGE_NAME, type PrismaMssqlConfig } from "./options.js";
import { adapterVersion, checkPrismaAdapter, loadPrismaAdapter } from "./prisma-adapter.js";

const invalidOption = invalidOptionFor(PACKAGE_NAME);

/** The driver adapter factory `new PrismaClient({ adapter })` takes, with the token source it logs in with. */
export interface EntraPrismaMssql extends PrismaMssql {
  /** The token source every connection of this adapter logs in with. Close it when the app shuts down. */
  readonly tokenSource: TokenSource;
}

/**
 * Prisma's SQL Server driver adapter (`PrismaMssql` of `@prisma/adapter-mssql`) on an `@entra-sql/mssql`
 * pool: every new physical connection logs in with an Entra ID token (one retry with a fresh token when
 * refused), connections retire at max age (with jitter) and before their token expires, and a statement
 * refused with 37396 runs once more on a fresh connection, or fails with a `SessionTokenExpiredError`
 * inside `$transaction`.
 * @example
 * const adapter = entraPrismaMssql(
 *   { server: "myserver.database.windows.net", database: "app" },
 *   { credential: "managed-identity" },
 * );
 * const prisma = new PrismaClient({ adapter });
 */
export function entraPrismaMssql(
  config: PrismaMssqlConfig,
  options: EntraPrismaOptions = {},
): EntraPrismaMssql {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw invalidOption(
      "config",
      typeof config === "string" ? "a connection string" : describeOptionValue(config),
      'a node-mssql config object, e.g. { server: "myserver.database.windows.net", database: "app" } (no user or password: the token is the credential)',
    );
  }
  const { prisma, modules, ...entra } = options;
  // The node-mssql config as @entra-sql/mssql's pool checks it, which PrismaMssql.connect() builds only at
  // the first query: competing authentication settings, no server, tarn's pool keys, and (inline) a host
  // whose token scope is unknown. Before the token source exists, so a refusal leaves nothing behind.
  const server = checkConnectionSettings(
    config as unknown as Record<string, unknown>,
    "config",
    PACKAGE_NAME,
  );
  checkTarnPoolOptions(config.pool, "config.pool", PACKAGE_NAME);
  withOurName(() =>
    requireKnownScope(
      { tokenMode: entra.tokenMode ?? CONNECTION_OPTION_DEFAULTS.tokenMode, scope: entra.scope },
      server,
    ),
  );
  const { PrismaMssql: Base, mssql } =
    modules === undefined ? loadPrismaAdapter() : checkPrismaAdapter(modules);
  const sql = withOurName(() => createEntraMssql(mssql as MssqlModule, entra));
  const module = mssql as { ConnectionPool: unknown };

  class EntraPrismaMssqlFactory extends Base {
    readonly tokenSource = sql.tokenSource;

    /**
     * PrismaMssql's connect(), whose `new mssql.ConnectionPool(config)` (before its first await) builds
     * this package's pool: the module's class is swapped for exactly that synchronous stretch.
     */
    override async connect(): ReturnType<PrismaMssql["connect"]> {
      const original = module.ConnectionPool;
      module.ConnectionPool = sql.ConnectionPool;
      let connecting: ReturnType<PrismaMssql["connect"]>;
      try {
        connecting = super.connect();
      } finally {
        module.ConnectionPool = original;
      }
      const adapter = await connecting;
      if (!(adapter.underlyingDriver() instanceof sql.ConnectionPool)) {
        await adapter.dispose();
        throw new Error(
          `${PACKAGE_NAME}: ${adapterVersion()} did not build its pool with mssql.ConnectionPool during connect(), so its connections would not log in with Entra tokens; report the version at https://github.com/entra-sql/entra-sql/issues`,
        );
      }
      return adapter;
    }
  }
  Object.defineProperty(EntraPrismaMssqlFactory, "name", { value: "EntraPrismaMssql" });
  return new EntraPrismaMssqlFactory(config, prisma) as EntraPrismaMssql;
}

/** @entra-sql/mssql checks the options; its errors name this package, which the app called. */
function withOurName<T>(create: () => T): T {
  try {
    return create();
  } catch (error) {
    if (isInvalidOptionError(error)) throw invalidOption(error.option, error.value, error.expected, error);
    throw error;
  }
}
