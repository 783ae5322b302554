// @entra-sql/kysely: Kysely's MssqlDialect (tedious + tarn) with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_CHANNEL,
  CONNECTION_OPTION_DEFAULTS as ENTRA_KYSELY_DEFAULTS,
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
export type { EntraMssqlDialectSettings } from "./dialect-settings.js";
export { type EntraMssqlDialectConfig, entraMssqlDialectConfig } from "./entra-mssql-dialect-config.js";
export type { TarnModule, TediousModule } from "./kysely-internals.js";
export type { EntraKyselyEvent, EntraKyselyEventType, EntraKyselyOptions } from "./options.js";
