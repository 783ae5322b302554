import type { ConnectionEvent, ConnectionOptions, ResolvedConnectionOptions } from "@entra-sql/driver-kit";

// Options and events of createEntraKnexConfig: driver-kit's, documented, defaulted and validated there.

export const PACKAGE_NAME = "@entra-sql/knex";

/** What the Knex client reports through `onEvent`: times and reasons, never a token. */
export type EntraKnexEvent = ConnectionEvent;

export type EntraKnexEventType = EntraKnexEvent["type"];

/** Options of `createEntraKnexConfig`. Every default is in `ENTRA_KNEX_DEFAULTS`. */
export interface EntraKnexOptions extends ConnectionOptions<EntraKnexEvent> {}

export type ResolvedOptions = ResolvedConnectionOptions<EntraKnexEvent>;
