import type { ConnectionLifecycle } from "./connection-lifecycle.js";

// Glue every tedious-based adapter shares (mssql, Knex, Sequelize, Kysely all create tedious
// Connections), typed by shape: this package imports no driver. Call `watchTediousConnection` right
// after the driver creates a Connection, before its login runs (mssql: `config.beforeConnect`; others:
// a Connection subclass or the driver's connection factory).

/** The parts of a tedious `Connection` (v18 to v20) used here. */
export interface TediousConnectionLike {
  readonly closed?: boolean;
  config?: { authentication?: { options?: Record<string, unknown> } };
  on(event: "errorMessage", listener: (message: unknown) => void): unknown;
  close(): void;
  rollbackTransaction?: (callback: (error?: unknown) => void, ...rest: unknown[]) => unknown;
}

/**
 * Wires one tedious Connection to the lifecycle:
 * - every server ERROR message goes to `onLoginMessage` (the login's, see LoginAttempt) and to the
 *   lifecycle (37396 retires the connection once it has logged in);
 * - ROLLBACK is never sent on a session the server refused with 37396: the connection is closed instead,
 *   which ends the transaction at the server, and the rollback resolves;
 * - the inline token tedious keeps in its config (it reads it again when Azure SQL redirects a login)
 *   is made non-enumerable, so `util.inspect`, `JSON.stringify` and loggers that print a pool's
 *   connections never show it.
 */
export function watchTediousConnection<C extends TediousConnectionLike>(
  lifecycle: ConnectionLifecycle<C>,
  connection: C,
  onLoginMessage: (message: unknown) => void,
): void {
  connection.on("errorMessage", (message) => {
    onLoginMessage(message);
    lifecycle.onServerMessage(connection, message);
  });
  hideInlineToken(connection);
  const rollback = connection.rollbackTransaction;
  if (typeof rollback !== "function") return;
  connection.rollbackTransaction = (callback, ...rest) => {
    if (!lifecycle.isSessionExpired(connection)) return rollback.call(connection, callback, ...rest);
    lifecycle.endSession(connection);
    setImmediate(callback);
    return undefined;
  };
}

function hideInlineToken(connection: TediousConnectionLike): void {
  const options = connection.config?.authentication?.options;
  if (options === undefined || !Object.hasOwn(options, "token")) return;
  Object.defineProperty(options, "token", { enumerable: false });
}
