import type { TokenSource } from "@entra-sql/core";
import { invalidOptionFor } from "@entra-sql/core/internal";
import { requireKnownScope, resolveConnectionOptions } from "@entra-sql/driver-kit";
import type { Knex } from "knex";
import { createEntraClientClass } from "./entra-mssql-client.js";
import { checkKnexConfig } from "./knex-config.js";
import { type KnexModule, mssqlDialectOf } from "./knex-dialect.js";
import { type EntraKnexEvent, type EntraKnexOptions, PACKAGE_NAME } from "./options.js";

// The one entry point: the user's Knex config in, the same out with `client` our subclass of their Knex's.

/** The user's Knex config: anything Knex takes for client "mssql" (the client itself is supplied). */
export type EntraKnexUserConfig = Omit<Knex.Config, "client"> & { client?: "mssql" };

/** What createEntraKnexConfig returns: the user's config, with the client supplied. */
export type EntraKnexConfig<C extends EntraKnexUserConfig> = Omit<C, "client"> & {
  client: typeof Knex.Client;
  /**
   * The token source every connection logs in with (not enumerable: Knex never sees it). When this
   * package created it, `knex.destroy()` closes it.
   */
  readonly tokenSource: TokenSource;
};

/**
 * The Knex config for Azure SQL / SQL Server with Microsoft Entra ID tokens: every new physical
 * connection logs in with a token from an `@entra-sql/core` token source, and a pooled connection is
 * retired once it is older than `maxAgeInMs` or its token is within `tokenExpiryMarginInMs` of expiry
 * (never while in use; idle ones are closed when they pass it). Pass your own `knex` module (3.1 to
 * 3.3); every other setting of `config` passes through unchanged. Options and config are validated here.
 * Use the returned config for ONE Knex instance; to share tokens between instances, pass a `tokenSource`.
 * @example
 * import knex from "knex";
 * const db = knex(createEntraKnexConfig(knex, {
 *   connection: { server: "myserver.database.windows.net", database: "app", options: { encrypt: true } },
 *   pool: { min: 0, max: 10 },
 * }, { credential: "managed-identity" }));
 */
export function createEntraKnexConfig<C extends EntraKnexUserConfig>(
  knex: KnexModule,
  config: C,
  options?: EntraKnexOptions,
): EntraKnexConfig<C> {
  const dialect = mssqlDialectOf(knex);
  const server = checkKnexConfig(config);
  const given = options as { tokenMode?: unknown } | undefined;
  if (given?.tokenMode === "token-credential" && !dialect.passesCredential) {
    throw invalidOptionFor(PACKAGE_NAME)(
      "tokenMode",
      '"token-credential"',
      '"inline" with this Knex: Knex passes a TokenCredential to tedious from version 3.3 (connection.credential); or upgrade Knex',
    );
  }
  // Resolved last: it may create the token source, which an invalid config must not leave behind.
  const resolved = resolveConnectionOptions<EntraKnexEvent>(options, PACKAGE_NAME);
  try {
    if (server !== undefined) requireKnownScope(resolved, server);
  } catch (error) {
    if (resolved.ownsTokenSource) resolved.tokenSource.close();
    throw error;
  }
  const Client = createEntraClientClass(dialect, resolved);
  const result = { ...config, client: Client };
  Object.defineProperty(result, "tokenSource", { value: resolved.tokenSource, enumerable: false });
  return result as unknown as EntraKnexConfig<C>;
}
