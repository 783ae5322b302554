import type { CredentialSpec, TokenSource, TokenSourceOptions } from "@entra-sql/core";
import type { EntraMssqlOptions, MssqlModule } from "@entra-sql/mssql";
import type { DataSourceOptions } from "typeorm";

// The options entraDataSourceOptions takes on top of TypeORM's own, and what it refuses.

/** TypeORM's options for `type: "mssql"` (`SqlServerDataSourceOptions` in 1.x, `SqlServerConnectionOptions` in 0.3). */
export type SqlServerDataSourceOptions = Extract<DataSourceOptions, { type: "mssql" }>;

/** TypeORM options this package sets or refuses: the token source authenticates every connection. */
export type ManagedTypeOrmKey = "type" | "driver" | "authentication" | "username" | "password" | "domain";

/** What the user may pass of TypeORM's mssql options: everything but the managed keys. */
export type TypeOrmPassThrough = Partial<Omit<SqlServerDataSourceOptions, ManagedTypeOrmKey>>;

export interface EntraTypeOrmOptions {
  /**
   * The `mssql` module to wrap (`import mssql from "mssql"`). Default: the `mssql` this package
   * resolves (the peer dependency installed next to it). Pass it when your app bundles or pins its own.
   */
  mssql?: MssqlModule;
  /**
   * Where tokens come from: a TokenSource from `@entra-sql/core` (shared with other data sources or
   * adapters; you close it), or options for `createTokenSource` (this package creates one; close it
   * with `options.driver.tokenSource.close()`). Not together with `credential`.
   * Default: `createTokenSource()`, the `"default"` credential chain.
   * @example { credential: "managed-identity", refreshWindowInMs: 30 * 60_000 }
   */
  tokenSource?: TokenSource | TokenSourceOptions;
  /**
   * Shortcut for `tokenSource: { credential }`: a preset name (`"default"`, `"cli"`,
   * `"managed-identity"`, ...), a preset object, a `TokenCredential`, or a list of those.
   * Not together with `tokenSource`. Default: `"default"`.
   * @example "managed-identity"
   */
  credential?: CredentialSpec;
  /**
   * `"inline"` (default): the token is fetched before the socket opens and sent in LOGIN7.
   * `"token-credential"`: tedious asks for the token after the server names its scope.
   * @example "token-credential"
   */
  tokenMode?: EntraMssqlOptions["tokenMode"];
  /**
   * Token scope for `"inline"` mode. Default: derived from `host` (`*.database.windows.net` and the
   * other clouds' SQL suffixes); required for any other host name.
   * @example "https://database.windows.net/.default"
   */
  scope?: string;
  /**
   * Retire a pooled connection this long after it logged in, in ms (Django's `CONN_MAX_AGE`, in
   * seconds there); `null` disables the age cap (connections still retire before their token
   * expires). Default 30 minutes.
   * @example 15 * 60_000
   */
  maxAgeInMs?: number | null;
  /** Fraction of `maxAgeInMs` subtracted at random per connection, in [0, 0.5). Default 0.025. */
  maxAgeJitterRatio?: number;
  /** Retire a connection this long before its login token expires, in ms. Default 60 s. */
  tokenExpiryMarginInMs?: number;
  /** Receives `@entra-sql/mssql` events (connections opened and retired, login retries). Default: none. */
  onEvent?: EntraMssqlOptions["onEvent"];
}

export type EntraTypeOrmKey = keyof EntraTypeOrmOptions;

export const ENTRA_KEYS: Record<EntraTypeOrmKey, true> = {
  mssql: true,
  tokenSource: true,
  credential: true,
  tokenMode: true,
  scope: true,
  maxAgeInMs: true,
  maxAgeJitterRatio: true,
  tokenExpiryMarginInMs: true,
  onEvent: true,
};

/** Keys refused at the top level and in `replication.master` / `replication.slaves[i]`, with the fix. */
export const REFUSED_KEYS: Record<Exclude<ManagedTypeOrmKey, "type">, string> = {
  driver: "no driver: this package sets it (pass your mssql module as the `mssql` option)",
  authentication: "no authentication: every connection logs in with a token from the token source",
  username: "no username: the Entra identity of the token source is the database user",
  password: "no password: the Entra identity of the token source is the database user",
  domain: "no domain: the Entra identity of the token source is the database user",
};
