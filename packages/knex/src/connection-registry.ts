import type { ConnectionLifetimePolicy, ConnectionStamp, RetireReason } from "@entra-sql/core";
import type { Emit } from "./events.js";
import type { TediousConnection } from "./knex-internals.js";

// What this package knows about each physical connection: its birth stamp (login time, token expiry),
// whether it was retired, and whether the server refused a statement on it with 37396. Keyed by the
// tedious Connection (weakly), shared by the Knex client and the per-transaction clients Knex derives
// from it (those are `Object.create(Client.prototype)`: no constructor, no instance fields).

export type RetireAt = "acquire" | "release" | "statement";

export class ConnectionRegistry {
  readonly #stamps = new WeakMap<TediousConnection, ConnectionStamp>();
  readonly #retired = new WeakSet<TediousConnection>();
  readonly #sessionExpired = new WeakSet<TediousConnection>();
  /** The error a refused BEGIN TRANSACTION was given (session-token-expiry.ts watchSession). */
  readonly #beginRefusals = new WeakMap<TediousConnection, unknown>();
  /** Connections that logged in no later than one refused with 37396 carry a token as old: retire them too. */
  #staleBornAtOrBefore = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly lifetime: ConnectionLifetimePolicy,
    /** True when Knex itself caps the age (>= 3.2): only the token bound is checked here. */
    private readonly knexCapsAge: boolean,
    private readonly emit: Emit,
  ) {}

  stamp(connection: TediousConnection, tokenExpiresOnTimestamp: number | undefined): ConnectionStamp {
    const stamp = this.lifetime.stamp(
      tokenExpiresOnTimestamp === undefined ? {} : { tokenExpiresOnTimestamp },
    );
    this.#stamps.set(connection, stamp);
    return stamp;
  }

  stampOf(connection: TediousConnection): ConnectionStamp | undefined {
    return this.#stamps.get(connection);
  }

  isRetired(connection: TediousConnection): boolean {
    return this.#retired.has(connection);
  }

  isSessionExpired(connection: TediousConnection): boolean {
    return this.#sessionExpired.has(connection);
  }

  /**
   * Retires the connection when it is due (or already retired); true when it must not be used again.
   * Called when the pool is about to hand it out and when it comes back: never while in use.
   */
  retireIfDue(connection: TediousConnection, at: "acquire" | "release"): boolean {
    if (this.#retired.has(connection)) return true;
    const stamp = this.#stamps.get(connection);
    if (stamp === undefined) return false;
    if (stamp.bornAt <= this.#staleBornAtOrBefore) {
      this.retire(connection, "session-token-expired", at);
      return true;
    }
    const now = Date.now();
    const retireAt = this.knexCapsAge ? (stamp.tokenRetireAt ?? Number.POSITIVE_INFINITY) : stamp.retireAt;
    if (now < retireAt) return false;
    this.retire(
      connection,
      this.knexCapsAge ? "token-expiry" : (this.lifetime.retireReason(stamp, now) ?? "max-age"),
      at,
    );
    return true;
  }

  /** A statement on this connection was refused with 37396: it and every older connection are done. */
  sessionExpired(connection: TediousConnection): void {
    if (this.#sessionExpired.has(connection)) return;
    this.#sessionExpired.add(connection);
    const stamp = this.#stamps.get(connection);
    if (stamp !== undefined) this.#staleBornAtOrBefore = Math.max(this.#staleBornAtOrBefore, stamp.bornAt);
    this.retire(connection, "session-token-expired", "statement");
  }

  /** The server refused BEGIN TRANSACTION on this connection with 37396; `error` is what Knex was given. */
  beginRefused(connection: TediousConnection, error: unknown): void {
    this.#beginRefusals.set(connection, error);
    this.sessionExpired(connection);
  }

  beginRefusalOf(connection: TediousConnection): unknown {
    return this.#beginRefusals.get(connection);
  }

  retire(connection: TediousConnection, reason: RetireReason | "session-token-expired", at: RetireAt): void {
    if (this.#retired.has(connection)) return;
    this.#retired.add(connection);
    const stamp = this.#stamps.get(connection);
    this.emit(() => ({
      type: "connection-retired",
      reason,
      at,
      ageInMs: stamp === undefined ? 0 : Date.now() - stamp.bornAt,
    }));
  }
}
