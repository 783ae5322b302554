// @entra-sql/mssql: node-mssql with Microsoft Entra ID tokens. Public API only.

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
export { createEntraConnectionPool, createEntraMssql, type EntraMssqlExtras } from "./entra-mssql.js";
export type { MssqlModule } from "./mssql-driver.js";
export {
  DEFAULTS as ENTRA_MSSQL_DEFAULTS,
  type EntraMssqlEvent,
  type EntraMssqlEventType,
  type EntraMssqlOptions,
  type TokenMode,
} from "./options.js";
