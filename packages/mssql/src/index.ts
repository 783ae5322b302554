// @entra-sql/mssql: node-mssql with Microsoft Entra ID tokens. Public API only.

// The connect-time errors are core's (shared with @entra-sql/knex); re-exported for one import.
export {
  ConnectionFailedError,
  isConnectionFailedError,
  isTokenLoginRejectedError,
  TokenLoginRejectedError,
} from "@entra-sql/core";
export { createEntraConnectionPool, createEntraMssql, type EntraMssqlExtras } from "./entra-mssql.js";
export { isSessionTokenExpiredError, SessionTokenExpiredError } from "./errors.js";
export type { EntraMssqlEvent, EntraMssqlEventType } from "./events.js";
export type { MssqlModule } from "./mssql-driver.js";
export { DEFAULTS as ENTRA_MSSQL_DEFAULTS, type EntraMssqlOptions, type TokenMode } from "./options.js";
