import type { TokenSource } from "@entra-sql/core";
import { requireKnownScope, resolveConnectionOptions } from "@entra-sql/driver-kit";
import { checkDialectSettings, type EntraMssqlDialectSettings } from "./dialect-settings.js";
import { createEntraPool } from "./entra-pool.js";
import type { TarnModule, TediousModule } from "./kysely-internals.js";
import { type EntraKyselyEvent, type EntraKyselyOptions, PACKAGE_NAME } from "./options.js";

// The one entry point: settings in, the config of Kysely's own MssqlDialect out. This package imports no
// Kysely (0.28+ is an ES module only): `new MssqlDialect(entraMssqlDialectConfig(...))` uses the app's.

/** What `entraMssqlDialectConfig` returns: the config of Kysely's `MssqlDialect` (0.27 to 0.29). */
export interface EntraMssqlDialectConfig<T extends TediousModule, P extends TarnModule> {
  /** The tedious module with the `connectionFactory` that hands Kysely each logged-in connection. */
  tedious: T & { connectionFactory: () => InstanceType<T["Connection"]> };
  /** The tarn module whose `Pool` is this package's subclass (one lifecycle per pool), with the options. */
  tarn: P & { options: { min: number; max: number } & Record<string, unknown> };
  validateConnections?: boolean;
  resetConnectionsOnRelease?: boolean;
  /**
   * The token source every connection logs in with (not enumerable: Kysely never sees it). When this
   * package created it, `db.destroy()` closes it.
   */
  readonly tokenSource: TokenSource;
}

/**
 * The config of Kysely's `MssqlDialect` for Azure SQL / SQL Server with Microsoft Entra ID tokens: every
 * new physical connection logs in with a token from an `@entra-sql/core` token source (one retry with a
 * fresh token when the server refuses it), and a pooled connection is retired once it is older than
 * `maxAgeInMs` or its token is within `tokenExpiryMarginInMs` of expiry (never while in use; idle ones are
 * closed when they pass it). A statement refused with 37396 runs once more on a fresh connection outside a
 * transaction; inside one it fails with a SessionTokenExpiredError. Settings and options are validated
 * here. Use the returned config for ONE Kysely instance; to share tokens between instances, pass a
 * `tokenSource`.
 * @example
 * import { Kysely, MssqlDialect } from "kysely";
 * import * as Tarn from "tarn";
 * import * as Tedious from "tedious";
 * const db = new Kysely<Database>({
 *   dialect: new MssqlDialect(entraMssqlDialectConfig({
 *     tedious: Tedious, tarn: Tarn,
 *     server: "myserver.database.windows.net", database: "app", pool: { min: 0, max: 10 },
 *   }, { credential: "managed-identity" })),
 * });
 */
export function entraMssqlDialectConfig<T extends TediousModule, P extends TarnModule>(
  settings: EntraMssqlDialectSettings<T, P>,
  options?: EntraKyselyOptions,
): EntraMssqlDialectConfig<T, P> {
  const checked = checkDialectSettings(settings);
  // Resolved last: it may create the token source, which invalid settings must not leave behind.
  const resolved = resolveConnectionOptions<EntraKyselyEvent>(options, PACKAGE_NAME);
  try {
    requireKnownScope(resolved, checked.server);
  } catch (error) {
    if (resolved.ownsTokenSource) resolved.tokenSource.close();
    throw error;
  }
  const { Pool, connectionFactory } = createEntraPool({
    tedious: settings.tedious,
    tarn: settings.tarn,
    settings: checked,
    options: resolved,
  });
  const config: Record<string, unknown> = {
    tedious: { ...settings.tedious, connectionFactory },
    tarn: { ...settings.tarn, Pool, options: checked.pool },
  };
  if (settings.validateConnections !== undefined) config.validateConnections = settings.validateConnections;
  if (settings.resetConnectionsOnRelease !== undefined)
    config.resetConnectionsOnRelease = settings.resetConnectionsOnRelease;
  Object.defineProperty(config, "tokenSource", { value: resolved.tokenSource, enumerable: false });
  return config as unknown as EntraMssqlDialectConfig<T, P>;
}
