import type { ParsedStatement } from "./ast.js";
import type { CatalogTable } from "./catalog.js";
import type { SqlType } from "./types.js";

// What a translated statement asks the executor to do. Postgres statements carry "slots": the values
// bound to $1..$n, in order, resolved at execution time (so one translation serves every execution).

export type SessionVar =
  | "rowcount"
  | "trancount"
  | "identity"
  | "scope_identity"
  | "principal"
  /** The session user's database roles, lower-cased and comma-separated (IS_ROLEMEMBER). */
  | "roles"
  | "spid"
  | "error";

export type Slot =
  /** A parameter or batch variable, by lower-cased name with "@". */
  { kind: "param"; name: string } | { kind: "session"; name: SessionVar };

export interface PgStatement {
  sql: string;
  slots: Slot[];
}

/** Postgres' name for result columns without a name; the executor reports them as "" like SQL Server. */
export const UNNAMED_COLUMN = "?column?";
/** Name of the hidden RETURNING column that captures identity values for SCOPE_IDENTITY(). */
export const IDENTITY_CAPTURE_COLUMN = "?identity?";

/** A table variable reference inside SQL, replaced at execution by a VALUES list of its rows. */
export function tableVarPlaceholder(name: string, alias: string): string {
  return `⟦tv ${JSON.stringify([name.toLowerCase(), alias])}⟧`;
}
export const TABLE_VAR_PLACEHOLDER = /⟦tv (\[.*?\])⟧/g;

export interface TableVarColumn {
  name: string;
  sqlType: SqlType;
  pg: string;
}

export interface DmlTarget {
  table: CatalogTable;
  /** As written in the statement (error texts). */
  written: string;
}

export type Plan =
  | {
      kind: "query";
      verb: "SELECT" | "INSERT" | "UPDATE" | "DELETE";
      pg: PgStatement;
      /** Same statement with OVERRIDING SYSTEM VALUE, used while SET IDENTITY_INSERT is ON for the target. */
      identityInsertPg?: PgStatement;
      /** Rows go to the client (SELECT, OUTPUT without INTO). */
      returnsRows: boolean;
      /** The last RETURNING column is the identity value (hidden from results). */
      identityCapture: boolean;
      /** OUTPUT ... INTO @t: returned rows are appended to this table variable. */
      outputInto?: string;
      target?: DmlTarget;
    }
  | { kind: "tableVarSelect"; name: string }
  | { kind: "tableVarInsert"; name: string; source: PgStatement }
  | { kind: "ddl"; statements: PgStatement[]; target?: string }
  | { kind: "begin"; name?: string }
  | { kind: "commit" }
  | { kind: "rollback"; name?: string }
  | { kind: "save"; name: string }
  | { kind: "option"; option: string; value: string }
  | { kind: "identityInsert"; target: DmlTarget; on: boolean }
  | { kind: "declareTable"; name: string; columns: TableVarColumn[] }
  | { kind: "declareVariables"; variables: { name: string; sqlType: SqlType; init?: PgStatement }[] }
  | { kind: "setVariable"; name: string; value: PgStatement }
  | { kind: "if"; condition: PgStatement; thenBranch: ParsedStatement; elseBranch?: ParsedStatement }
  | { kind: "block"; statements: ParsedStatement[] }
  | { kind: "noop" };
