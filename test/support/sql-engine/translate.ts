import type { Statement } from "./ast.js";
import { sqlErrors } from "./errors.js";
import { parseBatch } from "./parse-statements.js";
import type { PgStatement, Plan, TableVarColumn } from "./plan.js";
import { UNNAMED_COLUMN } from "./plan.js";
import { tableVarColumns, translateDdl } from "./translate-ddl.js";
import { translateDelete, translateInsert, translateUpdate } from "./translate-dml.js";
import type { TranslateContext } from "./translate-query.js";
import { Emitter, quoteIdent } from "./translate-query.js";
import type { SqlType } from "./types.js";

// One parsed statement -> one plan. Pure: depends only on the statement, the catalog snapshot and the
// batch's earlier declarations, so plans are cached per statement and catalog version.

export function translateStatement(stmt: Statement, ctx: TranslateContext): Plan {
  switch (stmt.t) {
    case "select": {
      if (isPlainTableVarSelect(stmt)) {
        const from = (stmt.body as { from: { name: string }[] }).from[0] as { name: string };
        const name = from.name.toLowerCase();
        if (!ctx.tableVars.has(name)) throw sqlErrors.mustDeclareTable(from.name);
        return { kind: "tableVarSelect", name };
      }
      const em = new Emitter(ctx);
      const sql = em.select(stmt, true);
      return {
        kind: "query",
        verb: "SELECT",
        pg: em.statement(sql),
        returnsRows: true,
        identityCapture: false,
      };
    }
    case "insert":
      return translateInsert(stmt, ctx);
    case "update":
      return translateUpdate(stmt, ctx);
    case "delete":
      return translateDelete(stmt, ctx);
    case "createTable":
    case "dropTable":
    case "truncate":
    case "alterTable":
    case "createIndex":
    case "dropIndex":
      return translateDdl(stmt, ctx);
    case "begin":
      return stmt.name === undefined ? { kind: "begin" } : { kind: "begin", name: stmt.name };
    case "commit":
      return { kind: "commit" };
    case "rollback":
      return stmt.name === undefined ? { kind: "rollback" } : { kind: "rollback", name: stmt.name };
    case "save":
      return { kind: "save", name: stmt.name };
    case "setOption":
      return translateOption(stmt.option, stmt.value, ctx);
    case "setIdentityInsert": {
      const em = new Emitter(ctx);
      const table = em.resolveTable(stmt.table);
      if (!table.identity) throw sqlErrors.noIdentityProperty(stmt.table.text);
      return { kind: "identityInsert", target: { table, written: stmt.table.text }, on: stmt.on };
    }
    case "setVariable": {
      const em = new Emitter(ctx);
      const sql = `SELECT ${em.expr(stmt.expr)} AS ${quoteIdent(UNNAMED_COLUMN)}`;
      return { kind: "setVariable", name: stmt.name.toLowerCase(), value: em.statement(sql) };
    }
    case "declareTable":
      return {
        kind: "declareTable",
        name: stmt.name.toLowerCase(),
        columns: tableVarColumns(stmt.columns, ctx),
      };
    case "declareVariables": {
      const variables = stmt.variables.map((v) => {
        const em = new Emitter(ctx);
        const mapped = em.pgType(v.type, "column");
        const variable: { name: string; sqlType: SqlType; init?: PgStatement } = {
          name: v.name.toLowerCase(),
          sqlType: mapped.sqlType,
        };
        if (v.init) variable.init = em.statement(`SELECT CAST(${em.expr(v.init)} AS ${mapped.pg})`);
        return variable;
      });
      return { kind: "declareVariables", variables };
    }
    case "if": {
      const em = new Emitter(ctx);
      const sql = `SELECT CASE WHEN ${em.expr(stmt.condition)} THEN 1 ELSE 0 END`;
      const plan: Plan = { kind: "if", condition: em.statement(sql), thenBranch: stmt.thenBranch };
      if (stmt.elseBranch) plan.elseBranch = stmt.elseBranch;
      return plan;
    }
    case "block":
      return { kind: "block", statements: stmt.statements };
    case "use":
      if (stmt.database.toLowerCase() !== ctx.databaseName.toLowerCase())
        throw sqlErrors.databaseMissing(stmt.database);
      return { kind: "noop" };
  }
}

/** `SELECT * FROM @t`: answered from the table variable directly, with its declared column types. */
function isPlainTableVarSelect(stmt: Statement & { t: "select" }): boolean {
  const b = stmt.body;
  return (
    b.t === "spec" &&
    !b.distinct &&
    !b.top &&
    !b.where &&
    !b.having &&
    b.groupBy.length === 0 &&
    b.items.length === 1 &&
    b.items[0]?.t === "star" &&
    b.items[0].qualifier.length === 0 &&
    b.from.length === 1 &&
    b.from[0]?.t === "tablevar" &&
    stmt.orderBy.length === 0 &&
    !stmt.offset
  );
}

/** SET options: a few change session behaviour, the rest are accepted as no-ops (see README). */
function translateOption(option: string, value: string, ctx: TranslateContext): Plan {
  const upper = value.toUpperCase();
  const unsupported = (reason: string): never => new Emitter(ctx).unsupported(reason);
  switch (option) {
    case "IMPLICIT_TRANSACTIONS":
      if (upper === "ON") unsupported("SET IMPLICIT_TRANSACTIONS ON");
      break;
    case "NOEXEC":
    case "PARSEONLY":
    case "FMTONLY":
    case "SHOWPLAN_ALL":
    case "SHOWPLAN_TEXT":
    case "SHOWPLAN_XML":
    case "FORCEPLAN":
      if (upper === "ON") unsupported(`SET ${option} ON`);
      break;
    case "ROWCOUNT":
      if (value !== "0") unsupported("SET ROWCOUNT other than 0");
      break;
    case "CONTEXT_INFO":
      unsupported("SET CONTEXT_INFO");
      break;
    case "ANSI_NULLS":
    case "QUOTED_IDENTIFIER":
    case "CONCAT_NULL_YIELDS_NULL":
    case "ANSI_WARNINGS":
      // Postgres always behaves as with these ON.
      if (upper === "OFF") unsupported(`SET ${option} OFF`);
      break;
  }
  return { kind: "option", option, value: upper };
}

/**
 * Parses and translates a whole batch against a catalog, tracking DECLAREs as execution would (for tests
 * and for looking at what the engine makes of a statement). Control flow is not followed.
 */
export function translateBatch(
  sql: string,
  base: Omit<TranslateContext, "tableVars" | "variables" | "statementText">,
): Plan[] {
  const tableVars = new Map<string, TableVarColumn[]>();
  const variables = new Map<string, SqlType>();
  return parseBatch(sql).map((statement) => {
    const plan = translateStatement(statement.stmt, {
      ...base,
      tableVars,
      variables,
      statementText: statement.text,
    });
    if (plan.kind === "declareTable") tableVars.set(plan.name, plan.columns);
    if (plan.kind === "declareVariables") for (const v of plan.variables) variables.set(v.name, v.sqlType);
    return plan;
  });
}
