import {
  CONNECTION_OPTION_DEFAULTS,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "@entra-sql/core";
import type { EntraMssqlEvent } from "./events.js";
import { PACKAGE_NAME } from "./invalid-option.js";

// Options of createEntraMssql: core's shared adapter options (documented, defaulted and validated
// there, errors under this package's name). A token source this package creates is closed with
// `entraMssql.tokenSource.close()`.

export type { TokenMode } from "@entra-sql/core";

/** Options of `createEntraMssql`. Every default is in `ENTRA_MSSQL_DEFAULTS`. */
export interface EntraMssqlOptions extends ConnectionOptions<EntraMssqlEvent> {}

export const DEFAULTS = CONNECTION_OPTION_DEFAULTS;

export type ResolvedOptions = ResolvedConnectionOptions<EntraMssqlEvent>;

/** Validates `options` (any value: it may come from untyped JavaScript) and applies the defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  return resolveConnectionOptions<EntraMssqlEvent>(options, { packageName: PACKAGE_NAME });
}
