import type { TokenSourceDiagnostic } from "@entra-sql/core";
import type { ConnectionDiagnostic } from "@entra-sql/driver-kit";
import type { Attributes } from "@opentelemetry/api";
import type { LatestTokenExpiry } from "./latest-token-expiry.js";
import { ATTRIBUTE_NAMES as A, DB_SYSTEM_NAME, type Instruments } from "./metrics.js";

// One published event -> the measurements it makes. Events without a measurement (acquire-started,
// refresh-started, source-selected, scope-refused) are read and left alone.

const seconds = (ms: number) => ms / 1000;

export function recordTokenSourceEvent(
  event: TokenSourceDiagnostic,
  instruments: Instruments,
  expiry: LatestTokenExpiry,
): void {
  switch (event.type) {
    case "token-acquired": {
      const attributes = { [A.tokenSource]: event.source, [A.fetchReason]: event.reason };
      instruments.tokenFetchDuration.record(seconds(event.durationInMs), {
        ...attributes,
        [A.fetchOutcome]: "acquired",
      });
      instruments.tokenFetches.add(1, attributes);
      expiry.acquired(event.scope, event.expiresOnTimestamp);
      return;
    }
    case "acquire-failed":
      instruments.tokenFetchDuration.record(seconds(event.durationInMs), {
        [A.fetchOutcome]: "failed",
        [A.errorType]: event.error.name,
      });
      instruments.tokenFetchFailures.add(1, { [A.fetchKind]: "acquire", [A.errorType]: event.error.name });
      return;
    case "refresh-failed":
      instruments.tokenFetchFailures.add(1, { [A.fetchKind]: "refresh", [A.errorType]: event.error.name });
      return;
    case "source-failed":
      instruments.tokenSourceFailures.add(1, {
        [A.tokenSource]: event.source,
        [A.sourceFailureKind]: event.kind,
        [A.errorType]: event.error.name,
      });
      return;
    case "token-invalidated":
      expiry.invalidated(event.scope);
      return;
  }
}

export function recordConnectionEvent(event: ConnectionDiagnostic, instruments: Instruments): void {
  const attributes: Attributes = { [A.dbSystemName]: DB_SYSTEM_NAME, [A.adapter]: event.adapter };
  switch (event.type) {
    case "connection-opened":
      instruments.connectionCreateTime.record(seconds(event.durationInMs), {
        ...attributes,
        [A.tokenMode]: event.tokenMode,
      });
      return;
    case "connection-retired": {
      const retired = { ...attributes, [A.retireReason]: event.reason };
      instruments.connectionRetirements.add(1, retired);
      instruments.connectionAge.record(seconds(event.ageInMs), retired);
      return;
    }
    case "statement-retried":
      instruments.statementRetries.add(1, { ...attributes, [A.retryReason]: event.reason });
      return;
    case "login-retried":
      instruments.loginRetries.add(1, { ...attributes, [A.retryReason]: event.verdict });
      return;
  }
}
