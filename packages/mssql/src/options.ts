import {
  CONNECTION_OPTION_DEFAULTS,
  type ConnectionEvent,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "@entra-sql/driver-kit";

// Options and events of createEntraMssql: the adapter options every @entra-sql adapter takes
// (documented, defaulted and validated in @entra-sql/driver-kit; errors under this package's name).
// A token source this package creates is closed with `entraMssql.tokenSource.close()`.

export const PACKAGE_NAME = "@entra-sql/mssql";

export type { TokenMode } from "@entra-sql/driver-kit";

/** What the pools report through `onEvent`: times and reasons, never a token. */
export type EntraMssqlEvent = ConnectionEvent<{
  /** `begin`: a refused BEGIN TRANSACTION; `prepare`: a refused `PreparedStatement.prepare()` on the pool. */
  method: "query" | "batch" | "execute" | "bulk" | "begin" | "prepare";
}>;

export type EntraMssqlEventType = EntraMssqlEvent["type"];

/** Options of `createEntraMssql`. Every default is in `ENTRA_MSSQL_DEFAULTS`. */
export interface EntraMssqlOptions extends ConnectionOptions<EntraMssqlEvent> {}

export const DEFAULTS = CONNECTION_OPTION_DEFAULTS;

export type ResolvedOptions = ResolvedConnectionOptions<EntraMssqlEvent>;

/** Validates `options` (any value: it may come from untyped JavaScript) and applies the defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  return resolveConnectionOptions<EntraMssqlEvent>(options, PACKAGE_NAME);
}
