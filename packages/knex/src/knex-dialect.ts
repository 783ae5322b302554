import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { installedVersion, requireMethods } from "@entra-sql/driver-kit";
import type { MssqlClientConstructor } from "./knex-internals.js";
import { PACKAGE_NAME } from "./options.js";

// The mssql dialect class of the caller's own Knex (3.1 to 3.3), checked for every method this package
// overrides or calls, and whether it passes a TokenCredential to tedious: detected by behaviour (calling
// the dialect's own pure config builder), not by version string.

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
}

/** The Client methods this package overrides or calls (knex-internals.ts), by what they serve. */
const REQUIRED_METHODS = Object.values({
  connections: ["acquireRawConnection", "_generateConnection", "_driver", "validateConnection"],
  pool: ["acquireConnection", "releaseConnection", "destroyRawConnection", "destroy"],
  statements: ["_query", "_stream", "transaction", "_enqueueRequest", "_chomp"],
}).flat();

export function mssqlDialectOf(knex: unknown): MssqlDialect {
  if (typeof knex !== "function") {
    throw invalidOptionFor(PACKAGE_NAME)(
      "knex",
      describeOptionValue(knex),
      'the knex module (import knex from "knex"), version 3.1 or later',
    );
  }
  // A Knex instance without `connection` creates neither a pool nor the driver: this only resolves
  // the dialect class ("client can be a Client subclass": lib/knex-builder/internal/config-resolver.js).
  const probe = (knex as (config: object) => { client?: unknown })({ client: "mssql" });
  const Client = (probe.client as { constructor?: unknown } | undefined)?.constructor;
  const proto: Record<string, unknown> | undefined =
    typeof Client === "function" ? Client.prototype : undefined;
  requireMethods(proto, REQUIRED_METHODS, {
    packageName: PACKAGE_NAME,
    option: "knex",
    driver: `${installedVersion("knex", __filename)}, whose mssql client`,
    supported: 'the knex module (import knex from "knex"), version 3.1 to 3.3',
  });
  const dialect = Client as MssqlClientConstructor;
  return { Client: dialect, passesCredential: passesCredential(proto as Record<string, unknown>) };
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
