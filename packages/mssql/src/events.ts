import type { ConnectionEvent, Emit as EmitOf } from "@entra-sql/core";

// What the pools report through the `onEvent` option: core's connection events, with the request
// method on `statement-retried`. Times and reasons, never a token.

export type EntraMssqlEvent = ConnectionEvent<{
  /**
   * `begin`: a refused BEGIN TRANSACTION, `prepare`: a refused `PreparedStatement.prepare()` on the
   * pool (nothing had run yet); `bulk`: `request.bulk()`; streamed requests included.
   */
  method: "query" | "batch" | "execute" | "bulk" | "begin" | "prepare";
}>;

export type EntraMssqlEventType = EntraMssqlEvent["type"];

/** Emits this package's events; from core's `safeEmitter`, which never lets a listener break a pool. */
export type Emit = EmitOf<EntraMssqlEvent>;
