import type { PGlite } from "@electric-sql/pglite";
import type { ParsedStatement } from "./ast.js";
import type { Catalog } from "./catalog.js";
import type { EngineLock } from "./engine-lock.js";
import type { ConstraintInfo, ErrorContext } from "./errors.js";
import { abortsBatch, mapPgError, sqlErrors } from "./errors.js";
import type { PgResult, PgStep } from "./pg-runner.js";
import { PgError, runSql, runSteps } from "./pg-runner.js";
import type { PgStatement, Plan, TableVarColumn } from "./plan.js";
import { TABLE_VAR_PLACEHOLDER } from "./plan.js";
import { convertRows, toResultSet } from "./results.js";
import type { TranslateContext } from "./translate-query.js";
import { quoteIdent, quoteLiteral } from "./translate-query.js";
import type {
  BatchOutcome,
  ResultSet,
  SqlParameter,
  SqlSession,
  SqlType,
  SqlValue,
  StatementOutcome,
} from "./types.js";
import { SqlServerError } from "./types.js";
import { PgOid, paramOid } from "./types-map.js";
import { fromPgText, toPgText } from "./values.js";

// One SQL Server session: @@TRANCOUNT and named transactions, @@ROWCOUNT, SCOPE_IDENTITY/@@IDENTITY,
// SET NOCOUNT / XACT_ABORT / LOCK_TIMEOUT / IDENTITY_INSERT, and the execution of a batch statement by
// statement. Inside a transaction every statement runs under a savepoint: a failing statement is undone
// alone and the transaction stays open, as with SQL Server's default XACT_ABORT OFF (Postgres would
// otherwise abort the whole transaction).

/** What sessions need from the engine. */
export interface EngineCore {
  readonly pg: PGlite;
  readonly databaseName: string;
  readonly lock: EngineLock;
  readonly lockTimeoutMs: number;
  readonly closed: boolean;
  catalog(): Promise<Catalog>;
  markCatalogDirty(): void;
  parse(sql: string): ParsedStatement[];
  plan(statement: ParsedStatement, ctx: TranslateContext): Plan;
}

const STATEMENT_SAVEPOINT = "tsql_statement";

interface TableVar {
  columns: TableVarColumn[];
  rows: SqlValue[][];
}

interface Variable {
  type: SqlType;
  value: SqlValue;
}

/** State that lives for one batch (SQL Server's scope): variables, table variables, SCOPE_IDENTITY(). */
class Batch {
  readonly params = new Map<string, SqlParameter>();
  readonly variables = new Map<string, Variable>();
  readonly tableVars = new Map<string, TableVar>();
  readonly outcomes: StatementOutcome[] = [];
  scopeIdentity: SqlValue = null;

  constructor(parameters: readonly SqlParameter[]) {
    for (const p of parameters) {
      const name = (p.name.startsWith("@") ? p.name : `@${p.name}`).toLowerCase();
      this.params.set(name, { ...p });
    }
  }

  context(catalog: Catalog, databaseName: string, statementText: string): TranslateContext {
    const tableVars = new Map<string, TableVarColumn[]>();
    for (const [name, tv] of this.tableVars) tableVars.set(name, tv.columns);
    const variables = new Map<string, SqlType>();
    for (const [name, v] of this.variables) variables.set(name, v.type);
    return { catalog, databaseName, tableVars, variables, statementText };
  }
}

type Flow = "continue" | "abort";

let nextSpid = 51;

export class Session implements SqlSession {
  private trancount = 0;
  private outerName: string | undefined;
  private savepoints: string[] = [];
  private rowcount = 0;
  private identity: SqlValue = null;
  private lastError = 0;
  private nocount = false;
  private xactAbort = false;
  private lockTimeoutMs: number;
  private identityInsertTable: number | undefined;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  readonly spid = nextSpid++;

  constructor(
    private readonly core: EngineCore,
    readonly principalName: string,
    private readonly roles: () => readonly string[] = () => [],
  ) {
    this.lockTimeoutMs = core.lockTimeoutMs;
  }

  get transactionCount(): number {
    return this.trancount;
  }

  // ---- public API --------------------------------------------------------------------------------

  execute(sql: string, parameters: readonly SqlParameter[] = []): Promise<BatchOutcome> {
    return this.serial(async () => {
      try {
        await this.core.lock.acquire(this, this.lockTimeoutMs);
      } catch (error) {
        if (error instanceof SqlServerError) return { statements: [{ kind: "error", error }] };
        throw error;
      }
      try {
        return await this.runBatch(sql, parameters);
      } finally {
        this.releaseIfIdle();
      }
    });
  }

  beginTransaction(name?: string): Promise<void> {
    return this.locked(() => this.begin(name));
  }

  commitTransaction(_name?: string): Promise<void> {
    return this.locked(() => this.commit());
  }

  rollbackTransaction(name?: string): Promise<void> {
    return this.locked(() => this.rollback(name === "" ? undefined : name));
  }

  saveTransaction(name: string): Promise<void> {
    return this.locked(() => this.save(name));
  }

  close(): Promise<void> {
    if (this.closed) return this.chain.then(() => undefined);
    this.closed = true;
    this.core.lock.cancel(this, sqlErrors.lockTimeout());
    const done = this.chain.then(async () => {
      try {
        if (this.trancount > 0 && !this.core.closed) {
          this.trancount = 0;
          this.savepoints = [];
          await runSql(this.core.pg, "ROLLBACK");
          this.core.markCatalogDirty();
        }
      } finally {
        this.trancount = 0;
        this.core.lock.release(this);
      }
    });
    this.chain = done.catch(() => undefined);
    return done;
  }

  // ---- serialization and locking -----------------------------------------------------------------

  /** Runs operations of this session one at a time (a TDS connection sends one request at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("The SQL session is closed."));
    if (this.core.closed) return Promise.reject(new Error("The SQL engine is closed."));
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private locked(fn: () => Promise<void>): Promise<void> {
    return this.serial(async () => {
      await this.core.lock.acquire(this, this.lockTimeoutMs);
      try {
        await fn();
      } finally {
        this.releaseIfIdle();
      }
    });
  }

  private releaseIfIdle(): void {
    if (this.trancount === 0) this.core.lock.release(this);
  }

  // ---- transactions ------------------------------------------------------------------------------

  private async begin(name: string | undefined): Promise<void> {
    if (this.trancount === 0) {
      await runSql(this.core.pg, "BEGIN");
      this.outerName = name;
      this.savepoints = [];
    }
    this.trancount++;
  }

  private async commit(): Promise<void> {
    if (this.trancount === 0) throw sqlErrors.commitWithoutBegin();
    if (this.trancount > 1) {
      this.trancount--;
      return;
    }
    this.trancount = 0;
    this.savepoints = [];
    this.outerName = undefined;
    await runSql(this.core.pg, "COMMIT");
  }

  private async rollback(name: string | undefined): Promise<void> {
    if (this.trancount === 0) throw sqlErrors.rollbackWithoutBegin();
    this.core.markCatalogDirty();
    if (name !== undefined && name !== this.outerName) {
      const index = this.savepoints.lastIndexOf(name);
      if (index < 0) throw sqlErrors.noSuchSavepoint(name);
      this.savepoints = this.savepoints.slice(0, index + 1);
      await runSql(this.core.pg, `ROLLBACK TO SAVEPOINT ${quoteIdent(name)}`);
      return;
    }
    this.trancount = 0;
    this.savepoints = [];
    this.outerName = undefined;
    await runSql(this.core.pg, "ROLLBACK");
  }

  private async save(name: string): Promise<void> {
    if (this.trancount === 0) throw sqlErrors.saveWithoutTransaction();
    await runSql(this.core.pg, `SAVEPOINT ${quoteIdent(name)}`);
    this.savepoints.push(name);
  }

  // ---- batches -----------------------------------------------------------------------------------

  private async runBatch(sql: string, parameters: readonly SqlParameter[]): Promise<BatchOutcome> {
    let statements: ParsedStatement[];
    try {
      statements = this.core.parse(sql);
    } catch (error) {
      if (error instanceof SqlServerError) {
        this.lastError = error.number;
        return { statements: [{ kind: "error", error }] };
      }
      throw error;
    }
    const batch = new Batch(parameters);
    for (const statement of statements) {
      if ((await this.runStatement(statement, batch)) === "abort") break;
    }
    const outcome: BatchOutcome = { statements: batch.outcomes };
    const outputs = parameters.filter((p) => p.output);
    if (outputs.length) {
      outcome.outputParameters = {};
      for (const p of outputs) {
        const key = (p.name.startsWith("@") ? p.name : `@${p.name}`).toLowerCase();
        outcome.outputParameters[p.name] = batch.params.get(key)?.value ?? null;
      }
    }
    return outcome;
  }

  private async runStatement(statement: ParsedStatement, batch: Batch): Promise<Flow> {
    let plan: Plan | undefined;
    try {
      const catalog = await this.core.catalog();
      plan = this.core.plan(statement, batch.context(catalog, this.core.databaseName, statement.text));
      const flow = await this.runPlan(plan, statement, batch);
      this.lastError = 0;
      return flow;
    } catch (error) {
      if (!(error instanceof SqlServerError)) throw error;
      if (plan?.kind === "ddl") this.core.markCatalogDirty();
      batch.outcomes.push({ kind: "error", error });
      this.lastError = error.number;
      this.rowcount = 0;
      if (this.xactAbort && this.trancount > 0) {
        await this.rollback(undefined);
        return "abort";
      }
      return abortsBatch(error) ? "abort" : "continue";
    }
  }

  private done(rowCount?: number): StatementOutcome {
    return rowCount === undefined || this.nocount ? { kind: "done" } : { kind: "done", rowCount };
  }

  private async runPlan(plan: Plan, statement: ParsedStatement, batch: Batch): Promise<Flow> {
    switch (plan.kind) {
      case "query":
        await this.runQuery(plan, batch);
        return "continue";
      case "tableVarSelect": {
        const tv = batch.tableVars.get(plan.name);
        if (!tv) throw sqlErrors.mustDeclareTable(plan.name);
        const resultSet = {
          columns: tv.columns.map((c) => ({ name: c.name, type: c.sqlType, nullable: true })),
          rows: tv.rows.map((r) => [...r]),
        };
        this.rowcount = resultSet.rows.length;
        batch.outcomes.push(this.rowsOutcome(resultSet, resultSet.rows.length));
        return "continue";
      }
      case "tableVarInsert": {
        const tv = batch.tableVars.get(plan.name);
        if (!tv) throw sqlErrors.mustDeclareTable(plan.name);
        const [result] = await this.runStatements([plan.source], batch, { verb: "INSERT" });
        const rows = convertRows(
          result?.rows ?? [],
          tv.columns.map((c) => c.sqlType),
        );
        tv.rows.push(...rows);
        this.rowcount = rows.length;
        batch.outcomes.push(this.done(rows.length));
        return "continue";
      }
      case "ddl":
        await this.runStatements(plan.statements, batch, {
          verb: "DDL",
          ...(plan.target ? { targetTable: plan.target } : {}),
        });
        this.core.markCatalogDirty();
        this.rowcount = 0;
        batch.outcomes.push({ kind: "done" });
        return "continue";
      case "begin":
        await this.begin(plan.name);
        return this.control(batch);
      case "commit":
        await this.commit();
        return this.control(batch);
      case "rollback":
        await this.rollback(plan.name);
        return this.control(batch);
      case "save":
        await this.save(plan.name);
        return this.control(batch);
      case "option":
        this.applyOption(plan.option, plan.value);
        return this.control(batch);
      case "identityInsert":
        this.identityInsertTable = plan.on ? plan.target.table.oid : undefined;
        return this.control(batch);
      case "declareTable":
        if (batch.tableVars.has(plan.name) || batch.variables.has(plan.name)) {
          throw sqlErrors.variableAlreadyDeclared(plan.name);
        }
        batch.tableVars.set(plan.name, { columns: plan.columns, rows: [] });
        batch.outcomes.push({ kind: "done" });
        return "continue";
      case "declareVariables":
        for (const v of plan.variables) {
          if (batch.variables.has(v.name) || batch.tableVars.has(v.name))
            throw sqlErrors.variableAlreadyDeclared(v.name);
          const value = v.init ? await this.scalar(v.init, batch, v.sqlType) : null;
          batch.variables.set(v.name, { type: v.sqlType, value });
        }
        batch.outcomes.push({ kind: "done" });
        return "continue";
      case "setVariable": {
        const variable = batch.variables.get(plan.name);
        const param = batch.params.get(plan.name);
        const type = variable?.type ?? param?.type;
        if (!type) throw sqlErrors.mustDeclareScalar(plan.name);
        const value = await this.scalar(plan.value, batch, type);
        if (variable) variable.value = value;
        else if (param) param.value = value;
        this.rowcount = 1;
        batch.outcomes.push({ kind: "done" });
        return "continue";
      }
      case "if": {
        const truth = await this.scalar(plan.condition, batch, { kind: "int" });
        const branch = truth === 1 ? plan.thenBranch : plan.elseBranch;
        return branch ? this.runStatement(branch, batch) : "continue";
      }
      case "block":
        for (const s of plan.statements) {
          if ((await this.runStatement(s, batch)) === "abort") return "abort";
        }
        return "continue";
      case "noop":
        batch.outcomes.push({ kind: "done" });
        return "continue";
    }
    throw new Error(`unknown plan for ${statement.text}`);
  }

  /** Transaction control and SET: no rows, @@ROWCOUNT reset to 0. */
  private control(batch: Batch): Flow {
    this.rowcount = 0;
    batch.outcomes.push({ kind: "done" });
    return "continue";
  }

  private applyOption(option: string, value: string): void {
    switch (option) {
      case "NOCOUNT":
        this.nocount = value === "ON";
        break;
      case "XACT_ABORT":
        this.xactAbort = value === "ON";
        break;
      case "LOCK_TIMEOUT":
        this.lockTimeoutMs = Number(value);
        break;
    }
  }

  private rowsOutcome(resultSet: ResultSet, rowCount: number): StatementOutcome {
    return this.nocount
      ? { kind: "rows", resultSet, rowCount, noCount: true }
      : { kind: "rows", resultSet, rowCount };
  }

  // ---- queries -----------------------------------------------------------------------------------

  private async runQuery(plan: Plan & { kind: "query" }, batch: Batch): Promise<void> {
    const overriding =
      plan.identityInsertPg !== undefined && plan.target?.table.oid === this.identityInsertTable;
    const statement = overriding ? (plan.identityInsertPg as PgStatement) : plan.pg;
    const context: Omit<ErrorContext, "databaseName"> = { verb: plan.verb };
    if (plan.target) context.targetTable = plan.target.written;
    const [result] = await this.runStatements([statement], batch, context);
    if (!result) throw new Error("no result from Postgres");
    const catalog = await this.core.catalog();
    let fields = result.fields;
    let rows = result.rows;
    if (plan.identityCapture) {
      const last = rows[rows.length - 1];
      if (last) {
        const id = last[last.length - 1] ?? null;
        batch.scopeIdentity = id;
        this.identity = id;
      }
      fields = fields.slice(0, -1);
      rows = rows.map((r) => r.slice(0, -1));
    }
    if (overriding && plan.target?.table.identity) {
      await this.runStatements(
        [
          {
            sql: `SELECT tsql.reseed_identity(${quoteLiteral(`${quoteIdent("dbo")}.${quoteIdent(plan.target.table.name)}`)}::regclass, ${quoteLiteral(plan.target.table.identity.name)})`,
            slots: [],
          },
        ],
        batch,
        context,
      );
    }
    const count = plan.verb === "SELECT" ? rows.length : result.rowCount;
    this.rowcount = count;
    if (plan.outputInto) {
      const tv = batch.tableVars.get(plan.outputInto);
      if (!tv) throw sqlErrors.mustDeclareTable(plan.outputInto);
      tv.rows.push(
        ...convertRows(
          rows,
          tv.columns.map((c) => c.sqlType),
        ),
      );
      batch.outcomes.push(this.done(count));
      return;
    }
    if (plan.returnsRows) {
      batch.outcomes.push(this.rowsOutcome(toResultSet(fields, rows, catalog), count));
      return;
    }
    batch.outcomes.push(this.done(count));
  }

  /** Evaluates a one-value query (IF conditions, variable assignments). */
  private async scalar(statement: PgStatement, batch: Batch, type: SqlType): Promise<SqlValue> {
    const [result] = await this.runStatements([statement], batch, { verb: "SELECT" });
    const text = result?.rows[0]?.[0] ?? null;
    return fromPgText(text, type);
  }

  /** Binds slots and table variables, runs the statements (under a savepoint inside a transaction). */
  private async runStatements(
    statements: PgStatement[],
    batch: Batch,
    context: Omit<ErrorContext, "databaseName">,
  ): Promise<PgResult[]> {
    const steps = statements.map((s) => this.bind(s, batch));
    try {
      return await this.runGuarded(steps);
    } catch (error) {
      if (!(error instanceof PgError)) throw error;
      const untyped = error.fields.code === "42P18" || error.fields.code === "42P08";
      if (untyped && steps.some((s) => s.types?.includes(0))) {
        // Postgres could not infer a type for a string parameter (e.g. `@p IS NULL`): say it is text.
        const typed = steps.map((s) => ({
          ...s,
          types: (s.types ?? []).map((t) => (t === 0 ? PgOid.text : t)),
        }));
        try {
          return await this.runGuarded(typed);
        } catch (retryError) {
          if (!(retryError instanceof PgError)) throw retryError;
          throw await this.translateError(retryError, context);
        }
      }
      throw await this.translateError(error, context);
    }
  }

  private async runGuarded(steps: PgStep[]): Promise<PgResult[]> {
    const pg = this.core.pg;
    if (this.trancount === 0) return runSteps(pg, steps);
    try {
      const results = await runSteps(pg, [
        { sql: `SAVEPOINT ${STATEMENT_SAVEPOINT}` },
        ...steps,
        { sql: `RELEASE SAVEPOINT ${STATEMENT_SAVEPOINT}` },
      ]);
      return results.slice(1, -1);
    } catch (error) {
      if (error instanceof PgError) {
        await runSteps(pg, [
          { sql: `ROLLBACK TO SAVEPOINT ${STATEMENT_SAVEPOINT}` },
          { sql: `RELEASE SAVEPOINT ${STATEMENT_SAVEPOINT}` },
        ]);
      }
      throw error;
    }
  }

  private async translateError(
    error: PgError,
    context: Omit<ErrorContext, "databaseName">,
  ): Promise<SqlServerError> {
    const ctx: ErrorContext = { ...context, databaseName: this.core.databaseName };
    const name = error.fields.constraint;
    if (name && ["23505", "23503", "23514"].includes(error.fields.code ?? "")) {
      ctx.constraint = await this.constraintInfo(name, error.fields.table);
    }
    return mapPgError(error.fields, ctx);
  }

  /** Details of a violated constraint or unique index, for SQL Server's message texts. */
  private async constraintInfo(name: string, table: string | undefined): Promise<ConstraintInfo> {
    const [result] = await runSteps(this.core.pg, [
      {
        sql: `SELECT con.contype::text, rel.relname::text, ref.relname::text,
  ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = ANY (con.conkey)),
  ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = ANY (con.confkey))
FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid LEFT JOIN pg_class ref ON ref.oid = con.confrelid
JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = 'dbo' AND con.conname = $1 LIMIT 1`,
        types: [PgOid.text],
        values: [name],
      },
    ]);
    const row = result?.rows[0];
    const list = (text: string | null | undefined) =>
      text && text !== "{}"
        ? text
            .slice(1, -1)
            .split(",")
            .map((s) => s.replace(/^"|"$/g, ""))
        : [];
    if (!row) return { name, type: "i", table: table ?? "?", columns: [] };
    const info: ConstraintInfo = {
      name,
      type: (row[0] ?? "c") as ConstraintInfo["type"],
      table: row[1] ?? table ?? "?",
      columns: list(row[3]),
    };
    if (row[2]) info.referencedTable = row[2];
    const referenced = list(row[4]);
    if (referenced.length) info.referencedColumns = referenced;
    return info;
  }

  /** Parameter values for a statement's slots, and table variables expanded into VALUES lists. */
  private bind(statement: PgStatement, batch: Batch): PgStep {
    const types: number[] = [];
    const values: (string | null)[] = [];
    const add = (oid: number, value: string | null) => {
      types.push(oid);
      values.push(value);
      return `$${types.length}`;
    };
    for (const slot of statement.slots) {
      if (slot.kind === "param") {
        const source = batch.variables.get(slot.name) ?? batch.params.get(slot.name);
        if (!source) throw sqlErrors.mustDeclareScalar(slot.name);
        add(paramOid(source.type), toPgText(source.value, source.type));
        continue;
      }
      switch (slot.name) {
        case "rowcount":
          add(PgOid.int4, String(this.rowcount));
          break;
        case "trancount":
          add(PgOid.int4, String(this.trancount));
          break;
        case "error":
          add(PgOid.int4, String(this.lastError));
          break;
        case "spid":
          add(PgOid.int4, String(this.spid));
          break;
        case "principal":
          add(PgOid.text, this.principalName);
          break;
        case "roles":
          add(
            PgOid.text,
            this.roles()
              .map((role) => role.toLowerCase())
              .join(","),
          );
          break;
        case "identity":
          add(PgOid.numeric, this.identity === null ? null : String(this.identity));
          break;
        case "scope_identity":
          add(PgOid.numeric, batch.scopeIdentity === null ? null : String(batch.scopeIdentity));
          break;
      }
    }
    let sql = statement.sql;
    if (sql.includes("⟦tv ")) {
      sql = sql.replace(TABLE_VAR_PLACEHOLDER, (_m, json: string) => {
        const [name, alias] = JSON.parse(json) as [string, string];
        const tv = batch.tableVars.get(name);
        if (!tv) throw sqlErrors.mustDeclareTable(name);
        const columnNames = tv.columns.map((c) => quoteIdent(c.name)).join(", ");
        if (tv.rows.length === 0) {
          const nulls = tv.columns.map((c) => `CAST(NULL AS ${c.pg}) AS ${quoteIdent(c.name)}`).join(", ");
          return `(SELECT ${nulls} WHERE false) AS ${quoteIdent(alias)}`;
        }
        const rows = tv.rows.map(
          (row) =>
            `(${tv.columns.map((c, i) => `CAST(${add(paramOid(c.sqlType), toPgText(row[i] ?? null, c.sqlType))} AS ${c.pg})`).join(", ")})`,
        );
        return `(VALUES ${rows.join(", ")}) AS ${quoteIdent(alias)}(${columnNames})`;
      });
    }
    return { sql, types, values };
  }
}
