import type { TokenSource } from "@entra-sql/core";
import { invalidOptionFor } from "@entra-sql/core/internal";
import {
  ConnectionLifecycle,
  isAccessTokenExpiredOnSession,
  maxTriesFor,
  PendingLogin,
  queryWithOneRetry,
  type RetryPool,
  requireKnownScope,
  resolveConnectionOptions,
  type TokenAuthentication,
} from "@entra-sql/driver-kit";
import {
  type EntraSequelizeEvent,
  type EntraSequelizeOptions,
  PACKAGE_NAME,
  type ResolvedOptions,
} from "./options.js";
import { checkSequelize } from "./sequelize-checks.js";
import type {
  MssqlQuery,
  MssqlQueryConstructor,
  SequelizeConnectConfig,
  SequelizeInstance,
  TediousConnection,
} from "./sequelize-internals.js";

// The one entry point: a Sequelize instance (dialect "mssql") whose connection manager and Query are
// wired to the driver-kit lifecycle. Sequelize's pool (sequelize-pool) creates a connection through
// `connectionManager.connect(config)`, which builds the tedious Connection synchronously from `config`
// (`dialectOptions.authentication` is merged into tedious' `authentication`): that is each login's seam.
// The pool's default validation calls `connectionManager.validate`; statements and transactions give
// connections back through `releaseConnection`; the pool destroys through `disconnect`; every statement
// (BEGIN and COMMIT included) is one `Query.run` on `this.connection`. Hooks cannot retry a login (one
// `beforeConnect`, one connect), so these are overridden on the instance, not on Sequelize's classes.

const installed = new WeakMap<object, TokenSource>();

/**
 * Makes a Sequelize instance (dialect "mssql") log every new physical connection in with a Microsoft
 * Entra ID token from an `@entra-sql/core` token source, retire pooled connections once they are older
 * than `maxAgeInMs` or their token is within `tokenExpiryMarginInMs` of expiry (never while in use; idle
 * ones are closed when they pass it), retry a refused token login once with a fresh token, and handle
 * error 37396. Call it right after `new Sequelize(...)`, before the first query; it returns the same
 * instance. The instance and the options are checked here. `sequelize.close()` also closes the token
 * source this package created.
 * @example
 * const sequelize = withEntraTokens(
 *   new Sequelize({ dialect: "mssql", host: "myserver.database.windows.net", database: "app",
 *     dialectOptions: { options: { encrypt: true } } }),
 *   { credential: "managed-identity" },
 * );
 */
export function withEntraTokens<S extends object>(sequelize: S, options?: EntraSequelizeOptions): S {
  if (installed.has(sequelize)) {
    throw invalidOptionFor(PACKAGE_NAME)(
      "sequelize",
      "an instance withEntraTokens() was already called on",
      "a Sequelize instance not yet wired (call withEntraTokens once per instance)",
    );
  }
  const server = checkSequelize(sequelize);
  // Resolved last: it may create the token source, which an invalid instance must not leave behind.
  const resolved = resolveConnectionOptions<EntraSequelizeEvent>(options, PACKAGE_NAME);
  try {
    requireKnownScope(resolved, server);
  } catch (error) {
    if (resolved.ownsTokenSource) resolved.tokenSource.close();
    throw error;
  }
  install(sequelize as unknown as SequelizeInstance, resolved);
  installed.set(sequelize, resolved.tokenSource);
  return sequelize;
}

/** The token source the instance's connections log in with (`undefined` if withEntraTokens was not called). */
export function entraTokenSourceOf(sequelize: object): TokenSource | undefined {
  return installed.get(sequelize);
}

function install(sequelize: SequelizeInstance, options: ResolvedOptions): void {
  const manager = sequelize.connectionManager;
  const lifecycle = new ConnectionLifecycle<TediousConnection>({
    options: options as never,
    closeConnection: (connection) => {
      if (connection.closed !== true) connection.close();
    },
  });
  const logins = new PendingLogin(lifecycle);
  // Sequelize's own methods (its classes' prototypes), called by the overrides below.
  const connect = manager.connect.bind(manager);
  const disconnect = manager.disconnect.bind(manager);
  const validate = manager.validate.bind(manager);
  const getConnection = manager.getConnection.bind(manager);
  const release = manager.releaseConnection.bind(manager);
  const close = manager.close.bind(manager);
  /** Logged in, not yet handed out: sequelize-pool gives a new connection to a waiting acquire unvalidated. */
  const unclaimed = new WeakSet<TediousConnection>();
  /** Given back by the 37396 retry before the statement's own release (which is then skipped). */
  const releasedEarly = new WeakSet<TediousConnection>();
  const releaseNow = (connection: TediousConnection) => {
    lifecycle.onRelease(connection);
    release(connection);
  };

  manager.lib = logins.watchingDriver(manager.lib);
  manager.connect = async (config: SequelizeConnectConfig) => {
    const connection = await logins.login(
      { server: config.host ?? "localhost", database: config.database },
      (authentication) => connect(withAuthentication(config, authentication)),
    );
    // Until the server's version is known, a login is Sequelize's version probe: a connection outside the
    // pool, in use from birth until Sequelize disconnects it (the idle timer must not close it under its
    // statement). Pool connections wait for the probe, and are in use once handed out.
    if (sequelize.options.databaseVersion === 0) lifecycle.isUsable(connection);
    else unclaimed.add(connection);
    return connection;
  };
  manager.validate = (connection) => validate(connection) && lifecycle.isUsable(connection);
  manager.getConnection = async (acquireOptions?: object) => {
    const connection = await getConnection(acquireOptions);
    if (unclaimed.delete(connection)) lifecycle.isUsable(connection);
    return connection;
  };
  manager.releaseConnection = (connection) => {
    if (releasedEarly.has(connection)) releasedEarly.delete(connection);
    else releaseNow(connection);
  };
  manager.disconnect = (connection) => {
    unclaimed.delete(connection);
    lifecycle.forget(connection);
    return disconnect(connection);
  };
  manager.close = async () => {
    lifecycle.close();
    try {
      await close();
    } finally {
      if (options.ownsTokenSource) options.tokenSource.close();
    }
  };

  const retryPool = (refused: TediousConnection): RetryPool<TediousConnection> => ({
    acquire: () => manager.getConnection({}),
    release: (connection) => {
      releaseNow(connection);
      if (connection === refused) releasedEarly.add(connection);
    },
    maxTries: maxTriesFor(manager.config.pool?.max),
  });
  sequelize.dialect.Query = entraQueryClass(sequelize.dialect.Query, lifecycle, {
    retryPool,
    acquire: () => manager.getConnection({}),
    releaseNow,
  });
}

/** Sequelize's connect config for one login: `authentication` in tedious' shape, nothing else changed. */
function withAuthentication(
  config: SequelizeConnectConfig,
  { type, ...authOptions }: TokenAuthentication,
): SequelizeConnectConfig {
  return {
    ...config,
    username: undefined,
    password: undefined,
    dialectOptions: { ...config.dialectOptions, authentication: { type, options: authOptions } },
  };
}

interface QueryPools {
  retryPool: (refused: TediousConnection) => RetryPool<TediousConnection>;
  acquire: () => Promise<TediousConnection>;
  releaseNow: (connection: TediousConnection) => void;
}

/**
 * The instance's Query class: a statement refused with 37396 runs once more on a fresh connection outside
 * a transaction and is a SessionTokenExpiredError inside one; a refused BEGIN moves the transaction to a
 * fresh connection and runs BEGIN once more there (nothing of it ran on the refused session).
 */
function entraQueryClass(
  Base: MssqlQueryConstructor,
  lifecycle: ConnectionLifecycle<TediousConnection>,
  pools: QueryPools,
): MssqlQueryConstructor {
  class EntraMssqlQuery extends Base {
    override run(sql: string, parameters?: unknown): Promise<unknown> {
      const connection = this.connection;
      const transaction = this.options.transaction ?? undefined;
      if (
        transaction !== undefined &&
        transaction.parent === undefined &&
        sql.startsWith("BEGIN TRANSACTION")
      ) {
        return this.#begin(sql, parameters, transaction);
      }
      return queryWithOneRetry(lifecycle, {
        connection,
        run: (target) => {
          this.connection = target;
          return super.run(sql, parameters);
        },
        inTransaction: () => transaction !== undefined || connection.inTransaction === true,
        pool: pools.retryPool(connection),
      });
    }

    async #begin(
      sql: string,
      parameters: unknown,
      transaction: NonNullable<MssqlQuery["options"]["transaction"]>,
    ): Promise<unknown> {
      const refused = this.connection;
      try {
        return await super.run(sql, parameters);
      } catch (error) {
        if (!isAccessTokenExpiredOnSession(error) || transaction.connection !== refused) throw error;
        lifecycle.onServerMessage(refused, error);
        const since = Date.now();
        lifecycle.statementRetried();
        // Given back first (closed as it comes back), so that a pool of one does not wait on itself.
        refused.uuid = undefined;
        pools.releaseNow(refused);
        const fresh = await lifecycle.acquireBornAfter(since, {
          acquire: pools.acquire,
          release: pools.releaseNow,
          maxTries: pools.retryPool(refused).maxTries,
        });
        transaction.connection = fresh;
        fresh.uuid = transaction.id;
        this.connection = fresh;
        try {
          return await super.run(sql, parameters);
        } catch (retryError) {
          if (isAccessTokenExpiredOnSession(retryError))
            throw lifecycle.sessionTokenExpired("retry", retryError);
          throw retryError;
        }
      }
    }
  }
  Object.defineProperty(EntraMssqlQuery, "name", { value: "EntraMssqlQuery" });
  return EntraMssqlQuery;
}
