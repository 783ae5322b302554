import {
  ConnectionLifecycle,
  installedVersion,
  isAccessTokenExpiredOnSession,
  isUnnamedRefusal,
  maxTriesFor,
  queryWithOneRetry,
  type RetryPool,
  requireMethods,
  type TokenAuthentication,
  watchTediousConnection,
} from "@entra-sql/driver-kit";
import type { CheckedSettings } from "./dialect-settings.js";
import {
  KYSELY_CONNECTION_METHODS,
  type KyselyConnection,
  type KyselyPoolOptions,
  type TarnModule,
  type TarnPool,
  type TediousConnection,
  type TediousModule,
} from "./kysely-internals.js";
import { PACKAGE_NAME, type ResolvedOptions } from "./options.js";

// The glue. Kysely builds its tarn Pool from `tarn.Pool` and logs in through `tedious.connectionFactory`;
// both are ours. The Pool subclass wraps the three hooks Kysely hands it (one lifecycle per pool):
// - create: the lifecycle's login (a tedious Connection per attempt, fresh token, one retry after an 18456
//   token refusal), then Kysely's own create, which takes that logged-in Connection from
//   `connectionFactory` and wraps it (its `connect()` on it calls back at once);
// - validate: the lifecycle's age and token check before Kysely's `select 1` and again after it; release:
//   the lifecycle first (it may close a retired connection), then tarn's; destroy: forget it (and skip
//   Kysely's close of a connection already closed: Kysely 0.27 would wait for an 'end' that has been and
//   gone);
// - each Kysely connection's query, stream and transaction methods (own properties over its class's):
//   37396 run once more on a fresh connection outside a transaction, named inside one.

export interface EntraPoolSettings {
  tedious: TediousModule;
  tarn: TarnModule;
  settings: CheckedSettings;
  options: ResolvedOptions;
}

interface Wired {
  connection: TediousConnection;
  /** Kysely's own methods, bound to its connection object. */
  own: KyselyConnection;
}

/** The tarn Pool class Kysely gets, and the `connectionFactory` it calls inside the pool's create. */
export function createEntraPool(config: EntraPoolSettings): {
  Pool: new (options: never) => object;
  connectionFactory: () => TediousConnection;
} {
  const { tedious, settings, options } = config;
  const Tarn = config.tarn.Pool as unknown as new (options: object) => TarnPool;
  /** The logged-in Connection Kysely's create is about to take (it calls the factory synchronously). */
  let handing: TediousConnection | undefined;

  const connectionFactory = (): TediousConnection => {
    const connection = handing;
    handing = undefined;
    if (connection === undefined) {
      throw new Error(
        `${PACKAGE_NAME}: Kysely called tedious.connectionFactory() outside its pool's create; with ${installedVersion("kysely", __filename)} this package cannot log the connection in (Kysely 0.27 to 0.29 call it first thing in create)`,
      );
    }
    return connection;
  };

  class EntraPool extends Tarn {
    readonly #lifecycle: ConnectionLifecycle<TediousConnection>;
    readonly #wired = new WeakMap<object, Wired>();
    readonly #wrappers = new WeakMap<TediousConnection, KyselyConnection>();

    constructor(kyselyOptions: KyselyPoolOptions) {
      const lifecycle = new ConnectionLifecycle<TediousConnection>({
        options: options as never,
        closeConnection: closeQuietly,
      });
      const kyselyCreate = kyselyOptions.create;
      const kyselyDestroy = kyselyOptions.destroy;
      const kyselyValidate = kyselyOptions.validate;
      if (typeof kyselyOptions.create !== "function" || typeof kyselyOptions.destroy !== "function") {
        requireMethods(kyselyOptions, ["create", "destroy"], {
          packageName: PACKAGE_NAME,
          option: "MssqlDialect",
          driver: `${installedVersion("kysely", __filename)}, whose MssqlDriver gives its pool options that`,
          supported: "Kysely 0.27 to 0.29",
        });
      }
      const wiredOf = (wrapper: KyselyConnection) =>
        this === undefined ? undefined : this.#wired.get(wrapper);
      super({
        ...kyselyOptions,
        create: () => {
          if (this === undefined) throw new Error(`${PACKAGE_NAME}: the pool is not constructed yet`);
          return this.#create(kyselyCreate);
        },
        destroy: (wrapper: KyselyConnection) => {
          const connection = wiredOf(wrapper)?.connection;
          if (connection !== undefined) {
            lifecycle.forget(connection);
            if (connection.closed === true) return undefined;
          }
          return kyselyDestroy(wrapper);
        },
        validate: (wrapper: KyselyConnection) => {
          const connection = wiredOf(wrapper)?.connection;
          const validate = () =>
            kyselyValidate === undefined ? true : Promise.resolve(kyselyValidate(wrapper)).then(Boolean);
          if (connection === undefined) return validate();
          return lifecycle.validate(connection, validate);
        },
      });
      this.#lifecycle = lifecycle;
    }

    override release(wrapper: unknown): boolean {
      const connection = this.#wired.get(wrapper as object)?.connection;
      if (connection !== undefined) this.#lifecycle.onRelease(connection);
      return super.release(wrapper);
    }

    override async destroy(): Promise<unknown> {
      this.#lifecycle.close();
      try {
        return await super.destroy();
      } finally {
        if (options.ownsTokenSource) options.tokenSource.close();
      }
    }

    async #create(kyselyCreate: () => Promise<KyselyConnection>): Promise<KyselyConnection> {
      const lifecycle = this.#lifecycle;
      const connection = await lifecycle.login(
        { server: settings.server, database: settings.database },
        (authentication, onServerMessage) => this.#connect(authentication, onServerMessage),
      );
      let wrapper: KyselyConnection;
      try {
        handing = connection;
        const created = kyselyCreate();
        handing = undefined;
        wrapper = await created;
        if (!KYSELY_CONNECTION_METHODS.every((name) => typeof wrapper[name] === "function"))
          requireMethods(wrapper, KYSELY_CONNECTION_METHODS, {
            packageName: PACKAGE_NAME,
            option: "MssqlDialect",
            driver: `${installedVersion("kysely", __filename)}, whose MssqlConnection`,
            supported: "Kysely 0.27 to 0.29",
          });
      } catch (error) {
        handing = undefined;
        lifecycle.forget(connection);
        closeQuietly(connection);
        throw error;
      }
      this.#wire(wrapper, connection);
      return wrapper;
    }

    /** One login attempt: a new tedious Connection with this authentication, connected. */
    #connect(
      authentication: TokenAuthentication,
      onServerMessage: (message: unknown) => void,
    ): Promise<TediousConnection> {
      const lifecycle = this.#lifecycle;
      return new Promise((resolve, reject) => {
        const tediousAuthentication =
          authentication.type === "azure-active-directory-access-token"
            ? { type: authentication.type, options: { token: authentication.token } }
            : { type: authentication.type, options: { credential: authentication.credential } };
        const connection = new tedious.Connection({
          server: settings.server,
          options: { ...settings.tediousOptions },
          authentication: tediousAuthentication,
        } as never) as TediousConnection;
        watchTediousConnection(lifecycle, connection, onServerMessage);
        // A socket error after the login: tedious closes the connection, and validation refuses it.
        connection.on("error", () => closeQuietly(connection));
        connection.connect((error) => {
          if (error !== undefined && error !== null) {
            closeQuietly(connection);
            reject(error);
            return;
          }
          // Kysely calls connect() on what connectionFactory gives it: this one is connected already.
          Object.defineProperty(connection, "connect", {
            configurable: true,
            value: (callback?: (error?: unknown) => void) => queueMicrotask(() => callback?.()),
          });
          resolve(connection);
        });
      });
    }

    /** Kysely's connection object: its statements through the lifecycle's 37396 handling. */
    #wire(wrapper: KyselyConnection, connection: TediousConnection): void {
      const lifecycle = this.#lifecycle;
      const own: KyselyConnection = {
        executeQuery: wrapper.executeQuery.bind(wrapper),
        streamQuery: wrapper.streamQuery.bind(wrapper),
        beginTransaction: wrapper.beginTransaction.bind(wrapper),
        commitTransaction: wrapper.commitTransaction.bind(wrapper),
        rollbackTransaction: wrapper.rollbackTransaction.bind(wrapper),
      };
      this.#wired.set(wrapper, { connection, own });
      this.#wrappers.set(connection, wrapper);
      // Kysely resets a connection as it releases it (0.27 always): a closed or refused session needs none,
      // and a reset the server refuses with 37396 has retired the connection (closed as it comes back).
      const reset = connection.reset;
      connection.reset = (callback) => {
        if (connection.closed === true || lifecycle.isSessionExpired(connection)) {
          queueMicrotask(() => callback());
          return undefined;
        }
        return reset.call(connection, (error?: unknown, ...rest: unknown[]) => {
          if (isAccessTokenExpiredOnSession(error)) {
            lifecycle.onServerMessage(connection, error);
            callback();
          } else callback(error, ...rest);
        });
      };
      let transaction = false;
      /** A statement on it was refused with 37396 (the lifecycle forgets it once the pool destroys it). */
      let refused = false;
      connection.on("errorMessage", (message: unknown) => {
        if (isAccessTokenExpiredOnSession(message)) refused = true;
      });
      const inTransaction = () => transaction || connection.inTransaction === true;
      const pool = this.#retryPool();
      const ownOf = (target: TediousConnection): KyselyConnection => {
        const other = this.#wrappers.get(target);
        const found = other === undefined ? undefined : this.#wired.get(other)?.own;
        if (found === undefined) throw new Error(`${PACKAGE_NAME}: a pooled connection was not created here`);
        return found;
      };
      const named = (error: unknown, during: "begin" | "transaction"): unknown => {
        if (!isUnnamedRefusal(error)) return error;
        lifecycle.onServerMessage(connection, error);
        return lifecycle.sessionTokenExpired(during, error);
      };
      Object.assign(wrapper, {
        executeQuery: async (compiledQuery: unknown) => {
          if (refused && !inTransaction()) {
            // Refused with 37396 and closed, while Kysely still holds it (db.connection()): each later
            // statement runs on a connection from the pool.
            const fresh = await pool.acquire();
            try {
              return await ownOf(fresh).executeQuery(compiledQuery);
            } finally {
              await pool.release(fresh);
            }
          }
          return queryWithOneRetry(lifecycle, {
            connection,
            run: (target) => ownOf(target).executeQuery(compiledQuery),
            inTransaction,
            pool,
          });
        },
        streamQuery: (compiledQuery: unknown, chunkSize?: number) =>
          this.#stream(connection, own, compiledQuery, chunkSize, inTransaction, ownOf),
        beginTransaction: async (settings: unknown) => {
          try {
            await own.beginTransaction(settings);
            transaction = true;
          } catch (error) {
            throw named(error, "begin");
          }
        },
        commitTransaction: async () => {
          try {
            await own.commitTransaction();
            transaction = false;
          } catch (error) {
            throw named(error, "transaction");
          }
        },
        rollbackTransaction: async (savepointName?: string) => {
          try {
            if (savepointName === undefined) await own.rollbackTransaction();
            else await own.rollbackTransaction(savepointName);
          } finally {
            if (savepointName === undefined) transaction = false;
          }
        },
      } satisfies KyselyConnection);
    }

    /**
     * A streamed query refused with 37396: before any rows and outside a transaction it runs once more on
     * a connection that logged in after the refusal; otherwise a SessionTokenExpiredError.
     */
    async *#stream(
      connection: TediousConnection,
      own: KyselyConnection,
      compiledQuery: unknown,
      chunkSize: number | undefined,
      inTransaction: () => boolean,
      ownOf: (target: TediousConnection) => KyselyConnection,
    ): AsyncGenerator<unknown, void, undefined> {
      const lifecycle = this.#lifecycle;
      let delivered = 0;
      try {
        for await (const chunk of own.streamQuery(compiledQuery, chunkSize)) {
          delivered++;
          yield chunk;
        }
        return;
      } catch (error) {
        if (!isAccessTokenExpiredOnSession(error)) throw error;
        lifecycle.onServerMessage(connection, error);
        if (inTransaction()) throw lifecycle.sessionTokenExpired("transaction", error);
        if (delivered > 0) throw lifecycle.sessionTokenExpired("stream", error);
      }
      const pool = this.#retryPool();
      const since = Date.now();
      // Given back first (closed as it comes back), so that a pool of one does not wait on itself.
      await pool.release(connection);
      lifecycle.statementRetried();
      const fresh = await lifecycle.acquireBornAfter(since, pool);
      try {
        yield* ownOf(fresh).streamQuery(compiledQuery, chunkSize);
      } catch (error) {
        if (isAccessTokenExpiredOnSession(error)) {
          lifecycle.onServerMessage(fresh, error);
          throw lifecycle.sessionTokenExpired("retry", error);
        }
        throw error;
      } finally {
        await pool.release(fresh);
      }
    }

    /** This pool, as the one retry after a 37396 takes a fresh connection from it. */
    #retryPool(): RetryPool<TediousConnection> {
      return {
        acquire: async () => {
          const wrapper = (await this.acquire().promise) as KyselyConnection;
          const connection = this.#wired.get(wrapper)?.connection;
          if (connection === undefined)
            throw new Error(`${PACKAGE_NAME}: a pooled connection was not created here`);
          return connection;
        },
        release: (connection) => {
          const wrapper = this.#wrappers.get(connection);
          if (wrapper !== undefined) this.release(wrapper);
        },
        maxTries: maxTriesFor(this.max),
      };
    }
  }
  Object.defineProperty(EntraPool, "name", { value: "EntraPool" });
  return { Pool: EntraPool as unknown as new (options: never) => object, connectionFactory };
}

/** Ends a connection now unless it has ended already. */
function closeQuietly(connection: TediousConnection): void {
  if (connection.closed !== true) connection.close();
}
