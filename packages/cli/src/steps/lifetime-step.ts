import {
  TOKEN_SOURCE_DEFAULTS,
  type TokenDetails,
  type TokenIdentity,
  type TokenSource,
} from "@entra-sql/core";
import { CONNECTION_OPTION_DEFAULTS, resolveConnectionOptions } from "@entra-sql/driver-kit";
import { duration, time } from "../format.js";
import type { StepOutcome } from "../step.js";

// Step 5: what the adapters would do with this token under their defaults: when the token source
// starts refreshing it and stops handing it out (core's schedule for this very token), and when a
// connection that logs in with it now is retired (driver-kit's lifetime policy: max age with jitter,
// or the token's expiry minus a margin, whichever comes first).

export function lifetimeStep(
  token: TokenDetails,
  tokenSource: TokenSource,
  identity: TokenIdentity | undefined,
): { outcome: StepOutcome } {
  const now = Date.now();
  const cache =
    tokenSource.toJSON().scopes.find((entry) => entry.scope === token.scope) ??
    tokenSource.toJSON().scopes[0];
  const { lifetime } = resolveConnectionOptions({ tokenSource }, "entra-sql doctor");
  const issuedAt = identity?.issuedAt?.getTime();
  const stamp = lifetime.stamp({
    bornAt: now,
    tokenExpiresOnTimestamp: token.expiresOnTimestamp,
    tokenLifetimeInMs: issuedAt === undefined ? undefined : token.expiresOnTimestamp - issuedAt,
  });
  const bound =
    stamp.tokenRetireAt !== undefined && stamp.tokenRetireAt <= (stamp.maxAgeRetireAt ?? Infinity)
      ? "token"
      : "max age";
  const details = [
    `token source (refreshWindowInMs ${duration(TOKEN_SOURCE_DEFAULTS.refreshWindowInMs)}, minimumValidityInMs ${duration(TOKEN_SOURCE_DEFAULTS.minimumValidityInMs)}):`,
    `  refreshes this token from ${cache?.refreshFrom ?? "?"}, hands it out until ${cache?.handedOutUntil ?? "?"}`,
    `connection lifetime (maxAgeInMs ${duration(CONNECTION_OPTION_DEFAULTS.maxAgeInMs)}, jitter up to ${CONNECTION_OPTION_DEFAULTS.maxAgeJitterRatio * 100}%, token margin ${duration(stamp.tokenExpiryMarginInMs)}):`,
    ...(stamp.maxAgeRetireAt !== undefined ? [`  max age reached at ${time(stamp.maxAgeRetireAt)}`] : []),
    ...(stamp.tokenRetireAt !== undefined ? [`  token bound at ${time(stamp.tokenRetireAt)}`] : []),
  ];
  const usable = stamp.retireAt - now;
  return {
    outcome: {
      verdict: usable < 60_000 ? "warn" : "ok",
      summary: `a connection opened now retires at ${time(stamp.retireAt)} (in ${duration(usable)}, bound by ${bound})`,
      details,
      data: {
        retireAt: new Date(stamp.retireAt).toISOString(),
        maxAgeRetireAt:
          stamp.maxAgeRetireAt === undefined ? undefined : new Date(stamp.maxAgeRetireAt).toISOString(),
        tokenRetireAt:
          stamp.tokenRetireAt === undefined ? undefined : new Date(stamp.tokenRetireAt).toISOString(),
        tokenExpiryMarginInMs: stamp.tokenExpiryMarginInMs,
        refreshFrom: cache?.refreshFrom,
        handedOutUntil: cache?.handedOutUntil,
      },
    },
  };
}
