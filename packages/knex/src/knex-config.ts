import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { checkConnectionSettings } from "@entra-sql/driver-kit";
import { PACKAGE_NAME } from "./options.js";

const invalidOption = invalidOptionFor(PACKAGE_NAME);

// The user's Knex config, checked when the config is created: everything passes through unchanged
// except what would compete with the token (authentication settings), bypass this package (an external
// `connectionPool`), or duplicate its options (Knex's own connection lifetime settings).

const LIFETIME_POOL_KEYS = {
  maxConnectionLifetimeMillis: "maxAgeInMs",
  maxConnectionLifetimeJitterMillis: "maxAgeJitterRatio",
} as const;

/**
 * Checks the top level of the user's config; the static `connection` via {@link checkConnection}. Gives
 * its server (`undefined` for a connection provider function, checked at each login).
 */
export function checkKnexConfig(config: unknown): string | undefined {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw invalidOption(
      "config",
      describeOptionValue(config),
      'a Knex config object, e.g. { connection: { server: "myserver.database.windows.net", database: "app" } }',
    );
  }
  const given = config as Record<string, unknown>;
  if (given.client !== undefined && given.client !== "mssql") {
    throw invalidOption(
      "config.client",
      typeof given.client === "function" ? "a class" : describeOptionValue(given.client),
      '"mssql" or nothing (this package supplies the mssql client)',
    );
  }
  if (given.connectionPool !== undefined) {
    throw invalidOption(
      "config.connectionPool",
      "set",
      "no external pool: the Knex pool must create the connections, so that each logs in with a token",
    );
  }
  if (given.connection === undefined) {
    throw invalidOption(
      "config.connection",
      "missing",
      'the server to connect to, e.g. { server: "myserver.database.windows.net", database: "app" }',
    );
  }
  if (typeof given.connection === "string") {
    throw invalidOption(
      "config.connection",
      "a connection string",
      "an object ({ server, database, options }) or a function returning one",
    );
  }
  const server =
    typeof given.connection === "function"
      ? undefined
      : checkConnection(given.connection, "config.connection");
  const pool = given.pool;
  if (pool !== undefined && (typeof pool !== "object" || pool === null || Array.isArray(pool))) {
    throw invalidOption("config.pool", describeOptionValue(pool), "an object of Knex pool options");
  }
  for (const [key, instead] of Object.entries(LIFETIME_POOL_KEYS)) {
    if (pool !== undefined && Object.hasOwn(pool, key)) {
      throw invalidOption(
        `config.pool.${key}`,
        describeOptionValue((pool as Record<string, unknown>)[key]),
        `nothing: use this package's "${instead}" option (it caps the age on every Knex version, adds the token bound and closes idle connections past either)`,
      );
    }
  }
  return server;
}

/**
 * Checks connection settings (the static `connection`, or what a connection provider function
 * returned) and gives the server name. Never prints a value of an authentication key.
 */
export function checkConnection(connection: unknown, path: string): string {
  if (typeof connection !== "object" || connection === null || Array.isArray(connection)) {
    throw invalidOption(path, describeOptionValue(connection), "an object of Knex mssql connection settings");
  }
  return checkConnectionSettings(connection as Record<string, unknown>, path, PACKAGE_NAME, [
    "server",
    "host",
  ]);
}
