import {
  CONNECTION_OPTION_DEFAULTS,
  type ConnectionEvent,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "@entra-sql/driver-kit";

// Options and events of createEntraKnexConfig: the adapter options every @entra-sql adapter takes
// (documented, defaulted and validated in @entra-sql/driver-kit; errors under this package's name).
// A token source this package creates is closed in `knex.destroy()`. `tokenMode: "token-credential"`
// needs Knex >= 3.3 (checked in create-entra-knex-config.ts).

export const PACKAGE_NAME = "@entra-sql/knex";

export type { TokenMode } from "@entra-sql/driver-kit";

/** What the Knex client reports through `onEvent`: times and reasons, never a token. */
export type EntraKnexEvent = ConnectionEvent;

export type EntraKnexEventType = EntraKnexEvent["type"];

/** Options of `createEntraKnexConfig`. Every default is in `ENTRA_KNEX_DEFAULTS`. */
export interface EntraKnexOptions extends ConnectionOptions<EntraKnexEvent> {}

export const DEFAULTS = CONNECTION_OPTION_DEFAULTS;

export type ResolvedOptions = ResolvedConnectionOptions<EntraKnexEvent>;

/** Validates `options` (any value: it may come from untyped JavaScript) and applies the defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  return resolveConnectionOptions<EntraKnexEvent>(options, PACKAGE_NAME);
}
