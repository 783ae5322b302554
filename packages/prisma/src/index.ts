// @entra-sql/prisma: Prisma's SQL Server driver adapter with Microsoft Entra ID tokens. Public API only.

export {
  CONNECTION_CHANNEL,
  CONNECTION_OPTION_DEFAULTS as ENTRA_PRISMA_DEFAULTS,
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
export type { EntraMssqlEvent as EntraPrismaEvent } from "@entra-sql/mssql";
export { type EntraPrismaMssql, entraPrismaMssql } from "./entra-prisma-mssql.js";
export type {
  EntraPrismaOptions,
  PrismaAdapterModules,
  PrismaMssqlConfig,
  PrismaMssqlOptions,
} from "./options.js";
