// @entra-sql/core: an always-fresh Entra ID token for SQL connections. Public API only; the cycler,
// the chain internals, the token source's event emitter and the redaction helpers stay internal.

export {
  type ConnectionEvent,
  type ConnectionOpenedEvent,
  type ConnectionRetiredEvent,
  type Emit,
  type LoginRetriedEvent,
  type StatementRetriedEvent,
  safeEmitter,
} from "./connection-events.js";
export {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimeOptions,
  type ConnectionLifetimePolicy,
  type ConnectionStamp,
  createConnectionLifetimePolicy,
  type RetireReason,
} from "./connection-lifetime.js";
export {
  CONNECTION_OPTION_DEFAULTS,
  type ConnectionOptions,
  type CredentialShortcutOption,
  type ResolveConnectionOptionsSettings,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  type TokenMode,
} from "./connection-options.js";
export type {
  CredentialPreset,
  CredentialPresetName,
  CredentialSource,
  CredentialSpec,
} from "./credential-spec.js";
export {
  describeOptionValue,
  EntraSqlError,
  InvalidOptionError,
  invalidOptionFor,
  isEntraSqlError,
  isInvalidOptionError,
  isScopeNotAllowedError,
  isTokenAcquisitionError,
  isUnknownSqlHostError,
  ScopeNotAllowedError,
  type SourceFailure,
  TokenAcquisitionError,
  UnknownSqlHostError,
} from "./errors.js";
export type {
  EventError,
  LogEntry,
  Logger,
  LogLevel,
  TokenSourceEvent,
  TokenSourceEventOf,
  TokenSourceEventType,
  TokenSourceListener,
} from "./events.js";
export {
  ConnectionFailedError,
  isConnectionFailedError,
  isTokenLoginRejectedError,
  mostTellingMessage,
  readableConnectError,
  TokenLoginRejectedError,
} from "./login-errors.js";
export { createScopeGuard, type ScopeGuard, SQL_SCOPES } from "./scope-guard.js";
export { isSessionTokenExpiredError, SessionTokenExpiredError } from "./session-token-expired-error.js";
export {
  ACCESS_TOKEN_EXPIRED_ON_SESSION,
  isAccessTokenExpiredOnSession,
  isLoginTokenRejected,
  isTransientLoginError,
  LOGIN_FAILED,
  TRANSIENT_LOGIN_ERROR_NUMBERS,
} from "./sql-errors.js";
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
  type LoginToken,
  loginWithFreshTokenRetry,
  type TokenAuthentication,
  type TokenLoginSettings,
} from "./token-login.js";
export {
  createTokenSource,
  type InvalidateOptions,
  type TokenDetails,
  type TokenSource,
  type TokenSourceSummary,
} from "./token-source.js";
export {
  DEFAULT_SQL_SCOPE,
  DEFAULTS as TOKEN_SOURCE_DEFAULTS,
  type TokenSourceOptions,
} from "./token-source-options.js";
