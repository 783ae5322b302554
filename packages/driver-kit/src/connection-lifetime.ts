import { InvalidOptionError } from "@entra-sql/core";
import { describeOptionValue as describeValue } from "@entra-sql/core/internal";

// When a pooled connection must be retired. A pure policy: no timers; the connection lifecycle
// (connection-lifecycle.ts) stamps each new physical connection once it has logged in, asks `isUsable`
// on every acquire and release, and closes idle connections when `retireAt` passes.
//
// A connection is retired at whichever comes first:
// - max age (minus per-connection jitter): a token is only checked at login, so the age cap is
//   what keeps a pool from living on a revoked identity forever (HikariCP `maxLifetime`);
// - the expiry of the token it logged in with, minus a margin: after some server events Azure SQL
//   revalidates the tokens of open sessions, and a statement on a session whose token has expired
//   then fails with 37396 (see sql-errors.ts, DESIGN.md "Why the token bounds the connection").

export interface ConnectionLifetimeOptions {
  /**
   * Retire a connection this long after its birth, in ms. `null` or `Infinity` disables the age cap
   * (the token bound still applies). Values below 1000 are refused: they are almost surely seconds
   * (Django's `CONN_MAX_AGE` is in seconds). Default 30 minutes, the
   * Django recipe's `CONN_MAX_AGE = 30 * 60` ("max of 30 min, since AT is valid for 60 min").
   * @example 15 * 60_000
   */
  maxAgeInMs?: number | null;
  /**
   * Up to this fraction of `maxAgeInMs` is subtracted from each connection's age cap, drawn once per
   * connection, so connections born together do not all reconnect in the same second. In [0, 0.5).
   * Default 0.025: HikariCP subtracts `nextLong(maxLifetime / 40)` (brettwooldridge/HikariCP,
   * HikariPool.java `createPoolEntry`).
   * @example 0 // no jitter
   */
  maxAgeJitterRatio?: number;
  /**
   * Retire a connection this long before the token it logged in with expires, in ms. Default: the
   * smaller of 60 s and a tenth of that token's lifetime, so short-lived tokens work without tuning.
   * @example 2 * 60_000
   */
  tokenExpiryMarginInMs?: number;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. For tests. */
  random?: () => number;
  /** Clock, epoch ms. Default `Date.now`. For tests. */
  now?: () => number;
}

export const CONNECTION_LIFETIME_DEFAULTS = {
  maxAgeInMs: 30 * 60_000,
  maxAgeJitterRatio: 0.025,
  // The default margin is the smaller of this and a tenth of the token's lifetime (`tokenLifetimeInMs`).
  // Why 60 s: the policy is asked on acquire and release, so a connection handed out just before
  // its retire time still runs what it was acquired for. The margin must outlast that: tedious and
  // mssql time a request out after 15 s by default (tedious DEFAULT_CLIENT_REQUEST_TIMEOUT, mssql
  // `requestTimeout` 15000) plus a 5 s cancel timeout, and 60 s covers that three times over and the
  // few seconds of clock skew between NTP-synced hosts. It stays far below the token source's
  // 10-minute minimum validity, so a fresh connection always gets at least 9 minutes of use.
  tokenExpiryMarginInMs: 60_000,
  /** The default margin never exceeds this share of the token's lifetime. */
  tokenExpiryMarginShare: 0.1,
} as const;

/** Below this, `maxAgeInMs` is almost surely a number of seconds. */
const MIN_MAX_AGE_IN_MS = 1000;

/** Birth facts of one physical connection, and the time it must be retired. Immutable. */
export interface ConnectionStamp {
  /**
   * When the connection was born, epoch ms: the lifecycle passes the start of the connect that logged it
   * in, so its age includes its login, as the server counts a session's.
   */
  readonly bornAt: number;
  /** Expiry of the token it logged in with, epoch ms; `undefined` when unknown. */
  readonly tokenExpiresOnTimestamp: number | undefined;
  /** The jitter subtracted from the age cap for this connection, ms (0 without an age cap). */
  readonly jitterInMs: number;
  /** `bornAt + maxAge - jitter`; `undefined` when the age cap is disabled. */
  readonly maxAgeRetireAt: number | undefined;
  /** The margin applied to this connection's token, ms. */
  readonly tokenExpiryMarginInMs: number;
  /** `tokenExpiresOnTimestamp - margin`; `undefined` when the token expiry is unknown. */
  readonly tokenRetireAt: number | undefined;
  /** The earlier of the two; `Infinity` when neither applies. */
  readonly retireAt: number;
}

export type RetireReason = "max-age" | "token-expiry";

export interface ConnectionLifetimePolicy {
  /**
   * The resolved settings (`maxAgeInMs` is `null` when the age cap is disabled; `tokenExpiryMarginInMs`
   * is `"auto"` when unset: see the option).
   */
  readonly settings: Readonly<{
    maxAgeInMs: number | null;
    maxAgeJitterRatio: number;
    tokenExpiryMarginInMs: number | "auto";
  }>;
  /**
   * Stamp a connection that just logged in. `bornAt` defaults to now. Draws its jitter once.
   * `tokenLifetimeInMs` (the token's `exp - iat`) sizes the automatic margin.
   */
  stamp(facts?: {
    tokenExpiresOnTimestamp?: number | undefined;
    tokenLifetimeInMs?: number | undefined;
    bornAt?: number | undefined;
  }): ConnectionStamp;
  /** Whether the connection may still be handed out (now < retireAt). */
  isUsable(stamp: ConnectionStamp, now?: number): boolean;
  /** Why the connection must go, or `undefined` while it is usable. On a tie, "token-expiry". */
  retireReason(stamp: ConnectionStamp, now?: number): RetireReason | undefined;
  /** Time left before retirement, ms: 0 once due, `Infinity` when nothing bounds the connection. */
  remainingMs(stamp: ConnectionStamp, now?: number): number;
}

const OPTION_KEYS = ["maxAgeInMs", "maxAgeJitterRatio", "tokenExpiryMarginInMs", "random", "now"] as const;

/**
 * Builds the connection-lifetime policy. Options are validated here: unknown keys, negative or
 * non-finite numbers, a jitter ratio outside [0, 0.5) fail with {@link InvalidOptionError}.
 * @example
 * const policy = createConnectionLifetimePolicy({ maxAgeInMs: 15 * 60_000 });
 * const stamp = policy.stamp({ tokenExpiresOnTimestamp: token.expiresOnTimestamp });
 * if (!policy.isUsable(stamp)) destroy(connection);
 */
export function createConnectionLifetimePolicy(
  options: ConnectionLifetimeOptions = {},
): ConnectionLifetimePolicy {
  const resolved = resolveOptions(options);
  const { maxAgeInMs, maxAgeJitterRatio, tokenExpiryMarginInMs, random, now } = resolved;
  const at = (value: number | undefined, name: string): number => {
    if (value === undefined) return now();
    return finiteTimestamp(value, name);
  };
  const reasonAt = (stamp: ConnectionStamp, time: number): RetireReason | undefined => {
    if (time < stamp.retireAt) return undefined;
    if (
      stamp.tokenRetireAt !== undefined &&
      stamp.tokenRetireAt <= (stamp.maxAgeRetireAt ?? Number.POSITIVE_INFINITY)
    ) {
      return "token-expiry";
    }
    return "max-age";
  };

  return Object.freeze({
    settings: Object.freeze({ maxAgeInMs, maxAgeJitterRatio, tokenExpiryMarginInMs }),
    stamp(facts = {}) {
      const bornAt = at(facts.bornAt, "stamp.bornAt");
      const tokenExpiresOnTimestamp =
        facts.tokenExpiresOnTimestamp === undefined
          ? undefined
          : finiteTimestamp(facts.tokenExpiresOnTimestamp, "stamp.tokenExpiresOnTimestamp");
      const jitterInMs =
        maxAgeInMs === null ? 0 : Math.floor(maxAgeInMs * maxAgeJitterRatio * unit(random()));
      const maxAgeRetireAt = maxAgeInMs === null ? undefined : bornAt + maxAgeInMs - jitterInMs;
      const margin = marginFor(tokenExpiryMarginInMs, facts.tokenLifetimeInMs);
      const tokenRetireAt =
        tokenExpiresOnTimestamp === undefined ? undefined : tokenExpiresOnTimestamp - margin;
      const retireAt = Math.min(
        maxAgeRetireAt ?? Number.POSITIVE_INFINITY,
        tokenRetireAt ?? Number.POSITIVE_INFINITY,
      );
      return Object.freeze({
        bornAt,
        tokenExpiresOnTimestamp,
        jitterInMs,
        maxAgeRetireAt,
        tokenExpiryMarginInMs: margin,
        tokenRetireAt,
        retireAt,
      });
    },
    isUsable(stamp, time) {
      return at(time, "now") < stamp.retireAt;
    },
    retireReason(stamp, time) {
      return reasonAt(stamp, at(time, "now"));
    },
    remainingMs(stamp, time) {
      return Math.max(0, stamp.retireAt - at(time, "now"));
    },
  } satisfies ConnectionLifetimePolicy);
}

interface ResolvedOptions {
  maxAgeInMs: number | null;
  maxAgeJitterRatio: number;
  tokenExpiryMarginInMs: number | "auto";
  random: () => number;
  now: () => number;
}

function resolveOptions(options: ConnectionLifetimeOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError("options", describeValue(options), "an object or undefined");
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(key, "an unknown option", `one of ${OPTION_KEYS.join(", ")}`);
    }
  }
  const d = CONNECTION_LIFETIME_DEFAULTS;

  let maxAgeInMs: number | null = d.maxAgeInMs;
  if (options.maxAgeInMs === null || options.maxAgeInMs === Number.POSITIVE_INFINITY) maxAgeInMs = null;
  else if (options.maxAgeInMs !== undefined) {
    if (
      typeof options.maxAgeInMs === "number" &&
      options.maxAgeInMs > 0 &&
      options.maxAgeInMs < MIN_MAX_AGE_IN_MS
    ) {
      throw new InvalidOptionError(
        "maxAgeInMs",
        String(options.maxAgeInMs),
        `milliseconds, and at least ${MIN_MAX_AGE_IN_MS}: ${options.maxAgeInMs} ms looks like seconds ` +
          `(Django's CONN_MAX_AGE is in seconds); for ${options.maxAgeInMs} s write ${options.maxAgeInMs} * 1000`,
      );
    }
    if (
      typeof options.maxAgeInMs !== "number" ||
      !Number.isFinite(options.maxAgeInMs) ||
      options.maxAgeInMs <= 0
    ) {
      throw new InvalidOptionError(
        "maxAgeInMs",
        describeValue(options.maxAgeInMs),
        "a positive number of milliseconds (e.g. 1800000), or null / Infinity to disable the age cap",
      );
    }
    maxAgeInMs = options.maxAgeInMs;
  }

  const ratio = options.maxAgeJitterRatio ?? d.maxAgeJitterRatio;
  if (typeof ratio !== "number" || !Number.isFinite(ratio) || ratio < 0 || ratio >= 0.5) {
    throw new InvalidOptionError(
      "maxAgeJitterRatio",
      describeValue(ratio),
      "a number in [0, 0.5), e.g. 0.025",
    );
  }

  const margin = options.tokenExpiryMarginInMs ?? "auto";
  if (margin !== "auto" && (typeof margin !== "number" || !Number.isFinite(margin) || margin < 0)) {
    throw new InvalidOptionError(
      "tokenExpiryMarginInMs",
      describeValue(margin),
      "a finite number of milliseconds >= 0, e.g. 60000",
    );
  }

  for (const name of ["random", "now"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new InvalidOptionError(name, describeValue(options[name]), "a function");
    }
  }

  return {
    maxAgeInMs,
    maxAgeJitterRatio: ratio,
    tokenExpiryMarginInMs: margin,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

/** The margin for one token: the option, or the smaller of 60 s and a tenth of the token's lifetime. */
function marginFor(option: number | "auto", tokenLifetimeInMs: number | undefined): number {
  if (option !== "auto") return option;
  const { tokenExpiryMarginInMs, tokenExpiryMarginShare } = CONNECTION_LIFETIME_DEFAULTS;
  if (tokenLifetimeInMs === undefined || !Number.isFinite(tokenLifetimeInMs) || tokenLifetimeInMs <= 0) {
    return tokenExpiryMarginInMs;
  }
  return Math.min(tokenExpiryMarginInMs, Math.floor(tokenLifetimeInMs * tokenExpiryMarginShare));
}

/** A random draw forced into [0, 1): a broken random source must not stretch a connection's life. */
function unit(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return value >= 1 ? 1 - Number.EPSILON : value;
}

function finiteTimestamp(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidOptionError(name, describeValue(value), "a finite epoch time in milliseconds");
  }
  return value;
}
