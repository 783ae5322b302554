import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidOptionError } from "./errors.js";
import { inspectCustom, printable, REDACTED } from "./redact.js";
import { DEFAULT_SQL_SCOPE } from "./sql-audiences.js";
import type { TokenSourceOptions } from "./token-source-options.js";

// Local development against the entra-sql repository's stand-ins (a local Entra ID and a SQL Server
// stand-in, `npm run stand-ins -- --settings-file <path>` in a clone): their settings file turned
// into what an app passes to an adapter. Core imports no database driver, so the driver settings
// are a plain object in the shape tedious, mssql and Knex take.

/** What {@link readStandInSettings} returns. Logging it is safe: the client secret prints as "[redacted]". */
export interface StandInSettings {
  /**
   * Token source options for the stand-ins' demo app (a service principal with a client secret):
   * pass them as an adapter's `tokenSource` option, or to `createTokenSource`. `identityOptions`
   * holds what a local identity provider needs: its `authorityHost`, `disableInstanceDiscovery: true`
   * (it is not Microsoft's, so there is nothing to discover) and its CA in `tlsOptions.ca`.
   */
  readonly tokenSource: StandInTokenSourceOptions;
  /**
   * The token scope, `https://database.windows.net/.default`. Pass it as the adapter's `scope`
   * option: a loopback server name says nothing about the cloud, so the adapter cannot derive it.
   */
  readonly scope: string;
  /**
   * The SQL stand-in's connection settings in the shape tedious, mssql and Knex (`connection`) take;
   * for TypeORM use `host: sql.server` and the rest as they are. TLS is verified against the
   * stand-ins' CA (`options.cryptoCredentialsDetails.ca`) under the name on their certificate
   * (`options.serverName`, "localhost"; Node refuses an IP address as the TLS server name, DEP0123).
   */
  readonly sql: StandInSqlSettings;
}

/** The `tokenSource` part of {@link StandInSettings}. */
export interface StandInTokenSourceOptions extends TokenSourceOptions {
  credential: { type: "service-principal"; tenantId: string; clientId: string; clientSecret: string };
  identityOptions: {
    authorityHost: string;
    disableInstanceDiscovery: true;
    tlsOptions: { ca: string };
  };
  scope: string;
}

/** The `sql` part of {@link StandInSettings}. */
export interface StandInSqlSettings {
  server: string;
  port: number;
  database: string;
  options: {
    encrypt: true;
    trustServerCertificate: false;
    serverName: string;
    cryptoCredentialsDetails: { ca: string };
  };
}

const HOW_TO_START =
  "start the stand-ins with `npm run stand-ins -- --settings-file <this path>` in a clone of the " +
  "entra-sql repository and keep them running (they remove the file when they stop)";

/**
 * Reads the settings file the entra-sql stand-ins write (`npm run stand-ins -- --settings-file
 * <path>`, in a clone of the repository) and returns the options an app needs to connect to them:
 * `tokenSource` and `scope` for an adapter, and `sql`, the driver's connection settings with TLS
 * verified against the stand-ins' CA. Synchronous, so it fits in a config module. A relative `path`
 * is taken from the current working directory.
 *
 * Throws InvalidOptionError naming the file and the field when the file is missing, is not JSON, or
 * lacks a setting; the client secret never appears in an error or in `util.inspect`/`JSON.stringify`
 * of the result.
 * @example
 * import { readStandInSettings } from "@entra-sql/core";
 * const local = readStandInSettings("../entra-sql/stand-ins.json");
 * // Knex: createEntraKnexConfig(knex, { connection: local.sql }, { tokenSource: local.tokenSource, scope: local.scope })
 */
export function readStandInSettings(path: string): StandInSettings {
  if (typeof path !== "string" || path.trim() === "") {
    throw new InvalidOptionError(
      "readStandInSettings(path)",
      printable(path),
      `the path of the stand-ins' settings file; ${HOW_TO_START}`,
    );
  }
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : `not readable (${code ?? "error"})`;
    throw new InvalidOptionError(
      "readStandInSettings(path)",
      `${JSON.stringify(file)} (${why})`,
      `the stand-ins' settings file: ${HOW_TO_START}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text it failed on, which may hold the secret.
    throw new InvalidOptionError(
      "readStandInSettings(path)",
      `${JSON.stringify(file)} (not valid JSON)`,
      `the JSON file the stand-ins write; ${HOW_TO_START}`,
    );
  }
  const field = fieldReader(file, parsed);
  const entra = {
    authorityHost: field("entra.authorityHost", isHttpsUrl, "an https URL, e.g. https://127.0.0.1:41234"),
    tenantId: field("entra.tenantId", isNonEmpty, "a tenant id"),
    clientId: field("entra.clientId", isNonEmpty, "a client id"),
    clientSecret: field("entra.clientSecret", isNonEmpty, "the demo app's client secret", true),
    caPem: field("entra.caPem", isCertificate, "a PEM certificate"),
  };
  const sql = {
    host: field("sql.host", isNonEmpty, "a host name or address"),
    port: field("sql.port", isPort, "a port number 1-65535"),
    database: field("sql.database", isNonEmpty, "a database name"),
    caPem: field("sql.caPem", isCertificate, "a PEM certificate"),
    serverName: field("sql.serverName", isNonEmpty, "the host name on the certificate", false, "localhost"),
    scope: field("sql.scope", isNonEmpty, "a token scope", false, DEFAULT_SQL_SCOPE),
  };
  const credential = withSecretHidden({
    type: "service-principal" as const,
    tenantId: entra.tenantId,
    clientId: entra.clientId,
    clientSecret: entra.clientSecret,
  });
  return {
    tokenSource: {
      credential,
      identityOptions: {
        authorityHost: entra.authorityHost,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: entra.caPem },
      },
      scope: sql.scope,
    },
    scope: sql.scope,
    sql: {
      server: sql.host,
      port: sql.port,
      database: sql.database,
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: sql.serverName,
        cryptoCredentialsDetails: { ca: sql.caPem },
      },
    },
  };
}

type Check<T> = (value: unknown) => value is T;

const isNonEmpty: Check<string> = (value): value is string =>
  typeof value === "string" && value.trim() !== "";
const isPort: Check<number> = (value): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
const isCertificate: Check<string> = (value): value is string =>
  typeof value === "string" && value.includes("-----BEGIN CERTIFICATE-----");
const isHttpsUrl: Check<string> = (value): value is string => {
  if (typeof value !== "string") return false;
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
};

/** Reads dotted fields of the parsed file; a missing or bad one is an InvalidOptionError naming file and field. */
function fieldReader(file: string, parsed: unknown) {
  return <T>(name: string, check: Check<T>, expected: string, secret = false, fallback?: T): T => {
    let value: unknown = parsed;
    for (const key of name.split(".")) {
      value =
        typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
    if (value === undefined && fallback !== undefined) return fallback;
    if (check(value)) return value;
    const shown =
      value === undefined ? "missing" : secret ? `${REDACTED} (not ${expected})` : printable(value);
    throw new InvalidOptionError(
      `${name} in ${file}`,
      shown,
      `${expected}; this file is not (or no longer) what the stand-ins write: ${HOW_TO_START}`,
    );
  };
}

/** The credential preset, with `util.inspect` and `JSON.stringify` showing "[redacted]" for the secret. */
function withSecretHidden<T extends { clientSecret: string }>(credential: T): T {
  const view = (): Record<string, unknown> => ({ ...credential, clientSecret: REDACTED });
  Object.defineProperty(credential, "toJSON", { value: view, enumerable: false });
  Object.defineProperty(credential, inspectCustom, { value: view, enumerable: false });
  return credential;
}
