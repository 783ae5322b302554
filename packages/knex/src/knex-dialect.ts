import { describeOptionValue } from "@entra-sql/core";
import { invalidOption } from "./invalid-option.js";
import type { MssqlClientConstructor } from "./knex-internals.js";

// The Knex mssql dialect class of the Knex module the caller passes in (so each app's own Knex, 3.1
// to 3.3, is the one extended), and what that version can do natively. Detected by behaviour, not by
// version string: the two checks call the dialect's own pure config builders.

/** The `knex` function (default export of "knex"), any 3.x version. */
export type KnexModule = (config: never) => object;

export interface MssqlDialect {
  Client: MssqlClientConstructor;
  /**
   * Knex >= 3.3: `_generateConnection()` passes `connection.credential` to tedious
   * (lib/dialects/mssql/index.js: `authentication.options.credential: settings.credential`), so
   * `tokenMode: "token-credential"` works. 3.1 and 3.2 drop it.
   */
  passesCredential: boolean;
  /**
   * Knex >= 3.2: `getPoolSettings()` takes `pool.maxConnectionLifetimeMillis` and
   * `maxConnectionLifetimeJitterMillis` out of tarn's options and checks them in the pool's `validate`
   * on every acquire (lib/client.js `connectionIsOverLifetime`). 3.1 passes them to tarn as they are.
   */
  capsLifetime: boolean;
}

const REQUIRED_METHODS = [
  "acquireRawConnection",
  "_generateConnection",
  "validateConnection",
  "releaseConnection",
  "destroyRawConnection",
  "getPoolSettings",
  "_query",
  "_stream",
  "transaction",
  "_enqueueRequest",
  "_chomp",
] as const;

export function mssqlDialectOf(knex: unknown): MssqlDialect {
  if (typeof knex !== "function") {
    throw invalidOption(
      "knex",
      describeOptionValue(knex),
      'the knex module (import knex from "knex"), version 3.1 or later',
    );
  }
  // A Knex instance without `connection` creates neither a pool nor the driver: this only resolves
  // the dialect class ("client can be a Client subclass": lib/knex-builder/internal/config-resolver.js).
  const probe = (knex as (config: object) => { client?: unknown })({ client: "mssql" });
  const Client = (probe.client as { constructor?: unknown } | undefined)?.constructor;
  const proto = (typeof Client === "function" ? Client.prototype : undefined) as
    | Record<string, unknown>
    | undefined;
  const missing = REQUIRED_METHODS.filter((name) => typeof proto?.[name] !== "function");
  if (proto === undefined || missing.length > 0) {
    throw invalidOption(
      "knex",
      `a module whose mssql client lacks ${missing.join(", ") || "a class"}`,
      'the knex module (import knex from "knex"), version 3.1 to 3.3',
    );
  }
  const dialect = Client as MssqlClientConstructor;
  return { Client: dialect, passesCredential: passesCredential(proto), capsLifetime: capsLifetime(proto) };
}

function passesCredential(proto: Record<string, unknown>): boolean {
  const marker = { getToken: async () => null };
  const generate = proto._generateConnection as (this: object) => {
    authentication?: { options?: { credential?: unknown } };
  };
  try {
    const config = generate.call({
      connectionSettings: { server: "probe", type: "token-credential", credential: marker },
    });
    return config.authentication?.options?.credential === marker;
  } catch {
    return false;
  }
}

function capsLifetime(proto: Record<string, unknown>): boolean {
  const getPoolSettings = proto.getPoolSettings as (this: object, pool: object) => object;
  try {
    const tarnOptions = getPoolSettings.call(
      { config: {}, logger: { warn() {} }, poolDefaults: () => ({}) },
      { maxConnectionLifetimeMillis: 60_000 },
    );
    return !("maxConnectionLifetimeMillis" in tarnOptions);
  } catch {
    return false;
  }
}
