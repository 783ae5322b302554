import type { ConnectionEvent, ConnectionOptions, ResolvedConnectionOptions } from "@entra-sql/driver-kit";

// Options and events of withEntraTokens: driver-kit's, documented, defaulted and validated there.

export const PACKAGE_NAME = "@entra-sql/sequelize";

/** What the Sequelize glue reports through `onEvent`: times and reasons, never a token. */
export type EntraSequelizeEvent = ConnectionEvent;

export type EntraSequelizeEventType = EntraSequelizeEvent["type"];

/** Options of `withEntraTokens`. Every default is in `ENTRA_SEQUELIZE_DEFAULTS`. */
export interface EntraSequelizeOptions extends ConnectionOptions<EntraSequelizeEvent> {}

export type ResolvedOptions = ResolvedConnectionOptions<EntraSequelizeEvent>;
