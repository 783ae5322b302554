import { resolveScope } from "@entra-sql/core";
import type { ConnectionEvent, ConnectionRetiredEvent } from "./connection-events.js";
import type { ConnectionStamp } from "./connection-lifetime.js";
import type { ResolvedConnectionOptions } from "./connection-options.js";
import { connectionEmitter } from "./diagnostics.js";
import { IdleRetirement } from "./idle-retirement.js";
import { type SessionTokenExpiredDuring, SessionTokenExpiredError } from "./session-token-expired-error.js";
import { isAccessTokenExpiredOnSession } from "./sql-errors.js";
import { type LoginAttempt, loginWithFreshTokenRetry } from "./token-login.js";

// One physical connection's life, as every adapter needs it. The adapter feeds the lifecycle its
// driver's events (a login to run, an acquire, a release, a server message, a destroy) and asks it
// questions; the lifecycle keeps one registry of per-connection state:
//   login -> stamped (born at, token expiry, retire-at with jitter) -> idle <-> in use -> retired -> closed
// A connection is retired when it passes its retire time (checked on acquire and release, and by a
// timer while it sits idle: never while in use), when a statement on it was refused with 37396, or when
// it logged in no later than one that was (its token is as old).

type Reason = ConnectionRetiredEvent["reason"];
type At = ConnectionRetiredEvent["at"];

interface ConnectionState {
  readonly stamp: ConnectionStamp;
  inUse: boolean;
  /** Handed out and given back at least once: from then on its age alone can refuse it on acquire. */
  released: boolean;
  retired: boolean;
  sessionExpired: boolean;
}

/** What the one retry after a 37396 needs of the adapter's pool. */
export interface RetryPool<C> {
  acquire(): Promise<C>;
  release(connection: C): unknown;
  /** How many connections to try before taking whatever comes (e.g. the pool size + 1). */
  maxTries: number;
}

/** A 37396 as the server's message says it, for marking a connection the adapter saw refused. */
const REFUSAL = { number: 37396 };

/** Where one login goes: the server and database, for the scope and the messages. */
export interface LoginTarget {
  server: string;
  database?: string | undefined;
}

export interface ConnectionLifecycleSettings<C> {
  /** The adapter's resolved options (`resolveConnectionOptions`). */
  options: ResolvedConnectionOptions<never>;
  /**
   * Ends one physical connection now: one retired while idle in the pool, or one retired that came
   * back. The pool destroys it later (its own validation sees it closed); call `forget` then.
   */
  closeConnection: (connection: C) => void;
}

export class ConnectionLifecycle<C extends object> {
  readonly #options: ResolvedConnectionOptions<never>;
  readonly #close: (connection: C) => void;
  readonly #states = new WeakMap<C, ConnectionState>();
  readonly #idle: IdleRetirement<C>;
  /** Connections that logged in no later than one refused with 37396 carry a token as old. */
  #staleBornAtOrBefore = Number.NEGATIVE_INFINITY;
  /**
   * Delivers the adapter's events to its `onEvent` and to CONNECTION_CHANNEL; a listener's or a
   * subscriber's failure never breaks a pool.
   */
  readonly emit: (build: () => ConnectionEvent<unknown>) => void;

  constructor(settings: ConnectionLifecycleSettings<C>) {
    this.#options = settings.options;
    this.#close = settings.closeConnection;
    this.emit = connectionEmitter(
      settings.options.onEvent as ((event: ConnectionEvent<unknown>) => void) | undefined,
      settings.options.packageName,
    );
    this.#idle = new IdleRetirement<C>((connection) => this.#retireIdle(connection));
  }

  /** The adapter's package name, for its errors. */
  get packageName(): string {
    return this.#options.packageName;
  }

  /**
   * Logs one new physical connection in (token, the driver's login through `attempt`, one retry with a
   * fresh token on a refused token) and stamps it. Inline mode resolves the scope from `target.server`
   * unless the `scope` option is set (throws UnknownSqlHostError for an unknown host without one).
   */
  async login(target: LoginTarget, attempt: LoginAttempt<C>): Promise<C> {
    const { tokenSource, tokenMode, scope, lifetime, packageName } = this.#options;
    return await loginWithFreshTokenRetry({
      tokenSource,
      tokenMode,
      scope: tokenMode === "inline" ? resolveScope({ server: target.server, scope }) : scope,
      emit: this.emit,
      packageName,
      server: target.server,
      database: target.database,
      attempt,
      stamp: (connection, used, connectStartedAt) => {
        // Aged from the start of its connect, as the server sees the session (and as Django sets
        // close_at before connecting): a login slowed by the network or a busy server counts.
        const stamp = lifetime.stamp({
          bornAt: connectStartedAt,
          tokenExpiresOnTimestamp: used.expiresOnTimestamp,
          tokenLifetimeInMs: used.lifetimeInMs,
        });
        this.#states.set(connection, {
          stamp,
          inUse: false,
          released: false,
          retired: false,
          sessionExpired: false,
        });
        this.#idle.add(connection, stamp.retireAt);
        return stamp;
      },
    });
  }

  /**
   * On acquire (the pool's validation): false when the connection must not be handed out (retired, due,
   * or as old as one refused with 37396; retired now if so). True marks it in use.
   */
  isUsable(connection: C): boolean {
    const state = this.#states.get(connection);
    if (state === undefined) return true;
    if (this.#retireIfDue(connection, state, "acquire")) return false;
    state.inUse = true;
    this.#idle.delete(connection);
    return true;
  }

  /**
   * `isUsable` around the driver's own validation (mssql's and Kysely's `SELECT 1` round trip): checked
   * before it (a due connection is not validated) and again once it answered, because a round trip to a
   * busy server can carry a connection past its retire time. The pool's validate returns this.
   */
  validate(connection: C, driverValidate: () => boolean | Promise<boolean>): boolean | Promise<boolean> {
    if (!this.isUsable(connection)) return false;
    const verdict = driverValidate();
    if (typeof verdict === "boolean") return verdict;
    return Promise.resolve(verdict).then((ok) => ok && this.isUsable(connection));
  }

  /**
   * As the connection goes back to the pool: closes it when it is retired or due, else it waits idle.
   * Call it BEFORE the pool's own release: a pool may hand the connection to a waiting acquire
   * synchronously inside its release (tarn does), and that acquire must find it in use, not idle.
   */
  onRelease(connection: C): void {
    const state = this.#states.get(connection);
    if (state === undefined) return;
    state.inUse = false;
    state.released = true;
    if (this.#retireIfDue(connection, state, "release")) this.#close(connection);
    else this.#idle.add(connection, state.stamp.retireAt);
  }

  /**
   * A server ERROR message on the connection (tedious' `errorMessage`). 37396 retires it (closed when it
   * comes back, never handed out again) and every connection that logged in no later than it.
   */
  onServerMessage(connection: C, message: unknown): void {
    if (!isAccessTokenExpiredOnSession(message)) return;
    const state = this.#states.get(connection);
    if (state === undefined || state.sessionExpired) return;
    state.sessionExpired = true;
    this.#staleBornAtOrBefore = Math.max(this.#staleBornAtOrBefore, state.stamp.bornAt);
    this.#retire(connection, state, "session-token-expired", "statement");
  }

  /** True when a statement on this connection was refused with 37396: send nothing more on it. */
  isSessionExpired(connection: C): boolean {
    return this.#states.get(connection)?.sessionExpired === true;
  }

  stampOf(connection: C): ConnectionStamp | undefined {
    return this.#states.get(connection)?.stamp;
  }

  /**
   * Ends the connection's session now, the adapter's way (its `closeConnection`): used instead of
   * sending ROLLBACK on a session the server refused.
   */
  endSession(connection: C): void {
    this.#close(connection);
  }

  /** The pool destroyed the connection: forget it. */
  forget(connection: C): void {
    this.#idle.delete(connection);
    this.#states.delete(connection);
  }

  /**
   * A connection that logged in after `since` (epoch ms), for the one retry after a 37396: older ones
   * the pool hands out are retired and given back on the way (at most `pool.maxTries`).
   */
  async acquireBornAfter(since: number, pool: RetryPool<C>): Promise<C> {
    for (let tries = 1; ; tries++) {
      const connection = await pool.acquire();
      const state = this.#states.get(connection);
      if (state === undefined || state.stamp.bornAt > since || tries >= pool.maxTries) return connection;
      this.#retire(connection, state, "session-token-expired", "acquire");
      await pool.release(connection);
    }
  }

  /**
   * Runs a statement refused with 37396 outside a transaction once more, on a connection that logged in
   * after the refusal. The refused connection is given back first (closed as it comes back), so a pool of
   * one does not wait on itself. A second refusal is a SessionTokenExpiredError ("retry").
   */
  async retryOnFreshConnection<T>(
    refused: C,
    pool: RetryPool<C>,
    run: (fresh: C) => Promise<T>,
    extra?: object,
  ): Promise<T> {
    const since = Date.now();
    this.onServerMessage(refused, REFUSAL);
    await pool.release(refused);
    this.statementRetried(extra);
    const fresh = await this.acquireBornAfter(since, pool);
    try {
      return await run(fresh);
    } catch (error) {
      if (isAccessTokenExpiredOnSession(error)) throw this.sessionTokenExpired("retry", error);
      throw error;
    } finally {
      await pool.release(fresh);
    }
  }

  /** The error for a 37396 refusal that is not run again. */
  sessionTokenExpired(during: SessionTokenExpiredDuring, cause: unknown): SessionTokenExpiredError {
    return new SessionTokenExpiredError(during, { cause, packageName: this.#options.packageName });
  }

  /** Reports a statement run again after 37396 (`extra`: the adapter's fields, e.g. the method). */
  statementRetried(extra: object = {}): void {
    this.emit(() => ({ type: "statement-retried", reason: "session-token-expired", ...extra }));
  }

  /** Stops the idle timer: the pool is closing (it destroys its connections itself). */
  close(): void {
    this.#idle.clear();
  }

  #retireIfDue(connection: C, state: ConnectionState, at: At): boolean {
    if (state.retired) return true;
    if (state.stamp.bornAt <= this.#staleBornAtOrBefore) {
      this.#retire(connection, state, "session-token-expired", at);
      return true;
    }
    let reason = this.#options.lifetime.retireReason(state.stamp);
    if (reason === "max-age" && at === "acquire" && !state.released) {
      // Its first use is never refused for its age alone: a login and a validation round trip slower
      // than the max age would otherwise never give a connection. The idle timer still retires it
      // unused; the token bound still applies.
      const { tokenRetireAt } = state.stamp;
      reason = tokenRetireAt !== undefined && Date.now() >= tokenRetireAt ? "token-expiry" : undefined;
    }
    if (reason === undefined) return false;
    this.#retire(connection, state, reason, at);
    return true;
  }

  #retire(connection: C, state: ConnectionState, reason: Reason, at: At): void {
    this.#idle.delete(connection);
    if (state.retired) return;
    state.retired = true;
    this.emit(() => ({ type: "connection-retired", reason, at, ageInMs: Date.now() - state.stamp.bornAt }));
  }

  /** The idle timer found the connection past its retire time: never one in use. */
  #retireIdle(connection: C): void {
    const state = this.#states.get(connection);
    if (state === undefined || state.inUse) return;
    if (this.#retireIfDue(connection, state, "idle")) this.#close(connection);
  }
}
