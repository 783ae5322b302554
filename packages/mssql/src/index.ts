// @entra-sql/mssql: node-mssql with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_CHANNEL,
  CONNECTION_OPTION_DEFAULTS as ENTRA_MSSQL_DEFAULTS,
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
export { createEntraConnectionPool, createEntraMssql, type EntraMssqlExtras } from "./entra-mssql.js";
export type { MssqlModule } from "./mssql-driver.js";
export type { EntraMssqlEvent, EntraMssqlEventType, EntraMssqlOptions } from "./options.js";
