import type { ConnectionEvent, ConnectionOptions, ResolvedConnectionOptions } from "@entra-sql/driver-kit";

// Options and events of entraMssqlDialectConfig: driver-kit's, documented, defaulted and validated there.

export const PACKAGE_NAME = "@entra-sql/kysely";

/** What the dialect's pool reports through `onEvent`: times and reasons, never a token. */
export type EntraKyselyEvent = ConnectionEvent;

export type EntraKyselyEventType = EntraKyselyEvent["type"];

/** Options of `entraMssqlDialectConfig`. Every default is in `ENTRA_KYSELY_DEFAULTS`. */
export interface EntraKyselyOptions extends ConnectionOptions<EntraKyselyEvent> {}

export type ResolvedOptions = ResolvedConnectionOptions<EntraKyselyEvent>;
