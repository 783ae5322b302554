import {
  isAccessTokenExpiredOnSession,
  loginWithFreshTokenRetry,
  resolveScope,
  safeEmitter,
  type TokenAuthentication,
} from "@entra-sql/core";
import { retryRefusedBegin } from "./begin-retry.js";
import { ConnectionRegistry } from "./connection-registry.js";
import { SessionTokenExpiredError } from "./errors.js";
import { PACKAGE_NAME } from "./invalid-option.js";
import { checkConnection } from "./knex-config.js";
import type { MssqlDialect } from "./knex-dialect.js";
import type {
  KnexTransaction,
  MssqlClientConstructor,
  MssqlClientInternals,
  StreamTarget,
  TediousConnection,
} from "./knex-internals.js";
import type { ResolvedOptions } from "./options.js";
import { enqueue, runNext } from "./request-queue.js";
import { watchSession } from "./session-token-expiry.js";
import { retryOnFreshConnection } from "./statement-retry.js";
import { streamRetryingOnce } from "./stream-retry.js";

// A subclass of the app's own Knex mssql client, handed to Knex as `client` (Knex accepts a Client
// class there: lib/knex-builder/internal/config-resolver.js). It overrides Knex's dialect hooks:
// - `acquireRawConnection()`: the pool's `create` (lib/client.js getPoolSettings) calls it for every new
//   physical connection. A token first (inline), put in the connection settings Knex maps to tedious'
//   authentication (`type`, `token`, and on Knex >= 3.3 `credential`: lib/dialects/mssql/index.js
//   `_generateConnection`) only while Knex builds that one connection; login; stamp. One retry with a
//   fresh token on 18456 (core's loginWithFreshTokenRetry runs the flow; this client connects and stamps).
// - `validateConnection(connection)`: the pool's `validate` calls it on every acquire (3.1: after the
//   `__knex__disposed` check; 3.2+: after the disposed, lifetime and config-refresh checks). The token
//   bound is checked here; on 3.1 the age cap too (Knex >= 3.2 caps the age itself, see
//   create-entra-knex-config.ts).
// - `releaseConnection(connection)`: a connection due (or refused with 37396) is closed as it comes back,
//   never while in use.
// - `_query(connection, query)`: 37396 outside a transaction runs the statement once more on a fresh
//   connection; inside one it becomes a SessionTokenExpiredError.
// - `_stream(connection, query, stream)`: the same for `.stream()` / `.pipe()` while no row was emitted
//   (stream-retry.ts).
// - `transaction(container, config, outerTx)`: a top-level transaction whose BEGIN is refused with 37396
//   runs once more on a fresh connection (begin-retry.ts).
// - `_enqueueRequest` / `_chomp`: one request queue per connection (request-queue.ts).
// - `destroy()`: closes the token source when this package created it.
// No `#private` members: Knex runs transactions on `Object.create(Client.prototype)` (lib/execution/
// transaction.js makeTxClient), an object that never ran our constructor; state lives in this closure.

export function createEntraClientClass(
  dialect: MssqlDialect,
  options: ResolvedOptions,
): MssqlClientConstructor {
  const { tokenSource, tokenMode } = options;
  const emit = safeEmitter(options.onEvent);
  const registry = new ConnectionRegistry(options.lifetime, dialect.capsLifetime, emit);

  class EntraMssqlClient extends dialect.Client {
    override async acquireRawConnection(): Promise<TediousConnection> {
      // A connection provider function's result is checked here, at each login; a static one was
      // checked when the config was created.
      const settings = this.connectionSettings;
      const server = checkConnection(settings, "connection");
      return await loginWithFreshTokenRetry({
        tokenSource,
        tokenMode,
        scope: tokenMode === "inline" ? resolveScope({ server, scope: options.scope }) : undefined,
        emit,
        packageName: PACKAGE_NAME,
        server,
        database: typeof settings.database === "string" ? settings.database : undefined,
        attempt: (authentication) => login(this, () => super.acquireRawConnection(), authentication),
        stamp: (connection, used) => registry.stamp(connection, used.expiresOnTimestamp),
      });
    }

    override validateConnection(connection: TediousConnection): boolean {
      if (!super.validateConnection(connection)) return false;
      return !registry.retireIfDue(connection, "acquire");
    }

    override releaseConnection(connection: TediousConnection): Promise<void> {
      const retire = registry.retireIfDue(connection, "release");
      const released = super.releaseConnection(connection);
      if (retire) closeRetired(connection);
      return released;
    }

    override destroyRawConnection(connection: TediousConnection): Promise<void> {
      // Knex >= 3.2 refused it for its age (lib/client.js connectionIsOverLifetime): report it like ours.
      const limit = connection.__knexLifetimeLimit;
      if (!registry.isRetired(connection) && typeof limit === "number" && performance.now() > limit) {
        registry.retire(connection, "max-age", "acquire");
      }
      // Already closed on release: Knex's destroy would wait for an 'end' that has been and gone.
      if (connection.closed === true) return Promise.resolve();
      return super.destroyRawConnection(connection);
    }

    override async _query(connection: TediousConnection, query: object): Promise<unknown> {
      try {
        return await super._query(connection, query);
      } catch (error) {
        if (!isAccessTokenExpiredOnSession(error)) throw error;
        registry.sessionExpired(connection);
        if (this.transacting === true || connection.inTransaction === true) {
          throw new SessionTokenExpiredError("transaction", { cause: error });
        }
        return retryOnFreshConnection(
          this,
          connection,
          (fresh) => super._query(fresh, query),
          registry,
          emit,
        );
      }
    }

    override _stream(
      connection: TediousConnection,
      query: object,
      stream: StreamTarget,
      options?: unknown,
    ): Promise<void> {
      return streamRetryingOnce(
        this,
        connection,
        stream,
        (target, into) => super._stream(target, query, into, options),
        registry,
        emit,
      );
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
      retryRefusedBegin(
        this,
        trx,
        (fresh) =>
          super.transaction(container, { ...config, connection: fresh }, outerTx) as PromiseLike<unknown>,
        registry,
        emit,
      );
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
      try {
        await super.destroy(callback);
      } finally {
        if (options.ownsTokenSource) tokenSource.close();
      }
    }
  }

  /** One login: Knex's connect with this login's authentication in the connection settings. */
  async function login(
    client: MssqlClientInternals,
    connect: () => Promise<TediousConnection>,
    authentication: TokenAuthentication,
  ): Promise<TediousConnection> {
    const settings = client.connectionSettings;
    let created: Promise<TediousConnection>;
    // Knex reads the settings synchronously, inside acquireRawConnection's Promise executor, to build
    // this one tedious Connection; the token is never left in `connectionSettings` for anyone to print.
    client.connectionSettings = { ...settings, ...authentication };
    try {
      created = connect();
    } finally {
      client.connectionSettings = settings;
    }
    const connection = await created;
    hideToken(connection);
    watchSession(connection, registry);
    return connection;
  }

  Object.defineProperty(EntraMssqlClient, "name", { value: "EntraMssqlClient" });
  return EntraMssqlClient;
}

/**
 * tedious keeps the inline token in `connection.config.authentication.options.token` for the life of
 * the connection; it reads it only at login. Non-enumerable, it stays out of `util.inspect`,
 * `JSON.stringify` and loggers that print connections (Knex hides passwords the same way:
 * lib/util/security.js setHiddenProperty).
 */
function hideToken(connection: TediousConnection): void {
  const authOptions = connection.config?.authentication?.options;
  if (authOptions === undefined || !Object.hasOwn(authOptions, "token")) return;
  Object.defineProperty(authOptions, "token", { enumerable: false });
}

/**
 * Closes a retired connection that came back. Knex's 'end' handler then marks it `__knex__disposed`,
 * and the pool's validate would warn "Connection Error: Connection to server was terminated." when it
 * meets it; this end was ours, so the mark is taken off again (validateConnection refuses the connection
 * anyway: `connected` is false and it is retired).
 */
function closeRetired(connection: TediousConnection): void {
  if (connection.closed === true) return;
  connection.once("end", () => {
    delete connection.__knex__disposed;
  });
  connection.close();
}
