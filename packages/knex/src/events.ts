import type { RetireReason } from "@entra-sql/core";
import type { TokenMode } from "./options.js";

// What the Knex client reports through the `onEvent` option. Times and reasons, never a token.

export type EntraKnexEvent =
  | {
      type: "connection-opened";
      tokenMode: TokenMode;
      /** The scope the login token was for. */
      scope: string | undefined;
      /** Expiry of the login token, epoch ms. */
      tokenExpiresOnTimestamp: number | undefined;
      /**
       * When the connection is retired at the latest, epoch ms: the earlier of its max age (minus its
       * jitter) and its token's expiry minus the margin. On Knex >= 3.2 Knex enforces the age with its
       * own jitter draw in the same window, so the age retirement may come a little earlier.
       */
      retireAt: number;
      /** Token plus login, ms. */
      durationInMs: number;
      /** 2 when the first login was refused and retried with a fresh token. */
      attempt: 1 | 2;
    }
  | {
      type: "connection-retired";
      /**
       * `max-age` / `token-expiry`: the lifetime bound; `session-token-expired`: a statement on it was
       * refused with 37396 (`at: "statement"`), or it logged in no later than one that was.
       */
      reason: RetireReason | "session-token-expired";
      /** Refused when the pool was about to hand it out, closed as it came back, or a statement was refused. */
      at: "acquire" | "release" | "statement";
      ageInMs: number;
    }
  | {
      /** A statement refused with 37396 outside a transaction runs again on a freshly logged-in connection. */
      type: "statement-retried";
      reason: "session-token-expired";
    }
  | {
      type: "login-retried";
      /** What core's `isLoginTokenRejected` said about the first attempt. */
      verdict: "expired" | "rejected";
      scope: string | undefined;
    };

export type EntraKnexEventType = EntraKnexEvent["type"];

export type Emit = (build: () => EntraKnexEvent) => void;

/** Calls the listener, never letting it break a login, a query or a release. Builds nothing when unset. */
export function emitter(listener: ((event: EntraKnexEvent) => void) | undefined): Emit {
  return (build) => {
    if (listener === undefined) return;
    try {
      listener(build());
    } catch {
      // A listener's failure is its own business; the pool must go on.
    }
  };
}
