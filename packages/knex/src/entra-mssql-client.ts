import {
  ConnectionLifecycle,
  maxTriesFor,
  PendingLogin,
  queryWithOneRetry,
  type RetryPool,
  type StreamSink,
  streamWithOneRetry,
} from "@entra-sql/driver-kit";
import { retryRefusedBegin } from "./begin-retry.js";
import { checkConnection } from "./knex-config.js";
import type { MssqlDialect } from "./knex-dialect.js";
import type {
  KnexTransaction,
  MssqlClientConstructor,
  MssqlClientInternals,
  TediousConnection,
  TediousModule,
} from "./knex-internals.js";
import type { ResolvedOptions } from "./options.js";
import { enqueue, runNext } from "./request-queue.js";
import { nameTransactionRefusals } from "./session-token-expiry.js";

// A subclass of the app's own Knex mssql client (Knex accepts a Client class as `client`): its dialect
// hooks wired to the driver-kit lifecycle. `acquireRawConnection()` is the pool's `create`: Knex builds
// the tedious Connection synchronously (tedious from `_driver()`) from `connectionSettings`, which it maps
// to tedious' (`type`, `token`, on Knex >= 3.3 `credential`). No `#private` members: Knex runs
// transactions on `Object.create(Client.prototype)`, an object that never ran our constructor.

export function createEntraClientClass(
  dialect: MssqlDialect,
  options: ResolvedOptions,
): MssqlClientConstructor {
  const lifecycle = new ConnectionLifecycle<TediousConnection>({
    options: options as never,
    closeConnection: closeRetired,
  });
  const logins = new PendingLogin(lifecycle);

  class EntraMssqlClient extends dialect.Client {
    override _driver(): TediousModule {
      return logins.watchingDriver(super._driver());
    }

    override async acquireRawConnection(): Promise<TediousConnection> {
      // A connection provider function's result is checked at each login; a static one at creation.
      const settings = this.connectionSettings;
      const server = checkConnection(settings, "connection");
      const database = typeof settings.database === "string" ? settings.database : undefined;
      const connection = await logins.login({ server, database }, (authentication) => {
        // Knex reads the settings synchronously; the token is never left there for anyone to print.
        this.connectionSettings = { ...settings, ...authentication };
        try {
          return super.acquireRawConnection();
        } finally {
          this.connectionSettings = settings;
        }
      });
      nameTransactionRefusals(connection, lifecycle);
      return connection;
    }

    override validateConnection(connection: TediousConnection): boolean {
      return super.validateConnection(connection) && lifecycle.isUsable(connection);
    }

    override releaseConnection(connection: TediousConnection): Promise<void> {
      lifecycle.onRelease(connection);
      return super.releaseConnection(connection);
    }

    override destroyRawConnection(connection: TediousConnection): Promise<void> {
      lifecycle.forget(connection);
      // Already closed when retired: Knex's destroy would wait for an 'end' that has been and gone.
      if (connection.closed === true) return Promise.resolve();
      return super.destroyRawConnection(connection);
    }

    override _query(connection: TediousConnection, query: object): Promise<unknown> {
      return queryWithOneRetry(lifecycle, {
        connection,
        run: (target) => super._query(target, query),
        inTransaction: () => this.transacting === true || connection.inTransaction === true,
        pool: retryPool(this),
      });
    }

    override _stream(
      connection: TediousConnection,
      query: object,
      stream: StreamSink,
      options?: unknown,
    ): Promise<void> {
      return streamWithOneRetry(lifecycle, {
        connection,
        stream,
        run: (target, sink) => super._stream(target, query, sink, options),
        inTransaction: () => this.transacting === true || connection.inTransaction === true,
        pool: retryPool(this),
      });
    }

    override transaction(
      container: unknown,
      config?: Record<string, unknown>,
      outerTx?: unknown,
    ): KnexTransaction {
      const trx = super.transaction(container, config, outerTx);
      // Nested transactions are savepoints (no BEGIN); a transaction given its connection keeps it.
      const nested = (outerTx !== undefined && outerTx !== null) || this.transacting === true;
      if (nested || config?.connection !== undefined) return trx;
      const again = (fresh: TediousConnection) =>
        super.transaction(container, { ...config, connection: fresh }, outerTx) as PromiseLike<unknown>;
      retryRefusedBegin(trx, again, lifecycle, retryPool(this));
      return trx;
    }

    override _enqueueRequest(request: unknown, connection: TediousConnection): void {
      enqueue(request, connection);
      this._chomp(connection);
    }

    override _chomp(connection: TediousConnection): void {
      runNext(connection);
    }

    override async destroy(callback?: unknown): Promise<void> {
      lifecycle.close();
      try {
        await super.destroy(callback);
      } finally {
        if (options.ownsTokenSource) options.tokenSource.close();
      }
    }
  }
  Object.defineProperty(EntraMssqlClient, "name", { value: "EntraMssqlClient" });
  return EntraMssqlClient;
}

/** The client's pool, as the one retry after a 37396 uses it. */
function retryPool(client: MssqlClientInternals): RetryPool<TediousConnection> {
  return {
    acquire: () => client.acquireConnection(),
    release: (connection) => client.releaseConnection(connection),
    maxTries: maxTriesFor(client.pool?.max),
  };
}

/**
 * Closes a retired connection. Knex's 'end' handler marks it `__knex__disposed`, and the pool's validate
 * would then warn "Connection Error: Connection to server was terminated."; this end was ours, so the
 * mark is taken off again (validation refuses it anyway: it is closed).
 */
function closeRetired(connection: TediousConnection): void {
  if (connection.closed === true) return;
  connection.once("end", () => {
    delete connection.__knex__disposed;
  });
  connection.close();
}
