import {
  type ConnectionStamp,
  isAccessTokenExpiredOnSession,
  loginWithFreshTokenRetry,
  resolveScope,
  safeEmitter,
  type TokenAuthentication,
} from "@entra-sql/core";
import { PACKAGE_NAME } from "./invalid-option.js";
import type { MssqlPoolConstructor, TediousConfig, TediousConnection } from "./mssql-driver.js";
import type { ResolvedOptions } from "./options.js";
import { checkPoolConfig, type PoolValidate } from "./pool-config.js";
import { SESSION_EXPIRY, type SessionExpiryHooks } from "./session-token-expiry.js";

// The ConnectionPool subclass. It overrides four hooks of mssql's tedious pool
// (mssql lib/tedious/connection-pool.js and lib/base/connection-pool.js, v11 and v12):
// - `_config()`: the tedious config of ONE new connection; we put this login's authentication in it;
// - `_poolCreate()`: core's loginWithFreshTokenRetry (token first when inline, login, one retry with a
//   fresh token on 18456); we hand its authentication to mssql's own `_poolCreate()` and stamp;
// - `_poolValidate(connection)`: tarn's `validate`, run on every acquire: retire by age or token first,
//   then mssql's own check, then the user's `pool.validate` (mssql would let that one replace its own);
// - `release(connection)`: a connection past its retire time is closed as it comes back, never in use.
// Error 37396 (session-token-expiry.ts): each connection's `errorMessage` is watched; a refused
// statement marks its connection retired (closed on release, refused on acquire), and `acquire` gives a
// retried request (or transaction, or prepared statement) only a connection that logged in after the
// refusal.
// `request()`, `query()`, `batch()` and `transaction()` use this module's Request and Transaction
// subclasses (mssql's own create the driver's global classes).
// These are underscore methods, not documented API: mssql-driver.ts checks they exist when the module
// is handed in, and the integration tests run against the real mssql.

/** The module's Request and Transaction subclasses, when the mssql module had them. */
export interface EntraClasses {
  Request: (new (...args: unknown[]) => object) | undefined;
  Transaction: (new (...args: unknown[]) => object) | undefined;
}

type AcquireCallback = (error: unknown, connection?: TediousConnection, config?: unknown) => void;

export function createPoolClass(
  Base: MssqlPoolConstructor,
  options: ResolvedOptions,
  classes: EntraClasses = { Request: undefined, Transaction: undefined },
): MssqlPoolConstructor {
  const { tokenSource, tokenMode, lifetime } = options;
  const emit = safeEmitter(options.onEvent);

  class EntraConnectionPool extends Base {
    #scope: string | undefined;
    #userValidate: PoolValidate | undefined;
    #pendingAuthentication: TediousConfig["authentication"] | undefined;
    readonly #stamps = new WeakMap<object, ConnectionStamp>();
    readonly #retired = new WeakSet<object>();
    /** Connections on which a statement was refused with 37396. */
    readonly #sessionExpired = new WeakSet<object>();
    /** Requesters (requests, transactions) whose next acquire needs a connection born after this time. */
    readonly #freshAfter = new WeakMap<object, number>();
    /** Connections that logged in no later than one refused with 37396 are retired too. */
    #staleBornAtOrBefore = Number.NEGATIVE_INFINITY;

    readonly [SESSION_EXPIRY]: SessionExpiryHooks = {
      requireFreshConnection: (requester, since) => {
        this.#freshAfter.set(requester, since);
      },
      isSessionExpired: (connection) =>
        typeof connection === "object" && connection !== null && this.#sessionExpired.has(connection),
    };

    constructor(config: unknown, callback?: unknown) {
      super(config, callback);
      const userValidate = checkPoolConfig(this.config);
      if (userValidate !== undefined && this.config.pool !== undefined) {
        // Taken out so that mssql's tarn options keep `validate: this._poolValidate`, which composes it.
        const { validate: _taken, ...pool } = this.config.pool;
        this.config.pool = pool;
      }
      this.#userValidate = userValidate;
      this.#scope =
        tokenMode === "inline"
          ? resolveScope({ server: this.config.server, scope: options.scope })
          : undefined;
    }

    override _config(): TediousConfig {
      const config = super._config();
      const authentication = this.#pendingAuthentication;
      if (authentication === undefined) {
        throw new Error(
          "@entra-sql/mssql: _config() called outside a login; mssql's pool changed its internals",
        );
      }
      return { ...config, authentication };
    }

    override async _poolCreate(): Promise<TediousConnection> {
      return await loginWithFreshTokenRetry({
        tokenSource,
        tokenMode,
        scope: this.#scope,
        emit,
        packageName: PACKAGE_NAME,
        server: this.config.server,
        database: this.config.database ?? this.config.options?.database,
        attempt: (authentication) => this.#login(authentication),
        stamp: (connection, used) => {
          const stamp = lifetime.stamp(
            used.expiresOnTimestamp === undefined ? {} : { tokenExpiresOnTimestamp: used.expiresOnTimestamp },
          );
          this.#stamps.set(connection, stamp);
          return stamp;
        },
      });
    }

    /** One login: mssql's own `_poolCreate()` with this login's authentication in tedious' config. */
    async #login(authentication: TokenAuthentication): Promise<TediousConnection> {
      const { type, ...options } = authentication;
      this.#pendingAuthentication = { type, options };
      let created: Promise<TediousConnection>;
      try {
        // mssql calls _config() synchronously inside _poolCreate(), before any await.
        created = super._poolCreate();
      } finally {
        this.#pendingAuthentication = undefined;
      }
      const connection = await created;
      connection.on?.("errorMessage", (message: unknown) => {
        if (isAccessTokenExpiredOnSession(message)) this.#onSessionTokenExpired(connection);
      });
      return connection;
    }

    override _poolValidate(connection: TediousConnection): boolean | Promise<boolean> {
      if (this.#retired.has(connection) || this.#shouldRetire(connection, "acquire")) return false;
      const base = super._poolValidate(connection);
      const userValidate = this.#userValidate;
      if (userValidate === undefined) return base;
      if (base === false) return false;
      if (base === true) return userValidate(connection);
      return Promise.resolve(base).then((ok) => ok && userValidate(connection));
    }

    override release(connection: TediousConnection): this {
      // Already retired while in use (37396), or due now.
      const retire = this.#retired.has(connection) || this.#shouldRetire(connection, "release");
      super.release(connection);
      // Back in the pool's free list and marked retired: validation refuses it and tarn destroys it
      // on the next acquire or idle reap; closing it now ends the session at once.
      if (retire && connection.closed !== true) connection.close();
      return this;
    }

    override acquire(requester: object, callback?: AcquireCallback): unknown {
      const since = this.#freshAfter.get(requester);
      if (since === undefined) return super.acquire(requester, callback);
      this.#freshAfter.delete(requester);
      const fresh = this.#acquireBornAfter(requester, since);
      if (typeof callback !== "function") return fresh;
      fresh.then(
        (connection) => process.nextTick(callback, null, connection, this.config),
        (error: unknown) => process.nextTick(callback, error),
      );
      return this;
    }

    /** A connection that logged in after `since`: older ones handed out are retired and closed. */
    async #acquireBornAfter(requester: object, since: number): Promise<TediousConnection> {
      const max = typeof this.config.pool?.max === "number" ? this.config.pool.max : 10;
      for (let attempt = 0; ; attempt++) {
        const connection = (await super.acquire(requester)) as TediousConnection;
        const stamp = this.#stamps.get(connection);
        if (stamp === undefined || stamp.bornAt > since || attempt > max) return connection;
        this.#retire(connection, "acquire", stamp);
        this.release(connection);
      }
    }

    #onSessionTokenExpired(connection: TediousConnection): void {
      if (this.#sessionExpired.has(connection)) return;
      this.#sessionExpired.add(connection);
      const stamp = this.#stamps.get(connection);
      if (stamp !== undefined) this.#staleBornAtOrBefore = Math.max(this.#staleBornAtOrBefore, stamp.bornAt);
      this.#retire(connection, "statement", stamp);
    }

    #retire(
      connection: TediousConnection,
      at: "acquire" | "release" | "statement",
      stamp?: ConnectionStamp,
    ): void {
      if (this.#retired.has(connection)) return;
      this.#retired.add(connection);
      emit(() => ({
        type: "connection-retired",
        reason: "session-token-expired",
        at,
        ageInMs: stamp === undefined ? 0 : Date.now() - stamp.bornAt,
      }));
    }

    #shouldRetire(connection: TediousConnection, at: "acquire" | "release"): boolean {
      const stamp = this.#stamps.get(connection);
      if (stamp !== undefined && stamp.bornAt <= this.#staleBornAtOrBefore) {
        this.#retire(connection, at, stamp);
        return true;
      }
      if (stamp === undefined || lifetime.isUsable(stamp)) return false;
      this.#retired.add(connection);
      const reason = lifetime.retireReason(stamp);
      if (reason !== undefined) {
        emit(() => ({ type: "connection-retired", reason, at, ageInMs: Date.now() - stamp.bornAt }));
      }
      return true;
    }

    override request(...args: unknown[]): unknown {
      const { Request } = classes;
      return Request === undefined ? super.request(...args) : new Request(this, ...args);
    }

    override transaction(...args: unknown[]): unknown {
      const { Transaction } = classes;
      return Transaction === undefined ? super.transaction(...args) : new Transaction(this, ...args);
    }

    override query(...args: unknown[]): unknown {
      const { Request } = classes;
      if (Request === undefined) return super.query(...args);
      return (new Request(this) as { query(...a: unknown[]): unknown }).query(...args);
    }

    override batch(...args: unknown[]): unknown {
      const { Request } = classes;
      if (Request === undefined) return super.batch(...args);
      return (new Request(this) as { batch(...a: unknown[]): unknown }).batch(...args);
    }
  }
  Object.defineProperty(EntraConnectionPool, "name", { value: "EntraConnectionPool" });
  return EntraConnectionPool;
}
