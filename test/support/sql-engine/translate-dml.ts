import type { DeleteStmt, Ident, InsertStmt, OutputClause, UpdateStmt } from "./ast.js";
import type { CatalogTable } from "./catalog.js";
import { sqlErrors } from "./errors.js";
import type { Plan, TableVarColumn } from "./plan.js";
import { IDENTITY_CAPTURE_COLUMN } from "./plan.js";
import type { TranslateContext } from "./translate-query.js";
import { Emitter, quoteIdent } from "./translate-query.js";

// INSERT / UPDATE / DELETE -> Postgres. OUTPUT becomes RETURNING: INSERTED.x is Postgres 18's new.x and
// DELETED.x is old.x. An INSERT into a table with an identity column also returns the identity value
// (hidden) so the session can answer SCOPE_IDENTITY() and @@IDENTITY without another round trip.

interface ReturningParts {
  items: string[];
  returnsRows: boolean;
  outputInto?: string;
}

function outputReturning(em: Emitter, output: OutputClause | undefined): ReturningParts {
  if (!output) return { items: [], returnsRows: false };
  em.outputMode = true;
  try {
    if (!output.into) {
      return { items: output.items.map((item) => em.selectItem(item, true)), returnsRows: true };
    }
    const name = output.into.name.toLowerCase();
    const declared = em.ctx.tableVars.get(name);
    if (!declared) throw sqlErrors.mustDeclareTable(output.into.name);
    const targets = intoColumns(declared, output.into.columns);
    if (output.items.length !== targets.length) throw sqlErrors.columnCountMismatch();
    // The table variable's column types decide the values (SQL Server converts on insert).
    const items = output.items.map((item, i) => {
      if (item.t === "star") return em.unsupported("OUTPUT INSERTED.* INTO a table variable");
      const column = targets[i] as TableVarColumn;
      return `CAST(${em.expr(item.expr)} AS ${column.pg}) AS ${quoteIdent(column.name)}`;
    });
    return { items, returnsRows: false, outputInto: name };
  } finally {
    em.outputMode = false;
  }
}

function intoColumns(declared: TableVarColumn[], columns: Ident[] | undefined): TableVarColumn[] {
  if (!columns) return declared;
  return columns.map((c) => {
    const found = declared.find((d) => d.name.toLowerCase() === c.name.toLowerCase());
    if (!found) throw sqlErrors.invalidColumn(c.name);
    return found;
  });
}

function returningClause(items: string[]): string {
  return items.length ? ` RETURNING ${items.join(", ")}` : "";
}

export function translateInsert(stmt: InsertStmt, ctx: TranslateContext): Plan {
  const em = new Emitter(ctx);
  if (stmt.target.t === "tablevar") return translateTableVarInsert(stmt, ctx, em);
  const table = em.resolveTable(stmt.target.name);
  if (table.view || table.schema !== "dbo") em.unsupported("INSERT into views or catalog views");
  const written = stmt.target.name.text;
  em.outputTable = table;
  // Without a column list SQL Server fills the columns in order, skipping the identity column.
  const columns =
    stmt.columns?.map((c) => em.columnSpelling(table, c.name)) ??
    table.columns.filter((c) => !c.identity).map((c) => c.name);
  let source: string;
  switch (stmt.source.t) {
    case "values":
      for (const row of stmt.source.rows) {
        if (row.length < columns.length) throw sqlErrors.insertValueCount();
        if (row.length > columns.length) {
          throw stmt.columns ? sqlErrors.fewerColumnsThanValues() : sqlErrors.columnCountMismatch();
        }
      }
      source = `VALUES ${stmt.source.rows.map((row) => `(${row.map((v) => em.expr(v)).join(", ")})`).join(", ")}`;
      break;
    case "default":
      source = "DEFAULT VALUES";
      break;
    case "select":
      source = em.select(stmt.source.query, false);
      break;
  }
  const returning = outputReturning(em, stmt.output);
  const identityCapture = table.identity !== undefined;
  if (table.identity) {
    returning.items.push(`new.${quoteIdent(table.identity.name)} AS ${quoteIdent(IDENTITY_CAPTURE_COLUMN)}`);
  }
  const columnList = stmt.source.t === "default" ? "" : ` (${columns.map(quoteIdent).join(", ")})`;
  const head = `INSERT INTO ${em.tableName(table)}${columnList}`;
  const tail = ` ${source}${returningClause(returning.items)}`;
  const plan: Plan = {
    kind: "query",
    verb: "INSERT",
    pg: em.statement(head + tail),
    returnsRows: returning.returnsRows,
    identityCapture,
    target: { table, written },
  };
  if (returning.outputInto) plan.outputInto = returning.outputInto;
  const identity = table.identity;
  if (identity && stmt.columns?.some((c) => c.name.toLowerCase() === identity.name.toLowerCase())) {
    plan.identityInsertPg = em.statement(`${head} OVERRIDING SYSTEM VALUE${tail}`);
  }
  return plan;
}

function translateTableVarInsert(stmt: InsertStmt, ctx: TranslateContext, em: Emitter): Plan {
  const target = stmt.target as { t: "tablevar"; name: string };
  const name = target.name.toLowerCase();
  const declared = ctx.tableVars.get(name);
  if (!declared) throw sqlErrors.mustDeclareTable(target.name);
  if (stmt.output) em.unsupported("OUTPUT on inserts into table variables");
  const columns = intoColumns(declared, stmt.columns);
  if (columns.length !== declared.length) em.unsupported("inserting into part of a table variable's columns");
  const cast = (value: string, i: number) => `CAST(${value} AS ${(columns[i] as TableVarColumn).pg})`;
  let sql: string;
  switch (stmt.source.t) {
    case "values":
      for (const row of stmt.source.rows)
        if (row.length !== columns.length) throw sqlErrors.columnCountMismatch();
      sql = `VALUES ${stmt.source.rows.map((row) => `(${row.map((v, i) => cast(em.expr(v), i)).join(", ")})`).join(", ")}`;
      break;
    case "select": {
      const names = columns.map((_, i) => `c${i + 1}`);
      const inner = em.select(stmt.source.query, false);
      sql = `SELECT ${names.map((n, i) => cast(`v.${n}`, i)).join(", ")} FROM (${inner}) AS v(${names.join(", ")})`;
      break;
    }
    default:
      return em.unsupported("DEFAULT VALUES into table variables");
  }
  return { kind: "tableVarInsert", name, source: em.statement(sql) };
}

function targetTable(em: Emitter, stmt: UpdateStmt | DeleteStmt): CatalogTable {
  const table = em.resolveTable(stmt.target);
  if (table.view || table.schema !== "dbo") em.unsupported("changing views or catalog views");
  return table;
}

export function translateUpdate(stmt: UpdateStmt, ctx: TranslateContext): Plan {
  const em = new Emitter(ctx);
  const table = targetTable(em, stmt);
  em.outputTable = table;
  const { sets, where } = em.withScope([{ t: "table", name: stmt.target }], () => ({
    sets: stmt.sets.map((s) => `${quoteIdent(em.columnSpelling(table, s.column.name))} = ${em.expr(s.expr)}`),
    where: stmt.where ? ` WHERE ${em.expr(stmt.where)}` : "",
  }));
  const returning = outputReturning(em, stmt.output);
  const sql = `UPDATE ${em.tableName(table)} SET ${sets.join(", ")}${where}${returningClause(returning.items)}`;
  const plan: Plan = {
    kind: "query",
    verb: "UPDATE",
    pg: em.statement(sql),
    returnsRows: returning.returnsRows,
    identityCapture: false,
    target: { table, written: stmt.target.text },
  };
  if (returning.outputInto) plan.outputInto = returning.outputInto;
  return plan;
}

export function translateDelete(stmt: DeleteStmt, ctx: TranslateContext): Plan {
  const em = new Emitter(ctx);
  const table = targetTable(em, stmt);
  em.outputTable = table;
  const where = em.withScope([{ t: "table", name: stmt.target }], () =>
    stmt.where ? ` WHERE ${em.expr(stmt.where)}` : "",
  );
  const returning = outputReturning(em, stmt.output);
  const sql = `DELETE FROM ${em.tableName(table)}${where}${returningClause(returning.items)}`;
  const plan: Plan = {
    kind: "query",
    verb: "DELETE",
    pg: em.statement(sql),
    returnsRows: returning.returnsRows,
    identityCapture: false,
    target: { table, written: stmt.target.text },
  };
  if (returning.outputInto) plan.outputInto = returning.outputInto;
  return plan;
}
