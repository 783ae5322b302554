// The contract between the TDS stand-in (test/support/tds) and the embedded SQL engine
// (test/support/sql-engine). The TDS layer decodes requests into T-SQL text plus typed
// parameters and encodes what comes back; the engine owns everything about SQL semantics.

/** SQL Server data types the stand-in can send and receive. Lengths are in characters/bytes as SQL Server states them. */
export type SqlType =
  | { kind: "bit" }
  | { kind: "tinyint" }
  | { kind: "smallint" }
  | { kind: "int" }
  | { kind: "bigint" }
  | { kind: "real" }
  | { kind: "float" }
  | { kind: "decimal"; precision: number; scale: number }
  | { kind: "nvarchar"; maxLength: number | "max" }
  | { kind: "varchar"; maxLength: number | "max" }
  | { kind: "varbinary"; maxLength: number | "max" }
  | { kind: "date" }
  | { kind: "datetime" }
  | { kind: "datetime2"; scale: number }
  | { kind: "datetimeoffset"; scale: number }
  | { kind: "uniqueidentifier" };

/**
 * A value as it crosses the engine boundary. bigint columns use `bigint` only when the value does not fit
 * a JS number safely; decimals are strings (exact); datetime/datetime2 are `Date` (UTC); uniqueidentifier
 * is an upper-case string as SQL Server returns it.
 */
export type SqlValue = null | boolean | number | bigint | string | Date | Uint8Array;

export interface ColumnMetadata {
  name: string;
  type: SqlType;
  nullable: boolean;
}

export interface ResultSet {
  columns: ColumnMetadata[];
  rows: SqlValue[][];
}

export interface SqlParameter {
  /** Name as declared, with the leading "@" (e.g. "@0", "@p1", "@name"). */
  name: string;
  type: SqlType;
  value: SqlValue;
  /** OUTPUT parameter (the engine may set a value to return). */
  output: boolean;
}

/** What one statement of a batch produced, in order. */
export type StatementOutcome =
  /**
   * A statement that returned rows (SELECT, OUTPUT ...). `rowCount` is the number of rows. `noCount` is set
   * while SET NOCOUNT ON is in effect: SQL Server then sends the DONE token without the count bit.
   */
  | { kind: "rows"; resultSet: ResultSet; rowCount: number; noCount?: boolean }
  /** A statement that affected rows (INSERT/UPDATE/DELETE without OUTPUT) or did not count rows (DDL, SET: rowCount undefined). */
  | { kind: "done"; rowCount?: number }
  /**
   * The statement failed; SQL Server semantics decide whether the batch goes on: after statement-level
   * errors (2627, 2601, 515, 547, 8152, 544, 8134, 8115, 3902, 3903, 628, 6401) the next statements'
   * outcomes follow, after any other error the batch stops (see errors.ts `abortsBatch`).
   */
  | { kind: "error"; error: SqlServerError };

export interface BatchOutcome {
  statements: StatementOutcome[];
  /** Values of OUTPUT parameters, by name with "@". */
  outputParameters?: Record<string, SqlValue>;
}

/** An error with SQL Server's number, state and severity (class), encoded by the TDS layer as an ERROR token. */
export class SqlServerError extends Error {
  override name = "SqlServerError";
  constructor(
    message: string,
    readonly number: number,
    readonly state = 1,
    readonly severity = 16,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SqlSession {
  /**
   * Runs one batch (SQL batch text or the statement of sp_executesql / a prepared statement).
   * Resolves with each statement's outcome; rejects only on engine faults, never for SQL errors.
   */
  execute(sql: string, parameters?: readonly SqlParameter[]): Promise<BatchOutcome>;
  /**
   * Transaction manager requests (TDS packet 0x0E). They reject with a SqlServerError for SQL errors
   * (1222 lock timeout, 3902/3903 nothing to commit/roll back, 628 save outside a transaction, 6401 unknown
   * savepoint). Nested begins count @@TRANCOUNT like BEGIN TRAN; `rollbackTransaction(name)` with the name of
   * a savepoint rolls back to it (what tedious sends for Knex's nested transactions), with the outermost
   * transaction's name (or none) it rolls back everything.
   */
  beginTransaction(name?: string): Promise<void>;
  commitTransaction(name?: string): Promise<void>;
  rollbackTransaction(name?: string): Promise<void>;
  /** TM "save" request (type 9): SAVE TRANSACTION name. */
  saveTransaction(name: string): Promise<void>;
  /** @@TRANCOUNT: 0 outside a transaction. */
  readonly transactionCount: number;
  /** Rolls back any open transaction and releases the engine. Idempotent. */
  close(): Promise<void>;
}

export interface SqlEngine {
  /** The database name (DB_NAME()). */
  readonly databaseName: string;
  /**
   * A session running as `principalName`. `roles` answers IS_ROLEMEMBER: the database roles the
   * principal is a member of, asked at each batch (membership may change). Default: none.
   */
  openSession(context: { principalName: string; roles?: () => readonly string[] }): SqlSession;
  /** Runs T-SQL as an administrator outside any session (schema set-up by tests and the CLI). */
  exec(sql: string): Promise<BatchOutcome>;
  close(): Promise<void>;
}
