import { channel, subscribe, unsubscribe } from "node:diagnostics_channel";
import { describeDiagnostic, TOKEN_SOURCE_CHANNEL, type TokenSourceDiagnostic } from "@entra-sql/core";
import { humanDuration, isoTime } from "@entra-sql/core/internal";
import { type ConnectionEvent, type Emit, safeEmitter } from "./connection-events.js";

// Connection events on `node:diagnostics_channel`, for metrics and tracing bridges that cannot pass an
// `onEvent` to every adapter, and one readable line per event for people (examples' ENTRA_SQL_DEBUG).

/**
 * The `node:diagnostics_channel` channel every adapter publishes its connection events on, with the
 * adapter's package name added. Nothing is built or published while it has no subscriber.
 */
export const CONNECTION_CHANNEL = "entra-sql:connection";

/** What a subscriber of CONNECTION_CHANNEL receives: `adapter` is e.g. "@entra-sql/knex". Never a token. */
export type ConnectionDiagnostic = ConnectionEvent<unknown> & { adapter: string };

/** Shared by every adapter of this module copy; Node keys channels by name, across copies too. */
const connectionChannel = channel(CONNECTION_CHANNEL);

/**
 * The adapter's `onEvent` listener (as safeEmitter calls it) plus CONNECTION_CHANNEL, where each event
 * is published as a new object with `adapter` added. Builds nothing when neither listens. A channel
 * subscriber that throws never reaches the pool: Node's `Channel.publish` reports it as an uncaught
 * exception on the next tick, and a publish that throws itself is ignored.
 */
export function connectionEmitter(
  listener: ((event: ConnectionEvent<unknown>) => void) | undefined,
  adapter: string,
): Emit<ConnectionEvent<unknown>> {
  const deliver = safeEmitter(listener);
  return (build) => {
    const publishing = connectionChannel.hasSubscribers;
    if (listener === undefined && !publishing) return;
    const event = build();
    deliver(() => event);
    if (!publishing) return;
    try {
      connectionChannel.publish({ ...event, adapter } satisfies ConnectionDiagnostic);
    } catch {
      // Diagnostics never break a login, a query or a release.
    }
  };
}

/**
 * One readable line for a connection event, e.g. "@entra-sql/knex connection retired (max-age, on
 * acquire) at age 30.1 s", for a CONNECTION_CHANNEL subscriber. Secret-free: events carry no token.
 */
export function describeConnectionDiagnostic(event: ConnectionDiagnostic): string {
  const { adapter } = event;
  switch (event.type) {
    case "connection-opened":
      return (
        `${adapter} connection opened in ${humanDuration(event.durationInMs)} (${event.tokenMode}` +
        `${event.attempt === 2 ? ", second login" : ""})` +
        `${event.tokenExpiresOnTimestamp === undefined ? "" : `, token expires ${isoTime(event.tokenExpiresOnTimestamp)}`}` +
        `, retires by ${isoTime(event.retireAt)}`
      );
    case "connection-retired":
      return `${adapter} connection retired (${event.reason}, on ${event.at}) at age ${humanDuration(event.ageInMs)}`;
    case "login-retried":
      return `${adapter} login refused (token ${event.verdict}); retrying with a fresh token`;
    case "statement-retried":
      return `${adapter} statement refused (${event.reason}); retried on a fresh connection`;
  }
}

/**
 * Writes one line per event of both channels (token source and connection), prefixed "[entra-sql] ",
 * until the returned function is called. For debugging: examples call it when ENTRA_SQL_DEBUG=1.
 * @example const stop = logDiagnostics((line) => logger.warn(line));
 */
export function logDiagnostics(write: (line: string) => void): () => void {
  const onToken = (message: unknown): void =>
    write(`[entra-sql] ${describeDiagnostic(message as TokenSourceDiagnostic)}`);
  const onConnection = (message: unknown): void =>
    write(`[entra-sql] ${describeConnectionDiagnostic(message as ConnectionDiagnostic)}`);
  subscribe(TOKEN_SOURCE_CHANNEL, onToken);
  subscribe(CONNECTION_CHANNEL, onConnection);
  return () => {
    unsubscribe(TOKEN_SOURCE_CHANNEL, onToken);
    unsubscribe(CONNECTION_CHANNEL, onConnection);
  };
}
