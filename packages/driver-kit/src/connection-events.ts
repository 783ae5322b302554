import type { RetireReason } from "./connection-lifetime.js";
import type { TokenMode } from "./connection-options.js";

// The events every driver adapter reports through its `onEvent` option. Times and reasons, never a
// token. An adapter adds its own fields to `statement-retried` (mssql: the request method).

export interface ConnectionOpenedEvent {
  type: "connection-opened";
  tokenMode: TokenMode;
  /** The scope the login token was for. */
  scope: string | undefined;
  /** Expiry of the login token, epoch ms. */
  tokenExpiresOnTimestamp: number | undefined;
  /**
   * When the connection is retired at the latest, epoch ms: the earlier of its max age (minus its
   * jitter) and its token's expiry minus the margin.
   */
  retireAt: number;
  /** Token plus login, ms. */
  durationInMs: number;
  /** 2 when the first login was refused and retried with a fresh token. */
  attempt: 1 | 2;
}

export interface ConnectionRetiredEvent {
  type: "connection-retired";
  /**
   * `max-age` / `token-expiry`: the lifetime bound; `session-token-expired`: a statement on it was
   * refused with 37396 (`at: "statement"`), or it logged in no later than one that was, or before a
   * retry's 37396 (`at: "acquire"` / `"release"`).
   */
  reason: RetireReason | "session-token-expired";
  /**
   * Checked when the pool was about to hand it out, when it came back, while it sat idle in the pool
   * (closed when its retire time passed), or a statement on it was refused.
   */
  at: "acquire" | "release" | "idle" | "statement";
  ageInMs: number;
}

/** A statement refused with 37396 outside a transaction runs again on a freshly logged-in connection. */
export type StatementRetriedEvent<Extra = unknown> = {
  type: "statement-retried";
  reason: "session-token-expired";
} & Extra;

export interface LoginRetriedEvent {
  type: "login-retried";
  /** What core's `isLoginTokenRejected` said about the first attempt. */
  verdict: "expired" | "rejected";
  scope: string | undefined;
}

/**
 * What a driver adapter reports through `onEvent`. `StatementRetriedExtra`: the adapter's own fields
 * of `statement-retried` (e.g. `{ method: "query" | "batch" }`); none by default.
 */
export type ConnectionEvent<StatementRetriedExtra = unknown> =
  | ConnectionOpenedEvent
  | ConnectionRetiredEvent
  | StatementRetriedEvent<StatementRetriedExtra>
  | LoginRetriedEvent;

/** Delivers the event `build` makes, if anyone listens. */
export type Emit<E> = (build: () => E) => void;

/**
 * Calls the listener, never letting it break a login, a query or a release. Builds nothing when unset.
 * @example const emit = safeEmitter(options.onEvent); emit(() => ({ type: "login-retried", verdict, scope }));
 */
export function safeEmitter<E>(listener: ((event: E) => void) | undefined): Emit<E> {
  return (build) => {
    if (listener === undefined) return;
    try {
      listener(build());
    } catch {
      // A listener's failure is its own business; the pool must go on.
    }
  };
}
