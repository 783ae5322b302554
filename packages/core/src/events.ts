import type { SourceFailureKind } from "./errors.js";

// Silent by default, observable on request: a typed event union and an optional logger. Events carry
// scopes, sources, durations and expiry times; never a token, a secret or a client assertion.

/** An error as events carry it: name and message only (messages are secret-free by construction). */
export interface EventError {
  name: string;
  message: string;
}

export type TokenSourceEvent =
  /**
   * A fetch from the credential chain began (the token fetch's start; `token-acquired` is its end,
   * `acquire-failed` / `refresh-failed` its error). `reason` says why it was started.
   */
  | { type: "acquire-started"; scope: string; reason: "cold" | "refresh" | "expired" | "invalidated" }
  /** A token arrived from a credential source. `reason` says why it was fetched. */
  | {
      type: "token-acquired";
      scope: string;
      source: string;
      reason: "cold" | "refresh" | "expired" | "invalidated";
      expiresOnTimestamp: number;
      refreshAfterTimestamp: number | undefined;
      durationInMs: number;
    }
  /** A background refresh began; callers keep getting the current token meanwhile. */
  | { type: "refresh-started"; scope: string; trigger: "refresh-after" | "refresh-window" }
  /** A background refresh failed; it is retried after `retryInMs` while the current token is valid. */
  | {
      type: "refresh-failed";
      scope: string;
      error: EventError;
      retryInMs: number;
      currentExpiresOnTimestamp: number;
    }
  /** A caller-visible fetch failed (no usable token existed). */
  | { type: "acquire-failed"; scope: string; error: EventError; durationInMs: number }
  /** The credential chain picked a source (first success, or after the previous winner failed). */
  | { type: "source-selected"; source: string; previousSource: string | undefined }
  /**
   * One source of the chain failed (`kind`: see SourceFailureKind); "authentication" leaves it out
   * of the next walks for a while.
   */
  | {
      type: "source-failed";
      source: string;
      kind: SourceFailureKind;
      error: EventError;
      /** What a person would try next (as in TokenAcquisitionError's failures); absent when unknown. */
      fix?: string;
    }
  /** A token request was refused by the scope guard before any credential was called. */
  | { type: "scope-refused"; scope: string }
  /** `invalidate(scope)` dropped the cached token; the next caller fetches. */
  | { type: "token-invalidated"; scope: string };

/**
 * The `node:diagnostics_channel` channel every token source publishes its events on (the same
 * objects its `on()` listeners get). Nothing is built or published while it has no subscriber.
 */
export const TOKEN_SOURCE_CHANNEL = "entra-sql:token-source";

/** What a subscriber of TOKEN_SOURCE_CHANNEL receives. Never a token or a secret. */
export type TokenSourceDiagnostic = TokenSourceEvent;

export type TokenSourceEventType = TokenSourceEvent["type"];
export type TokenSourceEventOf<T extends TokenSourceEventType> = Extract<TokenSourceEvent, { type: T }>;
export type TokenSourceListener<T extends TokenSourceEventType = TokenSourceEventType> = (
  event: TokenSourceEventOf<T>,
) => void;

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A log line built from an event. `message` is human-readable and secret-free. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  event: TokenSourceEvent;
}

/** Receives every event as a log entry; plug in pino, winston or `console` in the application. */
export type Logger = (entry: LogEntry) => void;

/** Reduce any thrown value to name + message for an event (never the raw object: it may hold a token). */
export function toEventError(error: unknown): EventError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}
