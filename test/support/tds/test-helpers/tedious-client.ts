import type { TokenCredential } from "@azure/core-auth";
import { Connection, type ConnectionConfiguration, Request, type TYPES } from "tedious";

// Promise wrappers around tedious with a deadline on every operation: a protocol bug in the
// stand-in must fail a test quickly, never hang it.

export const OPERATION_TIMEOUT_MS = 8000;

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const connectionErrors = new WeakMap<Connection, Error[]>();

/** 'error' events a connection emitted (socket errors after login), oldest first. */
export function connectionErrorsOf(connection: Connection): Error[] {
  return connectionErrors.get(connection) ?? [];
}

export function connect(
  config: ConnectionConfiguration,
  timeoutMs = OPERATION_TIMEOUT_MS,
): Promise<Connection> {
  const connection = new Connection(config);
  // Applications listen for 'error' (a dropped connection); without a listener tedious' emit throws.
  const errors: Error[] = [];
  connectionErrors.set(connection, errors);
  connection.on("error", (error: Error) => errors.push(error));
  const connected = new Promise<Connection>((resolve, reject) => {
    connection.connect((error) => (error ? reject(error) : resolve(connection)));
  });
  return withTimeout(connected, timeoutMs, "connect").catch((error: unknown) => {
    connection.close();
    throw error;
  });
}

export function close(connection: Connection): Promise<void> {
  if ((connection as unknown as { closed?: boolean }).closed) return Promise.resolve();
  const ended = new Promise<void>((resolve) => connection.once("end", () => resolve()));
  connection.close();
  return withTimeout(ended, OPERATION_TIMEOUT_MS, "close");
}

export interface Param {
  name: string;
  type: (typeof TYPES)[keyof typeof TYPES];
  value: unknown;
  options?: { length?: number; precision?: number; scale?: number };
  output?: boolean;
}

export interface QueryResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
  returnValues: Record<string, unknown>;
}

/** Runs SQL: execSql (sp_executesql) by default, execSqlBatch with `batch: true`. */
export function query(
  connection: Connection,
  sql: string,
  options: { params?: Param[]; batch?: boolean; timeoutMs?: number } = {},
): Promise<QueryResult> {
  const rows: Array<Record<string, unknown>> = [];
  const returnValues: Record<string, unknown> = {};
  const done = new Promise<QueryResult>((resolve, reject) => {
    const request = new Request(sql, (error, rowCount) =>
      error ? reject(error) : resolve({ rows, rowCount: rowCount ?? 0, returnValues }),
    );
    for (const p of options.params ?? []) {
      if (p.output) request.addOutputParameter(p.name, p.type, p.value, p.options);
      else request.addParameter(p.name, p.type, p.value, p.options);
    }
    request.on("row", (columns: Array<{ metadata: { colName: string }; value: unknown }>) => {
      rows.push(Object.fromEntries(columns.map((c) => [c.metadata.colName, c.value])));
    });
    request.on("returnValue", (name: string, value: unknown) => {
      returnValues[name] = value;
    });
    if (options.batch) connection.execSqlBatch(request);
    else connection.execSql(request);
  });
  return withTimeout(done, options.timeoutMs ?? OPERATION_TIMEOUT_MS, `query ${sql.slice(0, 60)}`);
}

/** tedious' callback transaction API as promises. */
export const transactions = {
  begin: (connection: Connection, name = "") =>
    withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.beginTransaction((e) => (e ? reject(e) : resolve()), name),
      ),
      OPERATION_TIMEOUT_MS,
      "beginTransaction",
    ),
  commit: (connection: Connection) =>
    withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.commitTransaction((e) => (e ? reject(e) : resolve())),
      ),
      OPERATION_TIMEOUT_MS,
      "commitTransaction",
    ),
  rollback: (connection: Connection) =>
    withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.rollbackTransaction((e) => (e ? reject(e) : resolve())),
      ),
      OPERATION_TIMEOUT_MS,
      "rollbackTransaction",
    ),
};

/**
 * A hand-written TokenCredential (the credential is not under test here): returns the token it is
 * given and records the scopes it was asked for.
 */
export class RecordingCredential implements TokenCredential {
  readonly scopes: string[] = [];

  constructor(private readonly token: () => string | Promise<string>) {}

  async getToken(scopes: string | string[]): Promise<{ token: string; expiresOnTimestamp: number }> {
    this.scopes.push(...[scopes].flat());
    return { token: await this.token(), expiresOnTimestamp: Date.now() + 3600_000 };
  }
}
