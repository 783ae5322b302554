import { resolveScope } from "@entra-sql/core";
import {
  ConnectionLifecycle,
  type LoginAttempt,
  type TokenAuthentication,
  watchTediousConnection,
} from "@entra-sql/driver-kit";
import type { MssqlClasses, MssqlPoolInternals, TediousConnection } from "./mssql-driver.js";
import type { ResolvedOptions } from "./options.js";
import { checkPoolConfig } from "./pool-config.js";

// The ConnectionPool subclass: mssql's pool hooks wired to the connection lifecycle (driver-kit).
// `_poolCreate` runs the lifecycle's login, each attempt being mssql's own `_poolCreate` with this
// login's authentication in `_config()` and `beforeConnect` wiring the new tedious Connection; tarn's
// `validate` (`_poolValidate`), `release` and `_poolDestroy` report to the lifecycle; `acquire` gives a
// requester retrying after 37396 a connection born after the refusal; `request`, `query`, `batch` and
// `transaction` use this module's classes (mssql's own would use the driver's global ones).

/** What the module's Request, Transaction and PreparedStatement reach through their pool. */
export interface PoolLink {
  readonly lifecycle: ConnectionLifecycle<TediousConnection>;
  /** The next acquire by `requester` must get a connection that logged in after `since` (epoch ms). */
  requireFreshConnection(requester: object, since: number): void;
}

/** The key of a pool's PoolLink: a symbol, not public API. */
export const POOL_LINK = Symbol("@entra-sql/mssql pool");

/** The pool link of `parent` when it is one of this package's pools. */
export const poolLinkOf = (parent: unknown): PoolLink | undefined =>
  typeof parent === "object" && parent !== null
    ? (parent as { [POOL_LINK]?: PoolLink })[POOL_LINK]
    : undefined;

type Class = new (...args: unknown[]) => object;
type Callback = (error: unknown, connection?: unknown, config?: unknown) => void;

type PoolClass = new (config: unknown, callback?: unknown) => MssqlPoolInternals;

export function createPoolClass(
  classes: MssqlClasses & { Request: Class; Transaction: Class },
  options: ResolvedOptions,
): PoolClass {
  const Base = classes.ConnectionPool as unknown as PoolClass;
  const { Request, Transaction } = classes;

  class EntraConnectionPool extends Base {
    readonly #lifecycle = new ConnectionLifecycle<TediousConnection>({
      options: options as never,
      closeConnection: (connection) => connection.closed !== true && connection.close(),
    });
    readonly #freshAfter = new WeakMap<object, number>();
    readonly #userValidate;
    #pending:
      | { authentication: TokenAuthentication; onServerMessage: (message: unknown) => void }
      | undefined;
    readonly [POOL_LINK]: PoolLink = {
      lifecycle: this.#lifecycle,
      requireFreshConnection: (requester, since) => this.#freshAfter.set(requester, since),
    };

    constructor(config: unknown, callback?: unknown) {
      super(config, callback);
      const { validate, beforeConnect } = checkPoolConfig(this.config);
      this.#userValidate = validate;
      // A host with no known cloud suffix needs `scope`: say so now, not at the first login.
      if (options.tokenMode === "inline") resolveScope({ server: this.config.server, scope: options.scope });
      this.config.beforeConnect = (connection) => {
        if (this.#pending !== undefined) {
          watchTediousConnection(this.#lifecycle, connection, this.#pending.onServerMessage);
        }
        beforeConnect?.(connection);
      };
    }

    override _config(): Record<string, unknown> {
      if (this.#pending === undefined) {
        throw new Error(`${options.packageName}: mssql called _config() outside a login; its pool changed`);
      }
      const { type, ...authOptions } = this.#pending.authentication;
      return { ...super._config(), authentication: { type, options: authOptions } };
    }

    override _poolCreate(): Promise<TediousConnection> {
      const database = this.config.database ?? this.config.options?.database;
      return this.#lifecycle.login({ server: this.config.server, database }, this.#attempt);
    }

    /** One login: mssql's `_poolCreate()` reads `_config()` and calls `beforeConnect` synchronously. */
    readonly #attempt: LoginAttempt<TediousConnection> = (authentication, onServerMessage) => {
      this.#pending = { authentication, onServerMessage };
      try {
        return super._poolCreate();
      } finally {
        this.#pending = undefined;
      }
    };

    /** The lifecycle first, then mssql's own check, then the user's `pool.validate`. */
    override _poolValidate(connection: TediousConnection): boolean | Promise<boolean> {
      if (!this.#lifecycle.isUsable(connection)) return false;
      const base = super._poolValidate(connection);
      const userValidate = this.#userValidate;
      if (userValidate === undefined || base === false) return base;
      return Promise.resolve(base).then((ok) => ok && userValidate(connection));
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

    override acquire(requester: object, callback?: Callback): unknown {
      const since = this.#freshAfter.get(requester);
      if (since === undefined) return super.acquire(requester, callback);
      this.#freshAfter.delete(requester);
      const fresh = this.#lifecycle.acquireBornAfter(since, {
        acquire: () => super.acquire(requester) as Promise<TediousConnection>,
        release: (connection) => this.release(connection),
        maxTries: (typeof this.config.pool?.max === "number" ? this.config.pool.max : 10) + 1,
      });
      if (typeof callback !== "function") return fresh;
      fresh.then(
        (connection) => process.nextTick(callback, null, connection, this.config),
        (error: unknown) => process.nextTick(callback, error),
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
