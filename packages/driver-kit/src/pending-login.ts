import type { ConnectionLifecycle, LoginTarget } from "./connection-lifecycle.js";
import { type TediousConnectionLike, watchTediousConnection } from "./tedious-connection.js";
import type { TokenAuthentication } from "./token-login.js";

// Drivers build a tedious Connection synchronously inside the call that starts a login (mssql's
// `_poolCreate()`, Knex's `acquireRawConnection()`): they read the login settings, and hand the new
// Connection to a hook (mssql's `beforeConnect`; for Knex, a Connection subclass: `watchingDriver`),
// before that call returns. A PendingLogin holds one login's authentication for exactly that stretch, so
// the adapter's hooks find it, and nothing of it is left for the next login or for a logger.

type ConnectionClass = new (config: never) => TediousConnectionLike;

export class PendingLogin<C extends TediousConnectionLike> {
  readonly #lifecycle: ConnectionLifecycle<C>;
  #current: { authentication: TokenAuthentication; onServerMessage: (message: unknown) => void } | undefined;
  readonly #drivers = new WeakMap<object, object>();

  constructor(lifecycle: ConnectionLifecycle<C>) {
    this.#lifecycle = lifecycle;
  }

  /**
   * The lifecycle's login (`ConnectionLifecycle.login`), each attempt being `start(authentication)`: the
   * driver's own start of one connection, run with this login pending.
   * @example override _poolCreate() { return this.#logins.login({ server }, () => super._poolCreate()); }
   */
  login(target: LoginTarget, start: (authentication: TokenAuthentication) => Promise<C>): Promise<C> {
    return this.#lifecycle.login(target, (authentication, onServerMessage) => {
      this.#current = { authentication, onServerMessage };
      try {
        return start(authentication);
      } finally {
        this.#current = undefined;
      }
    });
  }

  /** The authentication of the login being started; `undefined` outside one. */
  get authentication(): TokenAuthentication | undefined {
    return this.#current?.authentication;
  }

  /**
   * Call it from the driver's hook that sees each new Connection before its login runs: a Connection of
   * the pending login is wired to the lifecycle (`watchTediousConnection`); any other is left alone.
   */
  watch(connection: C): void {
    const current = this.#current;
    if (current !== undefined) watchTediousConnection(this.#lifecycle, connection, current.onServerMessage);
  }

  /**
   * For a driver that loads tedious itself (Knex's `_driver()`): that module with a Connection subclass
   * that calls `watch` as each Connection is created. One per module; everything else is tedious' own.
   */
  watchingDriver<M extends { Connection: ConnectionClass }>(tedious: M): M {
    let watched = this.#drivers.get(tedious) as M | undefined;
    if (watched === undefined) {
      const watch = (connection: TediousConnectionLike) => this.watch(connection as C);
      class Connection extends tedious.Connection {
        constructor(config: never) {
          super(config);
          watch(this);
        }
      }
      watched = Object.create(tedious, { Connection: { value: Connection } }) as M;
      this.#drivers.set(tedious, watched);
    }
    return watched;
  }
}
