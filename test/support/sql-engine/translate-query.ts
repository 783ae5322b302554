import type {
  Expr,
  Ident,
  ObjectName,
  QueryExpr,
  QuerySpec,
  SelectItem,
  SelectStmt,
  TableSource,
  TypeName,
} from "./ast.js";
import type { Catalog, CatalogTable } from "./catalog.js";
import { sqlErrors, unsupported } from "./errors.js";
import type { PgStatement, SessionVar, Slot, TableVarColumn } from "./plan.js";
import { tableVarPlaceholder, UNNAMED_COLUMN } from "./plan.js";
import { translateFunction } from "./translate-functions.js";
import type { SqlType } from "./types.js";
import { mapTsqlType } from "./types-map.js";

// Expressions, SELECT and table references -> Postgres SQL. Identifiers are always double-quoted; table
// names resolve through the catalog to their Postgres schema (user tables live in "dbo", the catalog views
// in "INFORMATION_SCHEMA" and "sys"), and table, alias and column names match case-insensitively like
// SQL Server's default collation (respelled to the catalog's spelling when unambiguous).

export const VERSION_STRING =
  "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) (entra-sql stand-in: a T-SQL subset translated to PostgreSQL and run on PGlite; not a real SQL Server)";

/** What translation needs to know besides the statement. */
export interface TranslateContext {
  catalog: Catalog;
  databaseName: string;
  /** Table variables declared earlier in the batch, by lower-cased name. */
  tableVars: ReadonlyMap<string, TableVarColumn[]>;
  /** Scalar variables declared earlier in the batch, by lower-cased name. */
  variables: ReadonlyMap<string, SqlType>;
  /** The statement as written (unsupported-statement errors quote it). */
  statementText: string;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

const COMPARISON_MAP: Record<string, string> = { "!=": "<>", "!<": ">=", "!>": "<=" };

/** T-SQL operator precedence (higher binds tighter); Postgres agrees for everything but the bit operators. */
function precedence(e: Expr): number {
  switch (e.t) {
    case "binary":
      if (e.op === "OR") return 1;
      if (e.op === "AND") return 2;
      if (["*", "/", "%"].includes(e.op)) return 6;
      if (["+", "-", "&", "|", "^"].includes(e.op)) return 5;
      return 4;
    case "unary":
      return e.op === "NOT" ? 3 : 7;
    case "between":
    case "in":
    case "like":
    case "isnull":
      return 4;
    default:
      return 8;
  }
}

/**
 * A name visible in a FROM clause: its spelling where it was introduced, and its table when it is one
 * (undefined for derived tables and table variables, whose columns the catalog does not know).
 */
interface ScopeEntry {
  spelling: string;
  table: CatalogTable | undefined;
}
type Scope = Map<string, ScopeEntry>;

export class Emitter {
  readonly slots: Slot[] = [];
  private readonly slotIndex = new Map<string, number>();
  /** INSERTED./DELETED. column prefixes are legal (OUTPUT clauses). */
  outputMode = false;
  /** The DML target, for INSERTED./DELETED. columns. */
  outputTable: CatalogTable | undefined;
  /** FROM-clause names, innermost query last (correlated subqueries see the outer ones). */
  private readonly scopes: Scope[] = [];

  constructor(readonly ctx: TranslateContext) {}

  statement(sql: string): PgStatement {
    return { sql, slots: [...this.slots] };
  }

  unsupported(reason: string): never {
    throw unsupported(this.ctx.statementText, reason);
  }

  private slot(key: string, slot: Slot): string {
    let index = this.slotIndex.get(key);
    if (index === undefined) {
      this.slots.push(slot);
      index = this.slots.length;
      this.slotIndex.set(key, index);
    }
    return `$${index}`;
  }

  param(name: string): string {
    const lower = name.toLowerCase();
    return this.slot(`p:${lower}`, { kind: "param", name: lower });
  }

  sessionSlot(name: SessionVar): string {
    return this.slot(`s:${name}`, { kind: "session", name });
  }

  // ---- names -------------------------------------------------------------------------------------

  /** Resolves a table name to its catalog entry; 208 when it does not exist. */
  resolveTable(name: ObjectName): CatalogTable {
    const table = this.lookupTable(name);
    if (!table) throw sqlErrors.invalidObject(name.text);
    return table;
  }

  lookupTable(name: ObjectName): CatalogTable | undefined {
    return this.ctx.catalog.table(this.pgSchema(name), name.name.name);
  }

  /** The Postgres schema for a T-SQL [db.]schema. qualifier; other databases do not exist here. */
  pgSchema(name: ObjectName): string {
    if (
      name.db &&
      name.db.name !== "" &&
      name.db.name.toLowerCase() !== this.ctx.databaseName.toLowerCase()
    ) {
      throw sqlErrors.invalidObject(name.text);
    }
    const schema = name.schema?.name ?? "";
    const lower = schema.toLowerCase();
    if (lower === "" || lower === "dbo") return "dbo";
    if (lower === "information_schema") return "INFORMATION_SCHEMA";
    if (lower === "sys") return "sys";
    return schema;
  }

  tableName(table: CatalogTable): string {
    return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  }

  // ---- expressions -------------------------------------------------------------------------------

  expr(e: Expr): string {
    switch (e.t) {
      case "number":
        return e.text;
      case "string":
        return quoteLiteral(e.value);
      case "bytes":
        return `CAST('\\x${e.hex}' AS bytea)`;
      case "null":
        return "NULL";
      case "default":
        return "DEFAULT";
      case "param":
        return this.param(e.name);
      case "sysvar":
        return this.sysvar(e.name);
      case "column":
        return this.column(e.parts);
      case "star":
        return this.star(e.qualifier);
      case "func":
        return translateFunction(
          e.name,
          e.args.map((a) => (a.t === "star" ? "*" : this.expr(a))),
          e.args,
          e.distinct,
          this.functionContext(),
        );
      case "cast":
        return this.cast(e.expr, e.type, e.style);
      case "unary":
        if (e.op === "NOT") return `NOT ${this.child(e.expr, 3)}`;
        return `${e.op}${this.child(e.expr, 7)}`;
      case "binary":
        return this.binary(e.op, e.left, e.right, precedence(e));
      case "between":
        return `${this.child(e.expr, 5)} ${e.not ? "NOT " : ""}BETWEEN ${this.child(e.low, 5)} AND ${this.child(e.high, 5)}`;
      case "in":
        return `${this.child(e.expr, 5)} ${e.not ? "NOT " : ""}IN (${e.query ? this.select(e.query, false) : (e.list ?? []).map((x) => this.expr(x)).join(", ")})`;
      case "like":
        return `${this.child(e.expr, 5)} ${e.not ? "NOT " : ""}LIKE ${this.child(e.pattern, 5)}${e.escape ? ` ESCAPE ${this.child(e.escape, 5)}` : ""}`;
      case "isnull":
        return `${this.child(e.expr, 5)} IS ${e.not ? "NOT " : ""}NULL`;
      case "exists":
        return `EXISTS (${this.select(e.query, false)})`;
      case "subquery":
        return `(${this.select(e.query, false)})`;
      case "case": {
        const parts = ["CASE"];
        if (e.operand) parts.push(this.expr(e.operand));
        for (const w of e.whens) parts.push(`WHEN ${this.expr(w.when)} THEN ${this.expr(w.result)}`);
        if (e.else) parts.push(`ELSE ${this.expr(e.else)}`);
        parts.push("END");
        return parts.join(" ");
      }
      case "paren":
        return `(${this.expr(e.expr)})`;
    }
  }

  /** A sub-expression, parenthesized when it binds looser than its parent. */
  private child(e: Expr, parentPrecedence: number, rightSide = false): string {
    const p = precedence(e);
    const text = this.expr(e);
    return p < parentPrecedence || (rightSide && p === parentPrecedence) ? `(${text})` : text;
  }

  private binary(op: string, left: Expr, right: Expr, p: number): string {
    if (op === "&" || op === "|" || op === "^") {
      // Postgres ranks bit operators apart from + and -; keep T-SQL's grouping with parentheses.
      return `(${this.child(left, 8)} ${op === "^" ? "#" : op} ${this.child(right, 8)})`;
    }
    const pgOp = COMPARISON_MAP[op] ?? op;
    const rightAssocSafe = op === "AND" || op === "OR" || op === "+" || op === "*";
    return `${this.child(left, p)} ${pgOp} ${this.child(right, p, !rightAssocSafe)}`;
  }

  private column(parts: Ident[]): string {
    if (parts.length > 4) this.unsupported("column names with more than four parts");
    const first = parts[0] as Ident;
    if (this.outputMode && parts.length === 2) {
      const prefix = first.name.toUpperCase();
      if (prefix === "INSERTED" || prefix === "DELETED") {
        const target = prefix === "INSERTED" ? "new" : "old";
        return `${target}.${quoteIdent(this.columnSpelling(this.outputTable, (parts[1] as Ident).name))}`;
      }
    }
    if (parts.length >= 3) {
      // [db.]schema.table.column: map the schema like table names; Postgres takes schema.table.column.
      const tableParts = parts.slice(0, -1);
      const name: ObjectName = {
        name: tableParts[tableParts.length - 1] as Ident,
        schema: tableParts[tableParts.length - 2] as Ident,
        text: tableParts.map((p) => p.name).join("."),
      };
      if (tableParts.length === 3) name.db = tableParts[0] as Ident;
      const table = this.lookupTable(name);
      const tableSql = table
        ? this.tableName(table)
        : `${quoteIdent(this.pgSchema(name))}.${quoteIdent(name.name.name)}`;
      const column = (parts[parts.length - 1] as Ident).name;
      return `${tableSql}.${quoteIdent(this.columnSpelling(table, column))}`;
    }
    if (parts.length === 2) {
      const entry = this.scopeEntry(first.name);
      const column = (parts[1] as Ident).name;
      if (!entry) return `${quoteIdent(first.name)}.${quoteIdent(column)}`;
      return `${quoteIdent(entry.spelling)}.${quoteIdent(this.columnSpelling(entry.table, column))}`;
    }
    return quoteIdent(this.unqualifiedColumn(first.name));
  }

  /** `*`, `t.*`, and in OUTPUT clauses `INSERTED.*` / `DELETED.*`. */
  private star(qualifier: Ident[]): string {
    if (qualifier.length === 0) return "*";
    const prefix = qualifier.length === 1 ? (qualifier[0] as Ident).name.toUpperCase() : "";
    if (this.outputMode && prefix === "INSERTED") return "new.*";
    if (this.outputMode && prefix === "DELETED") return "old.*";
    return `${this.column(qualifier)}.*`;
  }

  /** A qualifier (alias or table name) from the FROM clauses in scope, case-insensitively. */
  private scopeEntry(name: string): ScopeEntry | undefined {
    const lower = name.toLowerCase();
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const entry = this.scopes[i]?.get(lower);
      if (entry) return entry;
    }
    return undefined;
  }

  /** SQL Server matches column names case-insensitively: use the table's spelling when it is unambiguous. */
  columnSpelling(table: CatalogTable | undefined, name: string): string {
    if (!table || table.columns.some((c) => c.name === name)) return name;
    const matches = table.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
    return matches.length === 1 ? (matches[0]?.name ?? name) : name;
  }

  /** An unqualified column: respelled only when exactly one table in scope has it case-insensitively. */
  private unqualifiedColumn(name: string): string {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const entries = [...(this.scopes[i]?.values() ?? [])];
      if (entries.some((e) => e.table?.columns.some((c) => c.name === name))) return name;
      // Derived tables and table variables may hold the name: leave it to Postgres.
      if (entries.some((e) => !e.table)) return name;
      const matches = entries.flatMap(
        (e) => e.table?.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase()) ?? [],
      );
      if (matches.length === 1) return matches[0]?.name ?? name;
      if (matches.length > 1) return name;
    }
    return name;
  }

  /** Runs `fn` with the names a FROM clause (or a DML target) introduces. */
  withScope<T>(sources: TableSource[], fn: () => T): T {
    const scope: Scope = new Map();
    const add = (source: TableSource) => {
      switch (source.t) {
        case "table": {
          const table = this.lookupTable(source.name);
          const spelling = source.alias?.name ?? table?.name ?? source.name.name.name;
          scope.set(spelling.toLowerCase(), { spelling, table });
          return;
        }
        case "tablevar": {
          const spelling = source.alias?.name ?? source.name;
          scope.set(spelling.toLowerCase(), { spelling, table: undefined });
          return;
        }
        case "derived":
          scope.set(source.alias.name.toLowerCase(), { spelling: source.alias.name, table: undefined });
          return;
        case "join":
          add(source.left);
          add(source.right);
          return;
        case "parens":
          add(source.source);
      }
    };
    for (const source of sources) add(source);
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private sysvar(name: string): string {
    switch (name) {
      case "@@ROWCOUNT":
        return this.sessionSlot("rowcount");
      case "@@TRANCOUNT":
        return this.sessionSlot("trancount");
      case "@@IDENTITY":
        return `CAST(${this.sessionSlot("identity")} AS numeric(38,0))`;
      case "@@SPID":
        return `CAST(${this.sessionSlot("spid")} AS smallint)`;
      case "@@ERROR":
        return this.sessionSlot("error");
      case "@@VERSION":
        return `CAST(${quoteLiteral(VERSION_STRING)} AS varchar(300))`;
      case "@@SERVERNAME":
        return "CAST('entra-sql-stand-in' AS varchar(128))";
      case "@@SERVICENAME":
        return "CAST('MSSQLSERVER' AS varchar(128))";
      case "@@LANGUAGE":
        return "CAST('us_english' AS varchar(128))";
      case "@@DATEFIRST":
        return "CAST(7 AS smallint)";
      case "@@MAX_PRECISION":
        return "CAST(38 AS smallint)";
      case "@@TEXTSIZE":
        return "2147483647";
    }
    throw sqlErrors.mustDeclareScalar(name);
  }

  private functionContext() {
    return {
      databaseName: this.ctx.databaseName,
      sessionSlot: (name: SessionVar) => this.sessionSlot(name),
      literal: quoteLiteral,
      unsupported: (reason: string): never => this.unsupported(reason),
    };
  }

  pgType(type: TypeName, context: "column" | "cast"): { pg: string; sqlType: SqlType } {
    const mapped = mapTsqlType(type, context);
    if (!mapped) this.unsupported(`data type ${type.name.toLowerCase()}`);
    return mapped;
  }

  private cast(expr: Expr, type: TypeName, style: Expr | undefined): string {
    const mapped = this.pgType(type, "cast");
    if (style && (mapped.sqlType.kind === "nvarchar" || mapped.sqlType.kind === "varchar")) {
      this.unsupported("CONVERT with a style to a string type");
    }
    return `CAST(${this.expr(expr)} AS ${mapped.pg})`;
  }

  // ---- SELECT ------------------------------------------------------------------------------------

  /** `topLevel`: the statement's own result set, whose unnamed columns must come out nameless. */
  select(s: SelectStmt, topLevel: boolean): string {
    const body = s.body;
    // ORDER BY of a single query sees its FROM clause; after UNION it names output columns.
    return body.t === "spec"
      ? this.withScope(body.from, () => this.selectRest(s, topLevel))
      : this.selectRest(s, topLevel);
  }

  private selectRest(s: SelectStmt, topLevel: boolean): string {
    const body = s.body;
    const single = body.t === "spec" ? body : undefined;
    let sql = single ? this.specBody(single, topLevel, false) : this.queryExpr(body, topLevel);
    if (s.orderBy.length) {
      const items = s.orderBy.map(
        (o) => `${this.expr(o.expr)}${o.desc ? " DESC NULLS LAST" : " NULLS FIRST"}`,
      );
      sql += ` ORDER BY ${items.join(", ")}`;
    }
    if (single?.top) {
      if (s.offset) this.unsupported("TOP together with OFFSET");
      sql += ` LIMIT ${this.expr(single.top)}`;
    }
    if (s.offset) sql += ` OFFSET ${this.expr(s.offset)} ROWS`;
    if (s.fetch) sql += ` FETCH NEXT ${this.expr(s.fetch)} ROWS ONLY`;
    return sql;
  }

  private queryExpr(q: QueryExpr, topLevel: boolean): string {
    switch (q.t) {
      case "spec":
        return q.top ? `(${this.spec(q, topLevel, true)})` : this.spec(q, topLevel, false);
      case "parenquery":
        return `(${this.select(q.query, topLevel)})`;
      case "setop":
        return `${this.queryExpr(q.left, topLevel)} ${q.op} ${this.queryExpr(q.right, false)}`;
    }
  }

  private spec(q: QuerySpec, topLevel: boolean, withTop: boolean): string {
    return this.withScope(q.from, () => this.specBody(q, topLevel, withTop));
  }

  private specBody(q: QuerySpec, topLevel: boolean, withTop: boolean): string {
    const parts = ["SELECT"];
    if (q.distinct) parts.push("DISTINCT");
    parts.push(q.items.map((item) => this.selectItem(item, topLevel)).join(", "));
    if (q.from.length) parts.push(`FROM ${q.from.map((f) => this.tableSource(f)).join(", ")}`);
    if (q.where) parts.push(`WHERE ${this.expr(q.where)}`);
    if (q.groupBy.length) parts.push(`GROUP BY ${q.groupBy.map((g) => this.expr(g)).join(", ")}`);
    if (q.having) parts.push(`HAVING ${this.expr(q.having)}`);
    if (withTop && q.top) parts.push(`LIMIT ${this.expr(q.top)}`);
    return parts.join(" ");
  }

  selectItem(item: SelectItem, topLevel: boolean): string {
    if (item.t === "star") return this.star(item.qualifier);
    const text = this.expr(item.expr);
    if (item.alias) return `${text} AS ${quoteIdent(item.alias.name)}`;
    if (item.expr.t === "column") {
      // The column is named as written, like SQL Server does (also for INSERTED.x, which is new.x here,
      // and for a reference respelled to the table's case).
      const last = item.expr.parts[item.expr.parts.length - 1] as Ident;
      return this.outputMode || !text.endsWith(quoteIdent(last.name))
        ? `${text} AS ${quoteIdent(last.name)}`
        : text;
    }
    return topLevel ? `${text} AS ${quoteIdent(UNNAMED_COLUMN)}` : text;
  }

  tableSource(source: TableSource): string {
    switch (source.t) {
      case "table": {
        const table = this.resolveTable(source.name);
        return `${this.tableName(table)}${source.alias ? ` AS ${quoteIdent(source.alias.name)}` : ""}`;
      }
      case "tablevar": {
        const name = source.name.toLowerCase();
        if (!this.ctx.tableVars.has(name)) throw sqlErrors.mustDeclareTable(source.name);
        return tableVarPlaceholder(name, source.alias?.name ?? source.name);
      }
      case "derived": {
        const columns = source.columns ? `(${source.columns.map((c) => quoteIdent(c.name)).join(", ")})` : "";
        return `(${this.select(source.query, false)}) AS ${quoteIdent(source.alias.name)}${columns}`;
      }
      case "join": {
        const kind = source.kind === "INNER" ? "INNER JOIN" : `${source.kind} JOIN`;
        const on = source.on ? ` ON ${this.expr(source.on)}` : "";
        return `${this.tableSource(source.left)} ${kind} ${this.tableSource(source.right)}${on}`;
      }
      case "parens":
        return `(${this.tableSource(source.source)})`;
    }
  }
}
