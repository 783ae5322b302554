// @entra-sql/mssql: node-mssql with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_OPTION_DEFAULTS as ENTRA_MSSQL_DEFAULTS,
  ConnectionFailedError,
  isConnectionFailedError,
  isLoginRefusedError,
  isSessionTokenExpiredError,
  isTokenLoginRejectedError,
  LoginRefusedError,
  SessionTokenExpiredError,
  TokenLoginRejectedError,
  type TokenMode,
} from "@entra-sql/driver-kit";
export { createEntraConnectionPool, createEntraMssql, type EntraMssqlExtras } from "./entra-mssql.js";
export type { MssqlModule } from "./mssql-driver.js";
export type { EntraMssqlEvent, EntraMssqlEventType, EntraMssqlOptions } from "./options.js";
