import type { ConnectionEvent, Emit as EmitOf } from "@entra-sql/core";

// What the Knex client reports through the `onEvent` option: core's connection events. Times and
// reasons, never a token. On Knex >= 3.2 Knex enforces the max age with its own jitter draw in the
// same window, so an age retirement may come a little before `connection-opened`'s `retireAt`.

export type EntraKnexEvent = ConnectionEvent;

export type EntraKnexEventType = EntraKnexEvent["type"];

/** Emits this package's events; from core's `safeEmitter`, which never lets a listener break a pool. */
export type Emit = EmitOf<EntraKnexEvent>;
