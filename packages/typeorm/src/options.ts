import type { CredentialPreset, TokenSourceOptions } from "@entra-sql/core";
import type { EntraMssqlOptions, MssqlModule } from "@entra-sql/mssql";
import type { DataSourceOptions } from "typeorm";

// The options entraDataSourceOptions takes on top of TypeORM's own, and what it refuses.

/** TypeORM's options for `type: "mssql"` (`SqlServerDataSourceOptions` in 1.x, `SqlServerConnectionOptions` in 0.3). */
export type SqlServerDataSourceOptions = Extract<DataSourceOptions, { type: "mssql" }>;

/** TypeORM options this package sets or refuses: the token source authenticates every connection. */
export type ManagedTypeOrmKey = "type" | "driver" | "authentication" | "username" | "password" | "domain";

/** What the user may pass of TypeORM's mssql options: everything but the managed keys. */
export type TypeOrmPassThrough = Partial<Omit<SqlServerDataSourceOptions, ManagedTypeOrmKey>>;

/**
 * This package's options: @entra-sql/mssql's (the shared adapter options: `credential` and
 * `identityOptions`, shortcuts for `tokenSource: { credential, identityOptions }` and not together with
 * `tokenSource`; `tokenSource`, `tokenMode`, `scope`, `maxAgeInMs`, `maxAgeJitterRatio`,
 * `tokenExpiryMarginInMs`, `onEvent`), and the `mssql` module. A token source this package creates is
 * closed with `options.driver.tokenSource.close()`.
 */
export interface EntraTypeOrmOptions extends EntraMssqlOptions {
  /**
   * The `mssql` module to wrap (`import mssql from "mssql"`). Default: the `mssql` this package
   * resolves (the peer dependency installed next to it). Pass it when your app bundles or pins its own.
   */
  mssql?: MssqlModule;
}

export type EntraTypeOrmKey = keyof EntraTypeOrmOptions;

export const ENTRA_KEYS: Record<EntraTypeOrmKey, true> = {
  mssql: true,
  tokenSource: true,
  credential: true,
  identityOptions: true,
  tokenMode: true,
  scope: true,
  maxAgeInMs: true,
  maxAgeJitterRatio: true,
  tokenExpiryMarginInMs: true,
  onEvent: true,
};

/** The shortcuts that become token source options: `tokenSource: { credential, identityOptions }`. */
export const SHORTCUT_KEYS = ["credential", "identityOptions"] as const satisfies readonly EntraTypeOrmKey[];

/**
 * Token source options that are not this package's own: at the top level they are misplaced, since
 * they belong inside `tokenSource: { ... }`. (A record over core's options, so that a new one fails to
 * compile until it is sorted here.) `logger` at the top level is TypeORM's own option, and passes.
 */
export const TOKEN_SOURCE_ONLY_KEYS: Record<Exclude<keyof TokenSourceOptions, EntraTypeOrmKey>, true> = {
  allowedScopes: true,
  refreshWindowInMs: true,
  minimumValidityInMs: true,
  retryInitialDelayInMs: true,
  retryMaxDelayInMs: true,
  logger: true,
};

type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/**
 * Fields of the credential presets (`{ type: "service-principal", tenantId, ... }`), misplaced at the top
 * level, each with a preset that takes it (for the fix in the error).
 */
export const CREDENTIAL_PRESET_FIELDS: Record<
  Exclude<KeysOfUnion<CredentialPreset>, "type">,
  CredentialPreset["type"]
> = {
  tenantId: "service-principal",
  clientId: "service-principal",
  clientSecret: "service-principal",
  certificatePath: "service-principal",
  certificatePem: "service-principal",
  managedIdentityClientId: "default",
  resourceId: "managed-identity",
  tokenFilePath: "workload-identity",
};

/** Keys refused at the top level and in `replication.master` / `replication.slaves[i]`, with the fix. */
export const REFUSED_KEYS: Record<Exclude<ManagedTypeOrmKey, "type">, string> = {
  driver: "no driver: this package sets it (pass your mssql module as the `mssql` option)",
  authentication: "no authentication: every connection logs in with a token from the token source",
  username: "no username: the Entra identity of the token source is the database user",
  password: "no password: the Entra identity of the token source is the database user",
  domain: "no domain: the Entra identity of the token source is the database user",
};
