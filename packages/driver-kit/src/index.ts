// @entra-sql/driver-kit: what an adapter author touches. One connection lifecycle (login with a token
// and one retry, stamps, max age, token bound, idle retirement, 37396), shared options, events and
// errors. Imports no database driver. Applications use an adapter package, or @entra-sql/core.

export { type CallbackRetrySettings, runWithOneRetry } from "./callback-retry.js";
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
  ConnectionLifecycle,
  type ConnectionLifecycleSettings,
  type LoginTarget,
  type RetryPool,
} from "./connection-lifecycle.js";
export {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimePolicy,
  type ConnectionStamp,
  type RetireReason,
} from "./connection-lifetime.js";
export {
  CONNECTION_OPTION_DEFAULTS,
  CONNECTION_OPTION_NAMES,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  type TokenMode,
} from "./connection-options.js";
export { checkConnectionSettings, requireKnownScope } from "./connection-settings.js";
export {
  CONNECTION_CHANNEL,
  type ConnectionDiagnostic,
  describeConnectionDiagnostic,
  logDiagnostics,
} from "./diagnostics.js";
export { installedVersion, requireMethods } from "./driver-internals.js";
export { checkTarnPoolOptions, refuseAuthenticationSettings } from "./driver-settings.js";
export { FreshConnections, maxTriesFor } from "./fresh-connections.js";
export {
  ConnectionFailedError,
  isConnectionFailedError,
  isLoginRefusedError,
  isTokenLoginRejectedError,
  LoginRefusedError,
  TokenLoginRejectedError,
} from "./login-errors.js";
export { PendingLogin } from "./pending-login.js";
export { type QueryRetrySettings, queryWithOneRetry } from "./query-retry.js";
export { type NodeCallback, namingRefusalEvents, namingRefusals } from "./refusal-naming.js";
export {
  isSessionTokenExpiredError,
  isUnnamedRefusal,
  nameRefusal,
  type SessionTokenExpiredDuring,
  SessionTokenExpiredError,
} from "./session-token-expired-error.js";
export { isAccessTokenExpiredOnSession, isLoginTokenRejected, isTransientLoginError } from "./sql-errors.js";
export { type StreamRetrySettings, type StreamSink, streamWithOneRetry } from "./stream-retry.js";
export { type TediousConnectionLike, watchTediousConnection } from "./tedious-connection.js";
export type { LoginAttempt, TokenAuthentication } from "./token-login.js";
