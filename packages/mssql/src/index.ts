// @entra-sql/mssql: node-mssql with Microsoft Entra ID tokens. Public API only.

export { createEntraConnectionPool, createEntraMssql, type EntraMssqlExtras } from "./entra-mssql.js";
export {
  ConnectionFailedError,
  isConnectionFailedError,
  isSessionTokenExpiredError,
  isTokenLoginRejectedError,
  SessionTokenExpiredError,
  TokenLoginRejectedError,
} from "./errors.js";
export type { EntraMssqlEvent, EntraMssqlEventType } from "./events.js";
export type { MssqlModule } from "./mssql-driver.js";
export { DEFAULTS as ENTRA_MSSQL_DEFAULTS, type EntraMssqlOptions, type TokenMode } from "./options.js";
