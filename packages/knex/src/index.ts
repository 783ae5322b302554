// @entra-sql/knex: Knex (client "mssql") with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_CHANNEL,
  CONNECTION_OPTION_DEFAULTS as ENTRA_KNEX_DEFAULTS,
  type ConnectionDiagnostic,
  ConnectionFailedError,
  isConnectionFailedError,
  isLoginRefusedError,
  isSessionTokenExpiredError,
  isTokenLoginRejectedError,
  LoginRefusedError,
  logDiagnostics,
  SessionTokenExpiredError,
  TokenLoginRejectedError,
  type TokenMode,
} from "@entra-sql/driver-kit";
export {
  createEntraKnexConfig,
  type EntraKnexConfig,
  type EntraKnexUserConfig,
} from "./create-entra-knex-config.js";
export type { KnexModule } from "./knex-dialect.js";
export type { EntraKnexEvent, EntraKnexEventType, EntraKnexOptions } from "./options.js";
