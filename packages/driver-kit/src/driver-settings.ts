import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";

// Checks of the driver settings a user hands an adapter, shared so that every adapter refuses the same
// things the same way: authentication settings (the token source authenticates every connection) and
// tarn pool options (mssql, Knex and Kysely pool with tarn, which only says "unsupported option" once the
// first connection has logged in).

/** Settings through which tedious, mssql or Knex would authenticate some other way. */
const AUTHENTICATION_KEYS = [
  "authentication",
  "authentication_type",
  "type",
  "token",
  "credential",
  "user",
  "userName",
  "password",
  "domain",
  "clientId",
  "clientSecret",
  "tenantId",
  "msiEndpoint",
  "msiSecret",
] as const;

/**
 * Refuses any authentication setting in `settings` (at `path`, e.g. "config"), never printing its value.
 * @example refuseAuthenticationSettings(config, "config", "@entra-sql/mssql");
 */
export function refuseAuthenticationSettings(
  settings: Record<string, unknown>,
  path: string,
  packageName: string,
): void {
  for (const key of AUTHENTICATION_KEYS) {
    const value = settings[key];
    if (value === undefined || value === null || value === "") continue;
    throw invalidOptionFor(packageName)(
      `${path}.${key}`,
      "set (value not shown)",
      `nothing: ${packageName} logs every connection in with an Entra token from its token source (remove it)`,
    );
  }
}

/** tarn 3 Pool options (tarn/dist/Pool.js `allowedKeys`) a user may set; `create` and `destroy` are the adapter's. */
const TARN_KEYS = [
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

/** Checks tarn pool options at `path` (e.g. "config.pool"): known keys, sizes, times, functions. */
export function checkTarnPoolOptions(pool: unknown, path: string, packageName: string): void {
  const invalid = invalidOptionFor(packageName);
  if (pool === undefined || pool === null) return;
  if (typeof pool !== "object" || Array.isArray(pool)) {
    throw invalid(
      path,
      describeOptionValue(pool),
      "an object of pool options (min, max, idleTimeoutMillis, ...)",
    );
  }
  const given = pool as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (key === "create" || key === "destroy") {
      throw invalid(`${path}.${key}`, "set", `nothing: ${packageName} creates and destroys connections`);
    }
    if (!(TARN_KEYS as readonly string[]).includes(key)) {
      throw invalid(`${path}.${key}`, "not a pool option", `one of ${TARN_KEYS.join(", ")}`);
    }
    if (
      (key === "min" || key === "max") &&
      !(Number.isInteger(value) && (value as number) >= (key === "min" ? 0 : 1))
    ) {
      throw invalid(`${path}.${key}`, describeOptionValue(value), `an integer >= ${key === "min" ? 0 : 1}`);
    }
    if (key.endsWith("Millis") && !(typeof value === "number" && Number.isFinite(value) && value > 0)) {
      throw invalid(`${path}.${key}`, describeOptionValue(value), "a positive number of milliseconds");
    }
    if ((key === "validate" || key === "log") && typeof value !== "function") {
      throw invalid(`${path}.${key}`, describeOptionValue(value), "a function");
    }
  }
  if (typeof given.min === "number" && typeof given.max === "number" && given.min > given.max) {
    throw invalid(`${path}.min`, String(given.min), `at most ${path}.max (${given.max})`);
  }
}
