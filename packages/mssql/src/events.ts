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
      reason: RetireReason;
      /** Checked when the pool was about to hand it out, or when it came back. */
      at: "acquire" | "release";
      ageInMs: number;
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
