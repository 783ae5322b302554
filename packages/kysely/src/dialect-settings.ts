import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import {
  checkConnectionSettings,
  checkTarnPoolOptions,
  installedVersion,
  refuseAuthenticationSettings,
  requireMethods,
} from "@entra-sql/driver-kit";
import {
  TARN_POOL_METHODS,
  type TarnModule,
  TEDIOUS_CONNECTION_METHODS,
  type TediousModule,
} from "./kysely-internals.js";
import { PACKAGE_NAME } from "./options.js";

const invalidOption = invalidOptionFor(PACKAGE_NAME);

// The settings of entraMssqlDialectConfig, checked when it is called: the tedious and tarn modules (every
// method this package or Kysely calls on them), where to connect, and tarn pool options. Nothing of an
// authentication setting is ever printed.

/** What `entraMssqlDialectConfig` takes besides the options. */
export interface EntraMssqlDialectSettings<T extends TediousModule, P extends TarnModule> {
  /** The tedious module: `import * as Tedious from "tedious"` (19.2 or 20). */
  tedious: T;
  /** The tarn module: `import * as Tarn from "tarn"` (3). */
  tarn: P;
  /** The SQL server host name, e.g. "myserver.database.windows.net". */
  server: string;
  /** The database (tedious `options.database`). */
  database?: string;
  /** The port (tedious `options.port`, default 1433). */
  port?: number;
  /** tedious connection options (`encrypt`, `connectTimeout`, ...), without authentication. */
  options?: Record<string, unknown>;
  /**
   * tarn pool options (`min`, `max`, `idleTimeoutMillis`, ...); default `{ min: 0, max: 10,
   * propagateCreateError: true }` (a refused login fails the waiting query at once, with its named error).
   */
  pool?: Record<string, unknown>;
  /** Kysely >= 0.28: run `select 1` when a pooled connection is handed out (Kysely's default: true). */
  validateConnections?: boolean;
  /** Kysely >= 0.28: reset the session (sp_reset_connection) on release (Kysely's default: false). */
  resetConnectionsOnRelease?: boolean;
}

const SETTING_KEYS = [
  "tedious",
  "tarn",
  "server",
  "database",
  "port",
  "options",
  "pool",
  "validateConnections",
  "resetConnectionsOnRelease",
];

export interface CheckedSettings {
  server: string;
  database: string | undefined;
  /** tedious `options`, with `database` and `port` folded in. */
  tediousOptions: Record<string, unknown>;
  pool: Record<string, unknown>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function checkDialectSettings(settings: unknown): CheckedSettings {
  if (!isRecord(settings)) {
    throw invalidOption(
      "settings",
      describeOptionValue(settings),
      '{ tedious, tarn, server, database, options, pool }, e.g. { tedious: Tedious, tarn: Tarn, server: "myserver.database.windows.net", database: "app" }',
    );
  }
  refuseAuthenticationSettings(settings, "settings", PACKAGE_NAME);
  for (const key of Object.keys(settings)) {
    if (!SETTING_KEYS.includes(key)) {
      throw invalidOption(`settings.${key}`, "not a known setting", `one of ${SETTING_KEYS.join(", ")}`);
    }
  }
  checkTedious(settings.tedious);
  checkTarn(settings.tarn);
  const server = checkConnectionSettings(settings, "settings", PACKAGE_NAME);
  const options = settings.options ?? {};
  if (!isRecord(options)) {
    throw invalidOption(
      "settings.options",
      describeOptionValue(options),
      "an object of tedious connection options",
    );
  }
  refuseAuthenticationSettings(options, "settings.options", PACKAGE_NAME);
  const tediousOptions: Record<string, unknown> = { ...options };
  for (const key of ["database", "port"] as const) {
    const value = settings[key];
    if (value === undefined) continue;
    if (key === "database" && (typeof value !== "string" || value === "")) {
      throw invalidOption("settings.database", describeOptionValue(value), "a database name");
    }
    if (key === "port" && !(Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536)) {
      throw invalidOption("settings.port", describeOptionValue(value), "a TCP port number");
    }
    if (tediousOptions[key] !== undefined && tediousOptions[key] !== value) {
      throw invalidOption(
        `settings.options.${key}`,
        describeOptionValue(tediousOptions[key]),
        `nothing: settings.${key} is set`,
      );
    }
    tediousOptions[key] = value;
  }
  if (settings.pool !== undefined && isRecord(settings.pool) && settings.pool.validate !== undefined) {
    throw invalidOption(
      "settings.pool.validate",
      "set",
      "nothing: Kysely sets the pool's validate (its `select 1`, see validateConnections) and this package adds the age and token checks",
    );
  }
  checkTarnPoolOptions(settings.pool, "settings.pool", PACKAGE_NAME);
  for (const key of ["validateConnections", "resetConnectionsOnRelease"] as const) {
    const value = settings[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw invalidOption(`settings.${key}`, describeOptionValue(value), "true or false");
    }
  }
  const database = typeof tediousOptions.database === "string" ? tediousOptions.database : undefined;
  // propagateCreateError (tarn's default: false): a refused login fails the waiting query at once, with
  // the named error, instead of being retried until acquireTimeoutMillis.
  const pool = {
    min: 0,
    max: 10,
    propagateCreateError: true,
    ...(settings.pool as Record<string, unknown> | undefined),
  };
  if ((pool.min as number) > (pool.max as number)) {
    throw invalidOption("settings.pool.min", String(pool.min), `at most settings.pool.max (${pool.max})`);
  }
  return { server, database, tediousOptions, pool };
}

/**
 * `requireMethods`, with the installed version looked up only when something is missing: the lookup loads
 * a package.json, and the module checked may not be the one installed beside this package.
 */
function requireAll(
  target: unknown,
  methods: readonly string[],
  option: string,
  driver: () => string,
  supported: string,
): void {
  const record =
    (typeof target === "object" || typeof target === "function") && target !== null ? target : {};
  if (methods.every((name) => typeof (record as Record<string, unknown>)[name] === "function")) return;
  requireMethods(target, methods, { packageName: PACKAGE_NAME, option, driver: driver(), supported });
}

function checkTedious(tedious: unknown): void {
  const supported = 'the tedious module (import * as Tedious from "tedious"), version 19.2 or 20';
  const version = () => installedVersion("tedious", __filename);
  requireAll(tedious, ["Connection", "Request"], "settings.tedious", version, supported);
  const module = tedious as Record<string, unknown>;
  for (const key of ["TYPES", "ISOLATION_LEVEL"]) {
    if (!isRecord(module[key])) {
      throw invalidOption("settings.tedious", `${version()}, which lacks ${key}`, supported);
    }
  }
  requireAll(
    (module.Connection as { prototype?: unknown }).prototype,
    TEDIOUS_CONNECTION_METHODS,
    "settings.tedious",
    () => `${version()}, whose Connection`,
    supported,
  );
}

function checkTarn(tarn: unknown): void {
  const supported = 'the tarn module (import * as Tarn from "tarn"), version 3';
  const version = () => installedVersion("tarn", __filename);
  requireAll(tarn, ["Pool"], "settings.tarn", version, supported);
  requireAll(
    (tarn as { Pool: { prototype?: unknown } }).Pool.prototype,
    TARN_POOL_METHODS,
    "settings.tarn",
    () => `${version()}, whose Pool`,
    supported,
  );
}
