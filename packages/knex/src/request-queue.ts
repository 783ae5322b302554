import type { TediousConnection } from "./knex-internals.js";

// One request queue per connection. Knex's mssql client keeps ONE queue for all connections, on the
// prototype (lib/dialects/mssql/index.js: `Object.assign(Client_MSSQL.prototype, { requestQueue: [] })`),
// and `_chomp(connection)` pops the LAST request queued by anyone and runs it on `connection`. When two
// requests wait (concurrent queries in a transaction, say), a request can run on a connection it was
// not acquired for: another transaction's, or one this package just retired. Queued per connection and
// in order, a statement runs where Knex sent it, and "retired connections run nothing" holds.

const queues = new WeakMap<TediousConnection, unknown[]>();

export function enqueue(request: unknown, connection: TediousConnection): void {
  const queue = queues.get(connection) ?? [];
  queue.push(request);
  queues.set(connection, queue);
}

/** Runs the connection's next request when tedious is ready for one (state LoggedIn, as Knex checks). */
export function runNext(connection: TediousConnection): void {
  if (connection.state?.name !== "LoggedIn") return;
  const next = queues.get(connection)?.shift();
  if (next !== undefined) connection.execSql(next);
}
