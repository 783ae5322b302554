import type { AlterAction, ColumnDef, Ident, ObjectName, Statement, TableConstraint } from "./ast.js";
import { typeComment } from "./catalog.js";
import { sqlErrors } from "./errors.js";
import type { PgStatement, Plan, TableVarColumn } from "./plan.js";
import type { TranslateContext } from "./translate-query.js";
import { Emitter, quoteIdent, quoteLiteral } from "./translate-query.js";

// CREATE/ALTER/DROP TABLE, CREATE/DROP INDEX, TRUNCATE -> Postgres DDL in schema "dbo". IDENTITY becomes
// GENERATED ALWAYS AS IDENTITY (so explicit values fail with 544 unless IDENTITY_INSERT is ON), unnamed
// constraints get SQL Server-style names (PK__users__..., UQ__..., FK__...), and each column's T-SQL type
// is recorded as a column comment for the catalog.

/** Stable 16-hex-digit tag for generated constraint names (SQL Server uses object ids; any unique tag does). */
function tag(text: string, length = 16): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619) >>> 0;
    h2 = Math.imul(h2 ^ c, 2246822519) >>> 0;
  }
  return (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).toUpperCase().slice(0, length);
}

function constraintName(table: string, c: TableConstraint): string {
  if (c.name) return c.name.name;
  const cols = c.t === "check" ? "" : c.columns.map((x) => x.name).join(",");
  switch (c.t) {
    case "primary":
      return `PK__${table.slice(0, 8)}__${tag(`${table}|pk|${cols}`)}`;
    case "unique":
      return `UQ__${table.slice(0, 8)}__${tag(`${table}|uq|${cols}`)}`;
    case "foreign":
      return `FK__${table.slice(0, 8)}__${(c.columns[0]?.name ?? "").slice(0, 5)}__${tag(`${table}|fk|${cols}|${c.ref.table.text}`, 8)}`;
    case "check":
      return `CK__${table.slice(0, 8)}__${tag(`${table}|ck|${JSON.stringify(c.expr)}`, 8)}`;
  }
}

class DdlEmitter extends Emitter {
  /** The table a CREATE TABLE is creating (self references are allowed). */
  creating?: ObjectName;

  /** Target of CREATE TABLE: schema dbo only; 2714 when it exists. */
  newTableName(name: ObjectName): string {
    const schema = this.pgSchema(name);
    if (schema !== "dbo") this.unsupported("schemas other than dbo");
    if (this.lookupTable(name)) throw sqlErrors.objectExists(name.name.name);
    return `${quoteIdent("dbo")}.${quoteIdent(name.name.name)}`;
  }

  referencedTable(name: ObjectName, constraint: string): string {
    const c = this.creating;
    if (c && this.pgSchema(name) === "dbo" && name.name.name.toLowerCase() === c.name.name.toLowerCase()) {
      return `${quoteIdent("dbo")}.${quoteIdent(c.name.name)}`;
    }
    const table = this.lookupTable(name);
    if (!table) throw sqlErrors.invalidForeignKeyTable(constraint, name.text);
    return this.tableName(table);
  }

  constantExpr(e: Parameters<Emitter["expr"]>[0]): string {
    const before = this.slots.length;
    const sql = this.expr(e);
    if (this.slots.length !== before) this.unsupported("variables or session values in table definitions");
    return sql;
  }

  columnSql(table: string, column: ColumnDef): { sql: string; comment: string } {
    const mapped = this.pgType(column.type, "column");
    const parts = [quoteIdent(column.name.name), mapped.pg];
    if (column.identity) {
      if (!["int", "bigint", "smallint", "tinyint"].includes(mapped.sqlType.kind)) {
        this.unsupported("IDENTITY on non-integer columns");
      }
      parts.push(
        `GENERATED ALWAYS AS IDENTITY (START WITH ${column.identity.seed} INCREMENT BY ${column.identity.increment})`,
      );
    }
    if (column.notNull === true) parts.push("NOT NULL");
    if (column.notNull === false) parts.push("NULL");
    if (column.default) parts.push(`DEFAULT ${this.constantExpr(column.default)}`);
    for (const c of column.constraints) parts.push(this.constraintSql(table, c, true));
    return { sql: parts.join(" "), comment: typeComment(mapped.sqlType) };
  }

  /** `inline`: a column constraint, which Postgres writes without the column list. */
  constraintSql(table: string, c: TableConstraint, inline = false): string {
    const constraint = constraintName(table, c);
    const name = `CONSTRAINT ${quoteIdent(constraint)}`;
    const cols = (list: Ident[]) => (inline ? "" : ` (${list.map((x) => quoteIdent(x.name)).join(", ")})`);
    switch (c.t) {
      case "primary":
        return `${name} PRIMARY KEY${cols(c.columns)}`;
      case "unique":
        return `${name} UNIQUE${cols(c.columns)}`;
      case "check":
        return `${name} CHECK (${this.constantExpr(c.expr)})`;
      case "foreign": {
        const head = inline ? name : `${name} FOREIGN KEY${cols(c.columns)}`;
        let sql = `${head} REFERENCES ${this.referencedTable(c.ref.table, constraint)}`;
        if (c.ref.columns.length) sql += ` (${c.ref.columns.map((x) => quoteIdent(x.name)).join(", ")})`;
        if (c.ref.onDelete) sql += ` ON DELETE ${c.ref.onDelete}`;
        if (c.ref.onUpdate) sql += ` ON UPDATE ${c.ref.onUpdate}`;
        return sql;
      }
    }
  }
}

function comment(tableSql: string, column: string, text: string): PgStatement {
  return { sql: `COMMENT ON COLUMN ${tableSql}.${quoteIdent(column)} IS ${quoteLiteral(text)}`, slots: [] };
}

export function translateDdl(stmt: Statement, ctx: TranslateContext): Plan {
  const em = new DdlEmitter(ctx);
  const plain = (sql: string): PgStatement => ({ sql, slots: [] });
  switch (stmt.t) {
    case "createTable": {
      em.creating = stmt.name;
      const tableSql = em.newTableName(stmt.name);
      const table = stmt.name.name.name;
      const columns = stmt.columns.map((c) => ({ name: c.name.name, ...em.columnSql(table, c) }));
      const elements = [
        ...columns.map((c) => c.sql),
        ...stmt.constraints.map((c) => em.constraintSql(table, c)),
      ];
      return {
        kind: "ddl",
        statements: [
          plain(`CREATE TABLE ${tableSql} (${elements.join(", ")})`),
          ...columns.map((c) => comment(tableSql, c.name, c.comment)),
        ],
        target: table,
      };
    }
    case "dropTable": {
      const names: string[] = [];
      for (const name of stmt.names) {
        const table = em.lookupTable(name);
        if (!table) {
          if (stmt.ifExists) continue;
          throw sqlErrors.cannotDropTable(name.text);
        }
        if (table.schema !== "dbo") em.unsupported("dropping catalog views");
        names.push(em.tableName(table));
      }
      if (names.length === 0) return { kind: "noop" };
      return {
        kind: "ddl",
        statements: [plain(`DROP TABLE ${names.join(", ")}`)],
        target: stmt.names[0]?.text ?? "",
      };
    }
    case "truncate": {
      const table = em.resolveTable(stmt.name);
      return {
        kind: "ddl",
        statements: [plain(`TRUNCATE TABLE ${em.tableName(table)} RESTART IDENTITY`)],
        target: stmt.name.text,
      };
    }
    case "alterTable": {
      const table = em.resolveTable(stmt.name);
      if (table.schema !== "dbo" || table.view) em.unsupported("altering views or catalog views");
      const tableSql = em.tableName(table);
      const clauses: string[] = [];
      const comments: PgStatement[] = [];
      for (const action of stmt.actions) alterClause(em, table.name, tableSql, action, clauses, comments);
      return {
        kind: "ddl",
        statements: [plain(`ALTER TABLE ${tableSql} ${clauses.join(", ")}`), ...comments],
        target: table.name,
      };
    }
    case "createIndex": {
      const table = em.resolveTable(stmt.table);
      const cols = stmt.columns.map((c) => `${quoteIdent(c.name.name)}${c.desc ? " DESC" : ""}`).join(", ");
      let sql = `CREATE ${stmt.unique ? "UNIQUE " : ""}INDEX ${quoteIdent(stmt.name.name)} ON ${em.tableName(table)} (${cols})`;
      if (stmt.include.length) sql += ` INCLUDE (${stmt.include.map((c) => quoteIdent(c.name)).join(", ")})`;
      if (stmt.where) sql += ` WHERE ${em.constantExpr(stmt.where)}`;
      return { kind: "ddl", statements: [plain(sql)], target: table.name };
    }
    case "dropIndex": {
      const statements = stmt.indexes.map((ix) => {
        em.resolveTable(ix.table);
        return plain(`DROP INDEX ${stmt.ifExists ? "IF EXISTS " : ""}"dbo".${quoteIdent(ix.name.name)}`);
      });
      return { kind: "ddl", statements };
    }
    default:
      throw new Error(`not a DDL statement: ${stmt.t}`);
  }
}

function alterClause(
  em: DdlEmitter,
  table: string,
  tableSql: string,
  action: AlterAction,
  clauses: string[],
  comments: PgStatement[],
): void {
  switch (action.t) {
    case "addColumn": {
      const column = em.columnSql(table, action.column);
      clauses.push(`ADD COLUMN ${column.sql}`);
      comments.push(comment(tableSql, action.column.name.name, column.comment));
      return;
    }
    case "addConstraint":
      clauses.push(`ADD ${em.constraintSql(table, action.constraint)}`);
      return;
    case "dropColumn":
      for (const name of action.names) {
        clauses.push(`DROP COLUMN ${action.ifExists ? "IF EXISTS " : ""}${quoteIdent(name.name)}`);
      }
      return;
    case "dropConstraint":
      for (const name of action.names) {
        clauses.push(`DROP CONSTRAINT ${action.ifExists ? "IF EXISTS " : ""}${quoteIdent(name.name)}`);
      }
      return;
    case "alterColumn": {
      const mapped = em.pgType(action.type, "column");
      const col = quoteIdent(action.name.name);
      clauses.push(`ALTER COLUMN ${col} TYPE ${mapped.pg} USING CAST(${col} AS ${mapped.pg})`);
      clauses.push(`ALTER COLUMN ${col} ${action.notNull ? "SET" : "DROP"} NOT NULL`);
      comments.push(comment(tableSql, action.name.name, typeComment(mapped.sqlType)));
      return;
    }
  }
}

/** Column definitions of DECLARE @t TABLE (...). */
export function tableVarColumns(columns: ColumnDef[], ctx: TranslateContext): TableVarColumn[] {
  const em = new Emitter(ctx);
  return columns.map((c) => {
    const mapped = em.pgType(c.type, "column");
    return { name: c.name.name, sqlType: mapped.sqlType, pg: mapped.pg };
  });
}
