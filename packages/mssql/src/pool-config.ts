import { describeOptionValue as describeValue, invalidOptionFor } from "@entra-sql/core/internal";
import type { TediousConnection } from "./mssql-driver.js";
import { PACKAGE_NAME } from "./options.js";

const invalidOption = invalidOptionFor(PACKAGE_NAME);

// The parts of an mssql config this package checks when a pool is created. tarn (mssql's pool)
// rejects unknown `pool` keys only when the first connection has logged in, with "Tarn: unsupported
// option opt.x"; here they fail at `new ConnectionPool(config)`. Authentication belongs to the token
// source, so settings that would compete with it are refused rather than silently overridden.

/** tarn 3 Pool options (tarn/dist/Pool.js `allowedKeys`), minus the ones mssql and this package own. */
const POOL_KEYS = [
  "min",
  "max",
  "acquireTimeoutMillis",
  "createTimeoutMillis",
  "destroyTimeoutMillis",
  "idleTimeoutMillis",
  "reapIntervalMillis",
  "createRetryIntervalMillis",
  "propagateCreateError",
  "log",
  "validate",
] as const;
const OWNED_POOL_KEYS = ["create", "destroy"];
const TIME_KEYS = POOL_KEYS.filter((key) => key.endsWith("Millis"));

/** Config fields through which mssql would authenticate some other way. */
const AUTHENTICATION_KEYS = [
  "authentication",
  "authentication_type",
  "user",
  "password",
  "domain",
  "token",
  "clientId",
  "clientSecret",
  "tenantId",
  "msiEndpoint",
  "msiSecret",
] as const;

export type PoolValidate = (connection: unknown) => boolean | Promise<boolean>;
type BeforeConnect = (connection: TediousConnection) => void;

/**
 * Checks `config` (after mssql parsed a connection string, if it was one) and takes out the user's
 * `pool.validate` and `beforeConnect`, which the pool composes with its own hooks.
 */
export function checkPoolConfig(config: Record<string, unknown>): {
  validate: PoolValidate | undefined;
  beforeConnect: BeforeConnect | undefined;
} {
  if (typeof config.server !== "string" || config.server.trim() === "") {
    throw invalidOption(
      "config.server",
      describeValue(config.server),
      'the SQL server host, e.g. "myserver.database.windows.net"',
    );
  }
  for (const key of AUTHENTICATION_KEYS) {
    const value = config[key];
    if (value === undefined || value === null || value === "") continue;
    throw invalidOption(
      `config.${key}`,
      key === "authentication" || key === "authentication_type" ? describeValue(value) : "set",
      "nothing: @entra-sql/mssql logs every connection in with a token from its token source (remove it)",
    );
  }
  const beforeConnect = config.beforeConnect as BeforeConnect | undefined;
  if (beforeConnect !== undefined && typeof beforeConnect !== "function") {
    throw invalidOption("config.beforeConnect", describeValue(beforeConnect), "a function");
  }
  const pool = config.pool;
  if (pool === undefined || pool === null) return { validate: undefined, beforeConnect };
  if (typeof pool !== "object" || Array.isArray(pool)) {
    throw invalidOption(
      "config.pool",
      describeValue(pool),
      "an object of pool options (min, max, idleTimeoutMillis, ...)",
    );
  }
  const given = pool as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (given[key] === undefined) continue;
    if (OWNED_POOL_KEYS.includes(key)) {
      throw invalidOption(
        `config.pool.${key}`,
        "set",
        "nothing: mssql and @entra-sql/mssql create and destroy connections",
      );
    }
    if (!(POOL_KEYS as readonly string[]).includes(key)) {
      throw invalidOption(`config.pool.${key}`, "not a pool option", `one of ${POOL_KEYS.join(", ")}`);
    }
  }
  for (const key of ["min", "max"] as const) {
    const value = given[key];
    if (value === undefined) continue;
    const least = key === "min" ? 0 : 1;
    if (typeof value !== "number" || !Number.isInteger(value) || value < least) {
      throw invalidOption(`config.pool.${key}`, describeValue(value), `an integer >= ${least}`);
    }
  }
  if (typeof given.min === "number" && typeof given.max === "number" && given.min > given.max) {
    throw invalidOption("config.pool.min", String(given.min), `at most pool.max (${given.max})`);
  }
  for (const key of TIME_KEYS) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw invalidOption(`config.pool.${key}`, describeValue(value), "a positive number of milliseconds");
    }
  }
  for (const key of ["validate", "log"] as const) {
    if (given[key] !== undefined && typeof given[key] !== "function") {
      throw invalidOption(`config.pool.${key}`, describeValue(given[key]), "a function");
    }
  }
  const validate = given.validate as PoolValidate | undefined;
  // Taken out so that mssql's tarn options keep `validate: this._poolValidate`, which composes it.
  if (validate !== undefined) {
    const { validate: _taken, ...rest } = given;
    config.pool = rest;
  }
  return { validate, beforeConnect };
}
