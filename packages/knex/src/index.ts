// @entra-sql/knex: Knex (client "mssql") with Microsoft Entra ID tokens. Public API only.

export {
  ConnectionFailedError,
  isConnectionFailedError,
  isLoginRefusedError,
  isSessionTokenExpiredError,
  isTokenLoginRejectedError,
  LoginRefusedError,
  SessionTokenExpiredError,
  TokenLoginRejectedError,
} from "@entra-sql/driver-kit";
export {
  createEntraKnexConfig,
  type EntraKnexConfig,
  type EntraKnexUserConfig,
} from "./create-entra-knex-config.js";
export type { KnexModule } from "./knex-dialect.js";
export {
  DEFAULTS as ENTRA_KNEX_DEFAULTS,
  type EntraKnexEvent,
  type EntraKnexEventType,
  type EntraKnexOptions,
  type TokenMode,
} from "./options.js";
