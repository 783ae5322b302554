import type { Counter, Histogram, Meter, ObservableGauge } from "@opentelemetry/api";

// What this package records: names, units (UCUM) and attribute keys in one place. Names follow
// OpenTelemetry's semantic conventions for database clients where one fits (db.client.connection.*,
// db.system.name, error.type); everything else is in the entra_sql.* namespace.

/** The metric names, e.g. for a View or a dashboard query. */
export const METRIC_NAMES = {
  tokenFetchDuration: "entra_sql.token.fetch.duration",
  tokenFetches: "entra_sql.token.fetches",
  tokenFetchFailures: "entra_sql.token.fetch.failures",
  tokenSourceFailures: "entra_sql.token.source.failures",
  tokenRemainingValidity: "entra_sql.token.remaining_validity",
  connectionCreateTime: "db.client.connection.create_time",
  connectionRetirements: "entra_sql.connection.retirements",
  connectionAge: "entra_sql.connection.age",
  statementRetries: "entra_sql.statement.retries",
  loginRetries: "entra_sql.login.retries",
} as const;

/** The attribute keys. Values are low-cardinality: no token, no error message, no server name. */
export const ATTRIBUTE_NAMES = {
  /** Always "microsoft.sql_server" on connection metrics (semantic conventions). */
  dbSystemName: "db.system.name",
  /** An error's `name`, e.g. "CredentialUnavailableError" (semantic conventions). */
  errorType: "error.type",
  /** The adapter package that published the event, e.g. "@entra-sql/knex". */
  adapter: "entra_sql.adapter",
  /** The credential that produced (or failed to produce) a token, e.g. "ManagedIdentityCredential". */
  tokenSource: "entra_sql.token.source",
  /** The scope a token is for, e.g. "https://database.windows.net/.default". */
  tokenScope: "entra_sql.token.scope",
  /** "acquired" or "failed". */
  fetchOutcome: "entra_sql.token.fetch.outcome",
  /** Why a token was fetched: "cold", "refresh", "expired" or "invalidated". */
  fetchReason: "entra_sql.token.fetch.reason",
  /** "acquire" (a caller waited for it) or "refresh" (in the background, the current token still valid). */
  fetchKind: "entra_sql.token.fetch.kind",
  /** How a credential source failed: "unavailable", "authentication" or "transient". */
  sourceFailureKind: "entra_sql.token.source.failure_kind",
  /** "inline" or "token-credential". */
  tokenMode: "entra_sql.connection.token_mode",
  /** "max-age", "token-expiry" or "session-token-expired". */
  retireReason: "entra_sql.connection.retire_reason",
  /** A statement's or a login's retry reason: "session-token-expired"; "expired" or "rejected". */
  retryReason: "entra_sql.retry.reason",
} as const;

export const DB_SYSTEM_NAME = "microsoft.sql_server";

/** The instruments, made once per instrumentation. */
export interface Instruments {
  tokenFetchDuration: Histogram;
  tokenFetches: Counter;
  tokenFetchFailures: Counter;
  tokenSourceFailures: Counter;
  tokenRemainingValidity: ObservableGauge;
  connectionCreateTime: Histogram;
  connectionRetirements: Counter;
  connectionAge: Histogram;
  statementRetries: Counter;
  loginRetries: Counter;
}

/** Durations of a request or a login: the semantic conventions' advice for seconds. */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Connection ages: seconds to a day (max ages are minutes to hours). */
const AGE_BUCKETS_S = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 2700, 3600, 7200, 14_400, 86_400];

export function createInstruments(meter: Meter): Instruments {
  const names = METRIC_NAMES;
  const counter = (name: string, unit: string, description: string) =>
    meter.createCounter(name, { description, unit });
  const histogram = (name: string, buckets: number[], description: string) =>
    meter.createHistogram(name, { description, unit: "s", advice: { explicitBucketBoundaries: buckets } });
  return {
    tokenFetchDuration: histogram(
      names.tokenFetchDuration,
      DURATION_BUCKETS_S,
      "How long a token fetch took, until a token or a failure.",
    ),
    tokenFetches: counter(
      names.tokenFetches,
      "{token}",
      "Tokens fetched from a credential source (cache hits are not fetches).",
    ),
    tokenFetchFailures: counter(
      names.tokenFetchFailures,
      "{fetch}",
      "Token fetches that ended without a token, waited for or in the background.",
    ),
    tokenSourceFailures: counter(
      names.tokenSourceFailures,
      "{failure}",
      "Failures of one credential source of the chain (the chain may still succeed).",
    ),
    tokenRemainingValidity: meter.createObservableGauge(names.tokenRemainingValidity, {
      description: "Seconds until the latest token fetched for the scope expires (negative once it has).",
      unit: "s",
    }),
    connectionCreateTime: histogram(
      names.connectionCreateTime,
      DURATION_BUCKETS_S,
      "The time it took to create a new connection: its token plus the login.",
    ),
    connectionRetirements: counter(
      names.connectionRetirements,
      "{connection}",
      "Connections retired by the lifetime policy or after a 37396 refusal.",
    ),
    connectionAge: histogram(names.connectionAge, AGE_BUCKETS_S, "A connection's age when it was retired."),
    statementRetries: counter(
      names.statementRetries,
      "{statement}",
      "Statements refused with error 37396 and run again on a fresh connection.",
    ),
    loginRetries: counter(
      names.loginRetries,
      "{login}",
      "Logins refused for their token and retried once with a fresh token.",
    ),
  };
}
