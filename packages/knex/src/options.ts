import {
  CONNECTION_OPTION_DEFAULTS,
  type ConnectionOptions,
  type CredentialShortcutOption,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "@entra-sql/core";
import type { EntraKnexEvent } from "./events.js";
import { PACKAGE_NAME } from "./invalid-option.js";

// Options of createEntraKnexConfig: core's shared adapter options, the same names and defaults as
// @entra-sql/mssql, plus the `credential` shortcut (documented, defaulted and validated in core, errors
// under this package's name). A token source this package creates is closed in `knex.destroy()`.
// `tokenMode: "token-credential"` needs Knex >= 3.3 (checked in create-entra-knex-config.ts);
// test/bench/knex-token-mode.ts measures the two modes.

export type { TokenMode } from "@entra-sql/core";

/** Options of `createEntraKnexConfig`. Every default is in `ENTRA_KNEX_DEFAULTS`. */
export interface EntraKnexOptions extends CredentialShortcutOption, ConnectionOptions<EntraKnexEvent> {}

export const DEFAULTS = CONNECTION_OPTION_DEFAULTS;

export type ResolvedOptions = ResolvedConnectionOptions<EntraKnexEvent>;

/**
 * Validates `options` (any value: it may come from untyped JavaScript) and applies the defaults.
 * Creates the token source last, so an invalid option never leaves one behind.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  return resolveConnectionOptions<EntraKnexEvent>(options, {
    packageName: PACKAGE_NAME,
    credentialShortcut: true,
  });
}
