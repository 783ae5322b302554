// The README's "Writing an adapter" as code, type-checked with the package (not shipped: outside src).
// A driver with a pool whose `create`, `validate`, `release` and `destroy` hooks the adapter fills in,
// and tedious Connections underneath: the shape of most SQL Server drivers and ORMs.
import {
  ConnectionLifecycle,
  type ConnectionOptions,
  resolveConnectionOptions,
  type TediousConnectionLike,
  watchTediousConnection,
} from "./src/index.js";

/** What this imagined driver offers: a tedious Connection factory and a pool with hooks. */
interface Driver {
  connect(settings: { server: string; authentication: object }): Promise<TediousConnectionLike>;
  createPool(hooks: {
    create(): Promise<TediousConnectionLike>;
    validate(connection: TediousConnectionLike): boolean;
    release(connection: TediousConnectionLike): void;
    destroy(connection: TediousConnectionLike): void;
  }): { query(sql: string): Promise<unknown>; close(): Promise<void> };
}

export function createEntraPool(driver: Driver, server: string, options?: ConnectionOptions) {
  // 1. Options: validated, defaulted, errors under your package's name.
  const resolved = resolveConnectionOptions(options, "@entra-sql/example");
  // 2. One lifecycle per pool; it closes connections the adapter's way.
  const lifecycle = new ConnectionLifecycle<TediousConnectionLike>({
    options: resolved,
    closeConnection: (connection) => connection.closed !== true && connection.close(),
  });
  const pool = driver.createPool({
    // 3. Every new physical connection: the lifecycle's login (token, one retry, named errors, stamp).
    create: () =>
      lifecycle.login({ server }, async ({ type, ...authOptions }, onServerMessage) => {
        const connection = driver.connect({ server, authentication: { type, options: authOptions } });
        // With a driver that exposes the Connection before its login, wire it there instead (mssql:
        // `beforeConnect`; Knex: a Connection subclass): login messages then reach `onServerMessage`.
        const connected = await connection;
        watchTediousConnection(lifecycle, connected, onServerMessage);
        return connected;
      }),
    // 4. On acquire, on release (BEFORE the pool's own release), and when the pool destroys one.
    validate: (connection) => lifecycle.isUsable(connection),
    release: (connection) => lifecycle.onRelease(connection),
    destroy: (connection) => lifecycle.forget(connection),
  });
  return {
    query: (sql: string) => pool.query(sql),
    async close() {
      lifecycle.close();
      await pool.close();
      if (resolved.ownsTokenSource) resolved.tokenSource.close();
    },
  };
}
