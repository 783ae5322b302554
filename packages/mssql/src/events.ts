import type { RetireReason } from "@entra-sql/core";
import type { TokenMode } from "./options.js";

// What the pools report through the `onEvent` option. Times and reasons, never a token.

export type EntraMssqlEvent =
  | {
      type: "connection-opened";
      tokenMode: TokenMode;
      /** The scope the login token was for. */
      scope: string | undefined;
      /** Expiry of the login token, epoch ms. */
      tokenExpiresOnTimestamp: number | undefined;
      /** When the connection will be retired, epoch ms. */
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
       * refused with 37396 (`at: "statement"`), or it logged in no later than one that was, or before a
       * retry's 37396 (`at: "acquire"` / `"release"`).
       */
      reason: RetireReason | "session-token-expired";
      /** Checked when the pool was about to hand it out, or when it came back; or a statement was refused. */
      at: "acquire" | "release" | "statement";
      ageInMs: number;
    }
  | {
      /** A statement refused with 37396 outside a transaction runs again on a freshly logged-in connection. */
      type: "statement-retried";
      reason: "session-token-expired";
      /**
       * `begin`: a refused BEGIN TRANSACTION, `prepare`: a refused `PreparedStatement.prepare()` on the
       * pool (nothing had run yet); `bulk`: `request.bulk()`; streamed requests included.
       */
      method: "query" | "batch" | "execute" | "bulk" | "begin" | "prepare";
    }
  | {
      type: "login-retried";
      /** What core's `isLoginTokenRejected` said about the first attempt. */
      verdict: "expired" | "rejected";
      scope: string | undefined;
    };

export type EntraMssqlEventType = EntraMssqlEvent["type"];

/** Calls the listener, never letting it break a login or a release. */
export function emitter(listener: ((event: EntraMssqlEvent) => void) | undefined) {
  return (build: () => EntraMssqlEvent): void => {
    if (listener === undefined) return;
    try {
      listener(build());
    } catch {
      // A listener's failure is its own business; the pool must go on.
    }
  };
}
