// @entra-sql/core: an always-fresh Microsoft Entra ID token for SQL connections: what an application
// touches. Adapter authors build on @entra-sql/driver-kit instead.

export type {
  CredentialPreset,
  CredentialPresetName,
  CredentialSource,
  CredentialSpec,
} from "./credential-spec.js";
export {
  EntraSqlError,
  InvalidOptionError,
  isEntraSqlError,
  isInvalidOptionError,
  isScopeNotAllowedError,
  isTokenAcquisitionError,
  isUnknownSqlHostError,
  ScopeNotAllowedError,
  type SourceFailure,
  type SourceFailureKind,
  TokenAcquisitionError,
  UnknownSqlHostError,
} from "./errors.js";
export { describeDiagnostic } from "./event-emitter.js";
export {
  type EventError,
  type LogEntry,
  type Logger,
  type LogLevel,
  TOKEN_SOURCE_CHANNEL,
  type TokenSourceDiagnostic,
  type TokenSourceEvent,
  type TokenSourceEventOf,
  type TokenSourceEventType,
  type TokenSourceListener,
} from "./events.js";
export {
  readStandInSettings,
  type StandInSettings,
  type StandInSqlSettings,
  type StandInTokenSourceOptions,
} from "./local-settings.js";
export { DEFAULT_SQL_SCOPE, SQL_SCOPES } from "./sql-audiences.js";
export { resolveScope, scopeForServer } from "./sql-scope.js";
export {
  type CreateUserStatementOptions,
  createUserStatement,
  describeToken,
  isMalformedAccessTokenError,
  MalformedAccessTokenError,
  type PrincipalKind,
  type TokenIdentity,
} from "./token-identity.js";
export {
  createTokenSource,
  type InvalidateOptions,
  type TokenDetails,
  type TokenSource,
  type TokenSourceSummary,
} from "./token-source.js";
export { DEFAULTS as TOKEN_SOURCE_DEFAULTS, type TokenSourceOptions } from "./token-source-options.js";
