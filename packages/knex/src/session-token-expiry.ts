import { type ConnectionLifecycle, isAccessTokenExpiredOnSession } from "@entra-sql/driver-kit";
import type { TediousConnection } from "./knex-internals.js";

// Error 37396 around Knex's transactions. Knex's mssql Transaction calls tedious' beginTransaction and
// commitTransaction directly (lib/dialects/mssql/transaction.js), so a refusal of those two is named here,
// on each connection this package creates; ROLLBACK on a refused session is driver-kit's tedious guard
// (it closes the connection instead). The other cases: statement-retry.ts, stream-retry.ts,
// begin-retry.ts.

type Callback = (error?: unknown, ...rest: unknown[]) => void;

/** The error a refused BEGIN TRANSACTION was given, by connection: begin-retry.ts runs it again. */
const beginRefusals = new WeakMap<TediousConnection, unknown>();

export function beginRefusalOf(connection: TediousConnection): unknown {
  return beginRefusals.get(connection);
}

/** Names 37396 refusals of BEGIN ("begin") and COMMIT ("transaction") on this connection. */
export function nameTransactionRefusals(
  connection: TediousConnection,
  lifecycle: ConnectionLifecycle<TediousConnection>,
): void {
  const { beginTransaction, commitTransaction } = connection;
  const named =
    (callback: Callback, during: "begin" | "transaction"): Callback =>
    (error, ...rest) => {
      if (error === undefined || error === null || !isAccessTokenExpiredOnSession(error)) {
        callback(error, ...rest);
        return;
      }
      lifecycle.onServerMessage(connection, error);
      const refusal = lifecycle.sessionTokenExpired(during, error);
      if (during === "begin") beginRefusals.set(connection, refusal);
      callback(refusal, ...rest);
    };
  connection.beginTransaction = (callback: Callback, ...rest: unknown[]) =>
    beginTransaction.call(connection, named(callback, "begin"), ...rest);
  connection.commitTransaction = (callback: Callback, ...rest: unknown[]) =>
    commitTransaction.call(connection, named(callback, "transaction"), ...rest);
}
