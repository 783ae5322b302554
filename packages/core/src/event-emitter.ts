import type { Channel } from "node:diagnostics_channel";
import type { LogEntry, LogLevel, TokenSourceEvent } from "./events.js";
import { humanDuration, isoTime, redactTokensIn } from "./redact.js";

// A tiny typed emitter (no Node EventEmitter: no "error" event semantics, no max-listener warnings)
// and the mapping of events to log entries. Events are built lazily: `emit(type, build)` calls
// `build` only when someone listens (a listener, or a subscriber of the emitter's diagnostics channel),
// so a silent token source pays nothing for observability.

/** The listener type for one event type, or for every event with "*". */
export type ListenerOf<E extends { type: string }, T extends E["type"] | "*"> = T extends "*"
  ? (event: E) => void
  : (event: Extract<E, { type: T }>) => void;

export interface TypedEventEmitter<E extends { type: string }> {
  /** Adds a listener; returns a function that removes it. A listener added twice is called once. */
  on<T extends E["type"] | "*">(type: T, listener: ListenerOf<E, T>): () => void;
  off<T extends E["type"] | "*">(type: T, listener: ListenerOf<E, T>): void;
  /**
   * Delivers the event built by `build` to the listeners and the channel, calling `build` only if
   * someone listens to `type` or "*", or the channel has subscribers.
   */
  emit<T extends E["type"]>(type: T, build: () => Extract<E, { type: T }>): void;
  /** Delivers an already built event (for collaborators that build their own). */
  publish(event: E): void;
  hasListeners(type: E["type"]): boolean;
}

/**
 * @param onListenerError called when a listener throws; the error never reaches the emitting code,
 *   and the remaining listeners still get the event.
 * @param channel also gets every event, after the listeners. A subscriber that throws never reaches
 *   the emitting code either: Node's `Channel.publish` reports it as an uncaught exception on the next
 *   tick (Node 20 and later), and a publish that throws itself is ignored.
 */
export function createEventEmitter<E extends { type: string }>(
  onListenerError: (error: unknown) => void = () => {},
  channel?: Pick<Channel, "hasSubscribers" | "publish">,
): TypedEventEmitter<E> {
  // Keyed by event type or "*". Listeners are stored with the widest parameter type; `on` keeps
  // them typed for callers, and `deliver` only hands each one events of the type it asked for.
  const listeners = new Map<string, Set<(event: E) => void>>();
  let count = 0;

  const hasListeners = (type: string): boolean =>
    (count > 0 && ((listeners.get(type)?.size ?? 0) > 0 || (listeners.get("*")?.size ?? 0) > 0)) ||
    channel?.hasSubscribers === true;

  function deliver(event: E): void {
    for (const key of [event.type, "*"]) {
      const set = listeners.get(key);
      if (set === undefined || set.size === 0) continue;
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error);
        }
      }
    }
    if (channel?.hasSubscribers) {
      try {
        channel.publish(event);
      } catch {
        // Diagnostics never break a token request.
      }
    }
  }

  const off: TypedEventEmitter<E>["off"] = (type, listener) => {
    if (listeners.get(type)?.delete(listener as (event: E) => void)) count -= 1;
  };

  return {
    on(type, listener) {
      let set = listeners.get(type);
      if (set === undefined) {
        set = new Set();
        listeners.set(type, set);
      }
      const stored = listener as (event: E) => void;
      if (!set.has(stored)) {
        set.add(stored);
        count += 1;
      }
      return () => off(type, listener);
    },
    off,
    emit(type, build) {
      if (hasListeners(type)) deliver(build());
    },
    publish(event) {
      if (hasListeners(event.type)) deliver(event);
    },
    hasListeners,
  };
}

/** The log level and a readable, secret-free message for an event. */
export function toLogEntry(event: TokenSourceEvent): LogEntry {
  const [level, message] = describe(event);
  return { level, message: redactTokensIn(message), event };
}

/**
 * One readable, secret-free line for a token source event (the message its log entry carries), e.g.
 * for a TOKEN_SOURCE_CHANNEL subscriber.
 * @example subscribe(TOKEN_SOURCE_CHANNEL, (event) => logger.info(describeDiagnostic(event as TokenSourceDiagnostic)));
 */
export function describeDiagnostic(event: TokenSourceEvent): string {
  return toLogEntry(event).message;
}

function describe(event: TokenSourceEvent): [LogLevel, string] {
  switch (event.type) {
    case "acquire-started":
      return ["debug", `fetching a token for ${event.scope} (${event.reason})`];
    case "token-acquired":
      return [
        "info",
        `got a token for ${event.scope} from ${event.source} (${event.reason}) in ${humanDuration(event.durationInMs)}; ` +
          `it expires at ${isoTime(event.expiresOnTimestamp)}`,
      ];
    case "refresh-started":
      return [
        "debug",
        `refreshing the token for ${event.scope} in the background ` +
          `(${event.trigger === "refresh-after" ? "its refresh-after time has passed" : "its expiry is within the refresh window"})`,
      ];
    case "refresh-failed":
      return [
        "warn",
        `background refresh of the token for ${event.scope} failed (${event.error.name}: ${event.error.message}); ` +
          `retrying in ${humanDuration(event.retryInMs)}; the current token stays in use and expires at ` +
          `${isoTime(event.currentExpiresOnTimestamp)}`,
      ];
    case "acquire-failed":
      return [
        "error",
        `could not get a token for ${event.scope} (after ${humanDuration(event.durationInMs)}): ` +
          `${event.error.name}: ${event.error.message}`,
      ];
    case "source-selected":
      return [
        "info",
        `using credential source ${event.source}` +
          (event.previousSource === undefined ? "" : ` (instead of ${event.previousSource})`),
      ];
    case "source-failed":
      return [
        event.kind === "unavailable" ? "debug" : "warn",
        event.kind === "transient"
          ? `credential source ${event.source} could not reach the identity provider, or it failed (transient): ${event.error.name}: ${event.error.message}`
          : `credential source ${event.source} failed (${event.kind}): ${event.error.name}: ${event.error.message}`,
      ];
    case "scope-refused":
      return [
        "warn",
        `refused to get a token for scope ${event.scope}: it is not an allowed SQL audience (see the "allowedScopes" option)`,
      ];
    case "token-invalidated":
      return ["info", `dropped the cached token for ${event.scope}; the next caller gets a new one`];
  }
}
