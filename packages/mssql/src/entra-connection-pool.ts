import {
  ConnectionLifecycle,
  FreshConnections,
  maxTriesFor,
  PendingLogin,
  requireKnownScope,
} from "@entra-sql/driver-kit";
import type { AcquireCallback, MssqlClasses, MssqlPoolInternals, TediousConnection } from "./mssql-driver.js";
import type { ResolvedOptions } from "./options.js";
import { PACKAGE_NAME as PACKAGE } from "./options.js";
import { checkPoolConfig } from "./pool-config.js";

// The ConnectionPool subclass: mssql's pool hooks wired to the driver-kit lifecycle. `_poolCreate()`
// reads `_config()` and calls `beforeConnect` synchronously, so each login attempt is that call with the
// login pending. `request`, `query`, `batch`, `transaction`: this module's classes, not mssql's globals.

/** Each pool's FreshConnections, for this module's Request, Transaction and PreparedStatement. */
export const poolLinks = new WeakMap<object, FreshConnections<TediousConnection>>();
export const poolLinkOf = (parent: unknown) => poolLinks.get(parent as object);

type Class = new (...args: unknown[]) => object;
type PoolClass = new (config: unknown, callback?: unknown) => MssqlPoolInternals;

export function createPoolClass(
  classes: MssqlClasses & { Request: Class; Transaction: Class },
  options: ResolvedOptions,
): PoolClass {
  const { ConnectionPool, Request, Transaction } = classes;

  class EntraConnectionPool extends (ConnectionPool as unknown as PoolClass) {
    readonly #lifecycle = new ConnectionLifecycle<TediousConnection>({
      options: options as never,
      closeConnection: (connection) => connection.closed !== true && connection.close(),
    });
    readonly #logins = new PendingLogin(this.#lifecycle);
    readonly #fresh = new FreshConnections(this.#lifecycle);
    readonly #userValidate;

    constructor(config: unknown, callback?: unknown) {
      super(config, callback);
      poolLinks.set(this, this.#fresh);
      const { validate, beforeConnect } = checkPoolConfig(this.config);
      this.#userValidate = validate;
      requireKnownScope(options, this.config.server);
      this.config.beforeConnect = (connection) => {
        this.#logins.watch(connection);
        beforeConnect?.(connection);
      };
    }

    override _config(): Record<string, unknown> {
      const authentication = this.#logins.authentication;
      if (authentication === undefined)
        throw new Error(`${PACKAGE}: _config() outside a login; mssql changed`);
      const { type, ...authOptions } = authentication;
      return { ...super._config(), authentication: { type, options: authOptions } };
    }

    override _poolCreate(): Promise<TediousConnection> {
      const database = this.config.database ?? this.config.options?.database;
      return this.#logins.login({ server: this.config.server, database }, () => super._poolCreate());
    }

    /** The lifecycle around mssql's own check (its `SELECT 1`), then the user's `pool.validate`. */
    override _poolValidate(connection: TediousConnection): boolean | Promise<boolean> {
      return this.#lifecycle.validate(connection, () => {
        const base = super._poolValidate(connection);
        const user = this.#userValidate;
        return user === undefined || base === false
          ? base
          : Promise.resolve(base).then((ok) => ok && user(connection));
      });
    }

    override release(connection: TediousConnection): this {
      this.#lifecycle.onRelease(connection);
      super.release(connection);
      return this;
    }

    override _poolDestroy(connection: TediousConnection): Promise<void> {
      this.#lifecycle.forget(connection);
      return super._poolDestroy(connection);
    }

    override close(...args: unknown[]): unknown {
      this.#lifecycle.close();
      return super.close(...args);
    }

    /** A requester retrying after 37396 gets a connection that logged in after the refusal. */
    override acquire(requester: object, callback?: AcquireCallback): unknown {
      const fresh = this.#fresh.acquire(requester, {
        acquire: () => super.acquire(requester) as Promise<TediousConnection>,
        release: (connection) => this.release(connection),
        maxTries: maxTriesFor(this.config.pool?.max),
      });
      if (fresh === undefined) return super.acquire(requester, callback);
      if (typeof callback !== "function") return fresh;
      // Called outside the promise, as mssql would: a throwing callback is not a rejection.
      fresh.then(
        (c) => process.nextTick(callback, null, c, this.config),
        (e) => process.nextTick(callback, e),
      );
      return this;
    }

    request(...args: unknown[]): unknown {
      return new Request(this, ...args);
    }

    transaction(...args: unknown[]): unknown {
      return new Transaction(this, ...args);
    }

    query(...args: unknown[]): unknown {
      return (new Request(this) as { query(...a: unknown[]): unknown }).query(...args);
    }

    batch(...args: unknown[]): unknown {
      return (new Request(this) as { batch(...a: unknown[]): unknown }).batch(...args);
    }
  }
  Object.defineProperty(EntraConnectionPool, "name", { value: "EntraConnectionPool" });
  return EntraConnectionPool;
}
