import type { ConnectionEvent, ConnectionOptions, ResolvedConnectionOptions } from "@entra-sql/driver-kit";

// Options and events of createEntraMssql: driver-kit's, documented, defaulted and validated there.

export const PACKAGE_NAME = "@entra-sql/mssql";

/** What the pools report through `onEvent`: times and reasons, never a token. */
export type EntraMssqlEvent = ConnectionEvent<{
  /** `begin`: a refused BEGIN TRANSACTION; `prepare`: a refused `PreparedStatement.prepare()` on the pool. */
  method: "query" | "batch" | "execute" | "bulk" | "begin" | "prepare";
}>;

export type EntraMssqlEventType = EntraMssqlEvent["type"];

/** Options of `createEntraMssql`. Every default is in `ENTRA_MSSQL_DEFAULTS`. */
export interface EntraMssqlOptions extends ConnectionOptions<EntraMssqlEvent> {}

export type ResolvedOptions = ResolvedConnectionOptions<EntraMssqlEvent>;
