// @entra-sql/knex: Knex (client "mssql") with Microsoft Entra ID tokens. Public API only.

// The connect-time errors are core's (shared with @entra-sql/mssql); re-exported for one import.
export {
  ConnectionFailedError,
  isConnectionFailedError,
  isTokenLoginRejectedError,
  TokenLoginRejectedError,
} from "@entra-sql/core";
export {
  createEntraKnexConfig,
  type EntraKnexConfig,
  type EntraKnexUserConfig,
} from "./create-entra-knex-config.js";
export { isSessionTokenExpiredError, SessionTokenExpiredError } from "./errors.js";
export type { EntraKnexEvent, EntraKnexEventType } from "./events.js";
export type { KnexModule } from "./knex-dialect.js";
export { DEFAULTS as ENTRA_KNEX_DEFAULTS, type EntraKnexOptions, type TokenMode } from "./options.js";
