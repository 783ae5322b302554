import { SqlServerError } from "./types.js";

// SQL Server error numbers, states, severities and message texts the stand-in produces, and the mapping
// from Postgres SQLSTATEs to them. Texts follow SQL Server's sys.messages wording so that code matching
// on numbers or texts behaves as it would against SQL Server.

/** The stand-in's own number for statements outside the supported set (user-defined range, >= 50000). */
export const UNSUPPORTED_STATEMENT = 50501;
/** A Postgres error the stand-in has no SQL Server equivalent for. */
export const UNMAPPED_ENGINE_ERROR = 50502;

export const SUPPORTED_SUMMARY =
  "Supported: SELECT (joins, subqueries, TOP, OFFSET/FETCH, GROUP BY, UNION), INSERT/UPDATE/DELETE (with OUTPUT [INTO @table]), " +
  "CREATE/ALTER/DROP TABLE, CREATE/DROP INDEX, TRUNCATE TABLE, IF <condition> <statement>, BEGIN...END, " +
  "DECLARE @table TABLE/@variable, SET @variable, SET options, BEGIN/COMMIT/ROLLBACK/SAVE TRANSACTION " +
  "(details: test/support/sql-engine/README.md)";

function collapse(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

export function unsupported(statementText: string, reason?: string): SqlServerError {
  const why = reason ? ` (${reason})` : "";
  return new SqlServerError(
    `The entra-sql SQL stand-in does not support this statement: ${collapse(statementText)}${why}. ${SUPPORTED_SUMMARY}.`,
    UNSUPPORTED_STATEMENT,
    1,
    16,
  );
}

export function syntaxError(message: string, number = 102): SqlServerError {
  return new SqlServerError(message, number, 1, 15);
}

/** 102 `Incorrect syntax near 'x'.` or, for reserved words, 156 `... near the keyword 'X'.` */
export function incorrectSyntaxNear(text: string, isKeyword: boolean): SqlServerError {
  return isKeyword
    ? syntaxError(`Incorrect syntax near the keyword '${text}'.`, 156)
    : syntaxError(`Incorrect syntax near '${text}'.`, 102);
}

export function unclosedQuote(after: string): SqlServerError {
  return syntaxError(`Unclosed quotation mark after the character string '${after}'.`, 105);
}

export const sqlErrors = {
  invalidObject: (name: string) => new SqlServerError(`Invalid object name '${name}'.`, 208, 1, 16),
  invalidColumn: (name: string) => new SqlServerError(`Invalid column name '${name}'.`, 207, 1, 16),
  ambiguousColumn: (name: string) => new SqlServerError(`Ambiguous column name '${name}'.`, 209, 1, 16),
  mustDeclareScalar: (name: string) =>
    new SqlServerError(`Must declare the scalar variable "${name}".`, 137, 2, 15),
  mustDeclareTable: (name: string) =>
    new SqlServerError(`Must declare the table variable "${name}".`, 1087, 1, 15),
  variableAlreadyDeclared: (name: string) =>
    new SqlServerError(
      `The variable name '${name}' has already been declared. Variable names must be unique within a query batch or stored procedure.`,
      134,
      1,
      15,
    ),
  wrongArgumentCount: (name: string, min: number, max: number) =>
    min === max
      ? new SqlServerError(`The ${name} function requires ${min} argument(s).`, 174, 1, 15)
      : new SqlServerError(`The ${name} function requires ${min} to ${max} arguments.`, 189, 1, 15),
  columnCountMismatch: () =>
    new SqlServerError(
      "Column name or number of supplied values does not match table definition.",
      213,
      1,
      16,
    ),
  fewerColumnsThanValues: () =>
    new SqlServerError(
      "There are fewer columns in the INSERT statement than values specified in the VALUES clause. The number of values in the VALUES clause must match the number of columns specified in the INSERT statement.",
      110,
      1,
      15,
    ),
  notBuiltIn: (name: string) =>
    new SqlServerError(`'${name}' is not a recognized built-in function name.`, 195, 10, 15),
  lockTimeout: () => new SqlServerError("Lock request time out period exceeded.", 1222, 45, 16),
  commitWithoutBegin: () =>
    new SqlServerError("The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.", 3902, 1, 16),
  rollbackWithoutBegin: () =>
    new SqlServerError(
      "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.",
      3903,
      1,
      16,
    ),
  saveWithoutTransaction: () =>
    new SqlServerError("Cannot issue SAVE TRANSACTION when there is no active transaction.", 628, 0, 16),
  noSuchSavepoint: (name: string) =>
    new SqlServerError(
      `Cannot roll back ${name}. No transaction or savepoint of that name was found.`,
      6401,
      1,
      16,
    ),
  cannotDropTable: (name: string) =>
    new SqlServerError(
      `Cannot drop the table '${name}', because it does not exist or you do not have permission.`,
      3701,
      5,
      11,
    ),
  cannotDropIndex: (name: string) =>
    new SqlServerError(
      `Cannot drop the index '${name}', because it does not exist or you do not have permission.`,
      3701,
      7,
      11,
    ),
  invalidForeignKeyTable: (constraint: string, table: string) =>
    new SqlServerError(`Foreign key '${constraint}' references invalid table '${table}'.`, 1767, 0, 16),
  noIdentityProperty: (table: string) =>
    new SqlServerError(
      `Table '${table}' does not have the identity property. Cannot perform SET operation.`,
      8106,
      1,
      16,
    ),
  objectExists: (name: string) =>
    new SqlServerError(`There is already an object named '${name}' in the database.`, 2714, 6, 16),
  identityInsertOff: (table: string) =>
    new SqlServerError(
      `Cannot insert explicit value for identity column in table '${table}' when IDENTITY_INSERT is set to OFF.`,
      544,
      1,
      16,
    ),
  insertValueCount: () =>
    new SqlServerError(
      "There are more columns in the INSERT statement than values specified in the VALUES clause. The number of values in the VALUES clause must match the number of columns specified in the INSERT statement.",
      109,
      1,
      15,
    ),
  databaseMissing: (name: string) =>
    new SqlServerError(
      `Database '${name}' does not exist. Make sure that the name is entered correctly.`,
      911,
      1,
      16,
    ),
};

/** A Postgres error as PGlite reports it (DatabaseError fields). */
export interface PgErrorFields {
  code?: string | undefined;
  message?: string | undefined;
  detail?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
  constraint?: string | undefined;
  schema?: string | undefined;
}

/** What the error mapper may need to know about the statement and the database. */
export interface ErrorContext {
  databaseName: string;
  /** INSERT, UPDATE, DELETE, ... (for 515/547 texts). */
  verb: string;
  /** The written table name of a DML target, for texts that quote it. */
  targetTable?: string;
  /** Constraint details, looked up only on the error path. */
  constraint?: ConstraintInfo;
}

export interface ConstraintInfo {
  name: string;
  /** p primary key, u unique, f foreign key, c check, i unique index (not a constraint). */
  type: "p" | "u" | "f" | "c" | "i";
  table: string;
  columns: string[];
  referencedTable?: string;
  referencedColumns?: string[];
}

const PG_TO_TSQL_TYPE: Record<string, string> = {
  integer: "int",
  bigint: "bigint",
  smallint: "smallint",
  boolean: "bit",
  numeric: "numeric",
  "double precision": "float",
  real: "real",
  text: "nvarchar",
  "character varying": "nvarchar",
  uuid: "uniqueidentifier",
  date: "date",
  "timestamp without time zone": "datetime2",
  "timestamp with time zone": "datetimeoffset",
  bytea: "varbinary",
};

function tsqlTypeName(pgName: string): string {
  return PG_TO_TSQL_TYPE[pgName] ?? pgName;
}

/** "Key (a, b)=(1, x) already exists." -> "(1, x)" */
function keyValues(detail: string | undefined): string {
  const match = /\)=\((.*)\)/.exec(detail ?? "");
  return match ? `(${match[1]})` : "()";
}

/** Maps a Postgres error to the SQL Server error a client would have seen. */
export function mapPgError(pg: PgErrorFields, ctx: ErrorContext): SqlServerError {
  const message = pg.message ?? "";
  const cause = { cause: pg };
  const db = ctx.databaseName;
  const qualified = (table: string | undefined) => `dbo.${table ?? ctx.targetTable ?? "?"}`;
  switch (pg.code) {
    case "42P01": {
      const unbound = /missing FROM-clause entry for table "([^"]+)"/.exec(message)?.[1];
      if (unbound) {
        return new SqlServerError(
          `The multi-part identifier "${unbound}" could not be bound.`,
          4104,
          1,
          16,
          cause,
        );
      }
      const name = /relation "([^"]+)"/.exec(message)?.[1] ?? "?";
      return sqlErrors.invalidObject(name.replace(/^dbo\./, ""));
    }
    case "42703": {
      const name = /column "?([^"\s]+)"? does not exist/.exec(message)?.[1] ?? "?";
      return sqlErrors.invalidColumn(name.split(".").pop() ?? name);
    }
    case "42702": {
      const name = /column reference "([^"]+)"/.exec(message)?.[1] ?? "?";
      return sqlErrors.ambiguousColumn(name);
    }
    case "42601": {
      const near = /at or near "([^"]*)"/.exec(message)?.[1];
      return near !== undefined
        ? incorrectSyntaxNear(near, false)
        : syntaxError(`Incorrect syntax: ${message}.`);
    }
    case "23505": {
      const c = ctx.constraint;
      const table = qualified(c?.table ?? pg.table);
      const name = c?.name ?? pg.constraint ?? "?";
      if (c?.type === "i") {
        return new SqlServerError(
          `Cannot insert duplicate key row in object '${table}' with unique index '${name}'. The duplicate key value is ${keyValues(pg.detail)}.`,
          2601,
          1,
          14,
          cause,
        );
      }
      const kind = c?.type === "p" ? "PRIMARY KEY" : "UNIQUE KEY";
      return new SqlServerError(
        `Violation of ${kind} constraint '${name}'. Cannot insert duplicate key in object '${table}'. The duplicate key value is ${keyValues(pg.detail)}.`,
        2627,
        1,
        14,
        cause,
      );
    }
    case "23502": {
      const verb = ctx.verb === "UPDATE" ? "UPDATE" : "INSERT";
      return new SqlServerError(
        `Cannot insert the value NULL into column '${pg.column ?? "?"}', table '${db}.${qualified(pg.table)}'; column does not allow nulls. ${verb} fails.`,
        515,
        2,
        16,
        cause,
      );
    }
    case "23503": {
      const c = ctx.constraint;
      const name = c?.name ?? pg.constraint ?? "?";
      // Postgres names the side that failed: "insert or update on table child" (a missing parent) or
      // "update or delete on table parent ... on table child" (a remaining child).
      const childSide = /^insert or update on table/.test(message);
      if (childSide) {
        return new SqlServerError(
          `The ${ctx.verb} statement conflicted with the FOREIGN KEY constraint "${name}". The conflict occurred in database "${db}", table "${qualified(c?.referencedTable)}", column '${c?.referencedColumns?.[0] ?? "?"}'.`,
          547,
          0,
          16,
          cause,
        );
      }
      return new SqlServerError(
        `The ${ctx.verb} statement conflicted with the REFERENCE constraint "${name}". The conflict occurred in database "${db}", table "${qualified(c?.table)}", column '${c?.columns[0] ?? "?"}'.`,
        547,
        0,
        16,
        cause,
      );
    }
    case "23514": {
      const c = ctx.constraint;
      return new SqlServerError(
        `The ${ctx.verb} statement conflicted with the CHECK constraint "${c?.name ?? pg.constraint ?? "?"}". The conflict occurred in database "${db}", table "${qualified(c?.table ?? pg.table)}".`,
        547,
        0,
        16,
        cause,
      );
    }
    case "22001":
      return new SqlServerError("String or binary data would be truncated.", 8152, 30, 16, cause);
    case "22003": {
      const type = /out of range for type (\w+( \w+)?)/.exec(message)?.[1];
      return new SqlServerError(
        `Arithmetic overflow error converting expression to data type ${tsqlTypeName(type ?? "numeric")}.`,
        8115,
        2,
        16,
        cause,
      );
    }
    case "22012":
      return new SqlServerError("Divide by zero error encountered.", 8134, 1, 16, cause);
    case "22P02":
    case "22007":
    case "22008": {
      const m = /invalid input syntax for type ([\w ]+): "(.*)"/.exec(message);
      const type = m?.[1] ?? "";
      if (type === "uuid") {
        return new SqlServerError(
          "Conversion failed when converting from a character string to uniqueidentifier.",
          8169,
          2,
          16,
          cause,
        );
      }
      if (pg.code !== "22P02" || /date|time/.test(type)) {
        return new SqlServerError(
          "Conversion failed when converting date and/or time from character string.",
          241,
          1,
          16,
          cause,
        );
      }
      return new SqlServerError(
        `Conversion failed when converting the nvarchar value '${m?.[2] ?? "?"}' to data type ${tsqlTypeName(type)}.`,
        245,
        1,
        16,
        cause,
      );
    }
    case "428C9": {
      return sqlErrors.identityInsertOff(ctx.targetTable ?? pg.table ?? "?");
    }
    case "42704": {
      const index = /index "([^"]+)" does not exist/.exec(message)?.[1];
      if (index) return sqlErrors.cannotDropIndex(index);
      break;
    }
    case "42P07": {
      const name = /relation "([^"]+)"/.exec(message)?.[1] ?? "?";
      return sqlErrors.objectExists(name);
    }
    case "42701": {
      const col = /column "([^"]+)"/.exec(message)?.[1] ?? "?";
      return new SqlServerError(
        `Column names in each table must be unique. Column name '${col}' in table '${ctx.targetTable ?? "?"}' is specified more than once.`,
        2705,
        4,
        16,
        cause,
      );
    }
    case "2BP01": {
      return new SqlServerError(
        `Could not drop object '${ctx.targetTable ?? "?"}' because it is referenced by a FOREIGN KEY constraint.`,
        3726,
        1,
        16,
        cause,
      );
    }
    case "0A000":
      if (/truncate a table referenced in a foreign key/.test(message)) {
        return new SqlServerError(
          `Cannot truncate table '${ctx.targetTable ?? "?"}' because it is being referenced by a FOREIGN KEY constraint.`,
          4712,
          1,
          16,
          cause,
        );
      }
      break;
    case "42883":
    case "42804": {
      const op = /operator does not exist: (\S+(?: \w+)*) (\S+) (\S+(?: \w+)*)/.exec(message);
      if (op) {
        return new SqlServerError(
          `The data types ${tsqlTypeName(op[1] ?? "")} and ${tsqlTypeName(op[3] ?? "")} are incompatible in the '${op[2]}' operator.`,
          402,
          1,
          16,
          cause,
        );
      }
      const clash = /is of type ([\w ]+) but expression is of type ([\w ]+)/.exec(message);
      if (clash) {
        return new SqlServerError(
          `Operand type clash: ${tsqlTypeName(clash[2] ?? "")} is incompatible with ${tsqlTypeName(clash[1] ?? "")}`,
          206,
          2,
          16,
          cause,
        );
      }
      break;
    }
    case "42803": {
      const col = /column "([^"]+)"/.exec(message)?.[1] ?? "?";
      return new SqlServerError(
        `Column '${col}' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.`,
        8120,
        1,
        16,
        cause,
      );
    }
    case "40001":
    case "40P01":
      return new SqlServerError(
        "Transaction was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.",
        1205,
        51,
        13,
        cause,
      );
  }
  return new SqlServerError(
    `The entra-sql SQL stand-in could not run the statement: ${message} (Postgres SQLSTATE ${pg.code ?? "?"}).`,
    UNMAPPED_ENGINE_ERROR,
    1,
    16,
    cause,
  );
}

/**
 * Errors after which SQL Server goes on with the next statement of the batch (statement-level errors);
 * all others abort the rest of the batch, like compile errors and most conversion errors do.
 */
const STATEMENT_LEVEL = new Set([2627, 2601, 515, 547, 8152, 2628, 544, 8134, 8115, 3902, 3903, 628, 6401]);

export function abortsBatch(error: SqlServerError): boolean {
  return !STATEMENT_LEVEL.has(error.number);
}
