// @entra-sql/sequelize: Sequelize 6 (dialect "mssql") with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_CHANNEL,
  CONNECTION_OPTION_DEFAULTS as ENTRA_SEQUELIZE_DEFAULTS,
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
export type { EntraSequelizeEvent, EntraSequelizeEventType, EntraSequelizeOptions } from "./options.js";
export { entraTokenSourceOf, withEntraTokens } from "./with-entra-tokens.js";
