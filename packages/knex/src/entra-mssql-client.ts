import {
  ConnectionLifecycle,
  isAccessTokenExpiredOnSession,
  type LoginAttempt,
  type RetryPool,
  type StreamSink,
  streamWithOneRetry,
  watchTediousConnection,
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

// A subclass of the app's own Knex mssql client, handed to Knex as `client` (Knex accepts a Client
// class there). Knex's dialect hooks, wired to the connection lifecycle (@entra-sql/driver-kit):
// - `acquireRawConnection()`: the pool's `create`. The lifecycle's login; each attempt is Knex's own,
//   with this login's authentication in the connection settings Knex maps to tedious' (`type`, `token`,
//   and on Knex >= 3.3 `credential`) only while Knex builds that one connection;
// - `_driver()`: tedious, with a Connection subclass that wires each new connection to the lifecycle
//   before its login runs (server messages, rollback guard, hidden token);
// - `validateConnection` (on every acquire), `releaseConnection`, `destroyRawConnection`: the lifecycle;
// - `_query`, `_stream`, `transaction`: 37396 (statement-retry.ts, stream-retry.ts, begin-retry.ts);
// - `_enqueueRequest` / `_chomp`: one request queue per connection (request-queue.ts);
// - `destroy()`: closes the token source when this package created it.
// No `#private` members: Knex runs transactions on `Object.create(Client.prototype)`, an object that never
// ran our constructor; state lives in this closure.

export function createEntraClientClass(
  dialect: MssqlDialect,
  options: ResolvedOptions,
): MssqlClientConstructor {
  const lifecycle = new ConnectionLifecycle<TediousConnection>({
    options: options as never,
    closeConnection: closeRetired,
  });
  /** The login whose Connection Knex is creating right now (it does so synchronously). */
  let pending: ((message: unknown) => void) | undefined;
  const drivers = new WeakMap<TediousModule, TediousModule>();

  class EntraMssqlClient extends dialect.Client {
    override _driver(): TediousModule {
      const tedious = super._driver();
      let watched = drivers.get(tedious);
      if (watched === undefined) {
        class Connection extends tedious.Connection {
          constructor(config: never) {
            super(config);
            if (pending !== undefined) watchTediousConnection(lifecycle, this, pending);
          }
        }
        watched = Object.create(tedious, { Connection: { value: Connection } }) as TediousModule;
        drivers.set(tedious, watched);
      }
      return watched;
    }

    override async acquireRawConnection(): Promise<TediousConnection> {
      // A connection provider function's result is checked at each login; a static one at creation.
      const settings = this.connectionSettings;
      const server = checkConnection(settings, "connection");
      const database = typeof settings.database === "string" ? settings.database : undefined;
      const attempt: LoginAttempt<TediousConnection> = async (authentication, onServerMessage) => {
        // Knex reads the settings synchronously to build this one Connection; the token is never left in
        // `connectionSettings` for anyone to print.
        this.connectionSettings = { ...settings, ...authentication };
        pending = onServerMessage;
        let created: Promise<TediousConnection>;
        try {
          created = super.acquireRawConnection();
        } finally {
          this.connectionSettings = settings;
          pending = undefined;
        }
        const connection = await created;
        nameTransactionRefusals(connection, lifecycle);
        return connection;
      };
      return await lifecycle.login({ server, database }, attempt);
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

    override async _query(connection: TediousConnection, query: object): Promise<unknown> {
      try {
        return await super._query(connection, query);
      } catch (error) {
        if (!isAccessTokenExpiredOnSession(error)) throw error;
        lifecycle.onServerMessage(connection, error);
        if (this.transacting === true || connection.inTransaction === true) {
          throw lifecycle.sessionTokenExpired("transaction", error);
        }
        return lifecycle.retryOnFreshConnection(connection, retryPool(this), (fresh) =>
          super._query(fresh, query),
        );
      }
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
      if (outerTx !== undefined && outerTx !== null) return trx;
      if (this.transacting === true || config?.connection !== undefined) return trx;
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
    maxTries: (typeof client.pool?.max === "number" ? client.pool.max : 10) + 1,
  };
}

/**
 * Closes a retired connection in the pool. Knex's 'end' handler then marks it `__knex__disposed`, and
 * the pool's validate would warn "Connection Error: Connection to server was terminated." when it meets
 * it; this end was ours, so the mark is taken off again (validation refuses it anyway: it is closed).
 */
function closeRetired(connection: TediousConnection): void {
  if (connection.closed === true) return;
  connection.once("end", () => {
    delete connection.__knex__disposed;
  });
  connection.close();
}
