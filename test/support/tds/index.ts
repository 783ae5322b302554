// The SQL endpoint stand-in: a TDS server that authenticates like Azure SQL Database.

export { ACCESS_TOKEN_EXPIRED, TOKEN_PRINCIPAL } from "./azure-errors.js";
export type { CreateUserInput, DatabaseUser, ResolvePrincipalName } from "./database-users.js";
export type { SessionCloseReason, StandInEvent, StandInEventHandler } from "./events.js";
export type { FirewallRules, SqlStandInOptions } from "./options.js";
export type {
  AuthMode,
  ClosedSessionInfo,
  EncryptionMode,
  LoginFailureReason,
  LoginRecord,
  RecordedPrincipal,
  SessionInfo,
  StandInCounters,
} from "./records.js";
export type { ConnectionConfigOptions, LoginHold } from "./sql-stand-in.js";
export { SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
export type { TokenFailureReason, TokenPrincipal, TokenVerificationOptions } from "./token-verifier.js";
export { AZURE_SQL_AUDIENCES, DEFAULT_CLOCK_SKEW_SECONDS } from "./token-verifier.js";
