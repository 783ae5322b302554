import { type ConnectionLifecycle, type NodeCallback, namingRefusals } from "@entra-sql/driver-kit";
import type { TediousConnection } from "./knex-internals.js";

// Knex's mssql Transaction calls tedious' beginTransaction and commitTransaction directly
// (lib/dialects/mssql/transaction.js), so their 37396 refusals are named here, on each connection this
// package creates. ROLLBACK on a refused session is driver-kit's tedious guard (it closes the connection).

/** The error a refused BEGIN TRANSACTION was given, by connection: begin-retry.ts runs it again. */
const beginRefusals = new WeakMap<TediousConnection, unknown>();
export const beginRefusalOf = (connection: TediousConnection): unknown => beginRefusals.get(connection);

/** Names 37396 refusals of BEGIN ("begin") and COMMIT ("transaction") on this connection. */
export function nameTransactionRefusals(
  connection: TediousConnection,
  lifecycle: ConnectionLifecycle<TediousConnection>,
): void {
  const { beginTransaction, commitTransaction } = connection;
  const named = (callback: NodeCallback, during: "begin" | "transaction") =>
    namingRefusals(callback, during, lifecycle.packageName, (refusal, error) => {
      lifecycle.onServerMessage(connection, error);
      if (during === "begin") beginRefusals.set(connection, refusal);
    });
  connection.beginTransaction = (callback: NodeCallback, ...rest: unknown[]) =>
    beginTransaction.call(connection, named(callback, "begin"), ...rest);
  connection.commitTransaction = (callback: NodeCallback, ...rest: unknown[]) =>
    commitTransaction.call(connection, named(callback, "transaction"), ...rest);
}
