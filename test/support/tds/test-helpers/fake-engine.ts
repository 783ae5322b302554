import {
  type BatchOutcome,
  type ColumnMetadata,
  type SqlEngine,
  type SqlParameter,
  SqlServerError,
  type SqlSession,
  type SqlType,
  type SqlValue,
  type StatementOutcome,
} from "../../sql-engine/types.js";

// A tiny in-test SqlEngine for the TDS tests where SQL semantics are beside the point. It knows a
// handful of statement shapes and records everything it executes, so tests can assert that a
// statement did (or did not) reach the engine.

export interface ExecutedStatement {
  sql: string;
  parameters: readonly SqlParameter[];
  principalName: string;
}

export class FakeEngine implements SqlEngine {
  readonly databaseName = "entra_sql_demo";
  readonly executed: ExecutedStatement[] = [];
  readonly audit: string[] = [];
  sessionsOpened = 0;
  closed = false;

  openSession(context: { principalName: string }): SqlSession {
    this.sessionsOpened++;
    return new FakeSession(this, context.principalName);
  }

  async exec(sql: string): Promise<BatchOutcome> {
    return new FakeSession(this, "dbo").execute(sql);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeSession implements SqlSession {
  transactionCount = 0;
  private savepoints: string[] = [];

  constructor(
    private readonly engine: FakeEngine,
    private readonly principalName: string,
  ) {}

  async execute(sql: string, parameters: readonly SqlParameter[] = []): Promise<BatchOutcome> {
    this.engine.executed.push({ sql, parameters, principalName: this.principalName });
    const statements: StatementOutcome[] = [];
    const outputParameters: Record<string, SqlValue> = {};
    for (const statement of sql
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const outcome = await this.statement(statement, parameters, outputParameters);
      statements.push(outcome);
      if (outcome.kind === "error") break;
    }
    return { statements, outputParameters };
  }

  private async statement(
    sql: string,
    parameters: readonly SqlParameter[],
    outputs: Record<string, SqlValue>,
  ): Promise<StatementOutcome> {
    const handlers: Array<[RegExp, (m: RegExpExecArray) => StatementOutcome | Promise<StatementOutcome>]> = [
      [
        /^set\s+(@\w+)\s*=\s*(-?\d+)$/i,
        (m) => {
          outputs[m[1] ?? ""] = Number(m[2]);
          return { kind: "done" };
        },
      ],
      [/^set\s/i, () => ({ kind: "done" })],
      [
        /^begin\s+tran(saction)?$/i,
        () => {
          this.transactionCount++;
          return { kind: "done" };
        },
      ],
      [
        /^commit(\s+tran(saction)?)?$/i,
        () => {
          if (this.transactionCount === 0) {
            return error(3902, "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.");
          }
          this.transactionCount--;
          return { kind: "done" };
        },
      ],
      [
        /^rollback(\s+tran(saction)?)?$/i,
        () => {
          this.transactionCount = 0;
          return { kind: "done" };
        },
      ],
      [
        /^waitfor\s+delay\s+'00:00:(\d+)'$/i,
        async (m) => {
          await new Promise((resolve) => setTimeout(resolve, Number(m[1]) * 1000));
          return { kind: "done" };
        },
      ],
      [
        /^insert\s+into\s+audit\s+values\s*\(\s*'([^']*)'\s*\)$/i,
        (m) => {
          this.engine.audit.push(m[1] ?? "");
          return { kind: "done", rowCount: 1 };
        },
      ],
      [/^throw\s+(\d+)\s*,\s*'([^']*)'\s*,\s*(\d+)$/i, (m) => error(Number(m[1]), m[2] ?? "", Number(m[3]))],
      [
        /^select\s+@@trancount$/i,
        () => rows([{ name: "", type: { kind: "int" }, nullable: false }], [[this.transactionCount]]),
      ],
      [
        /^select\s+replicate\('(.)',\s*(\d+)\)\s+as\s+(\w+)$/i,
        (m) =>
          rows(
            [{ name: m[3] ?? "", type: { kind: "nvarchar", maxLength: "max" }, nullable: true }],
            [[(m[1] ?? "x").repeat(Number(m[2]))]],
          ),
      ],
      [/^select\s+(.+)$/is, (m) => this.select(m[1] ?? "", parameters)],
    ];
    for (const [pattern, handler] of handlers) {
      const match = pattern.exec(sql);
      if (match) return handler(match);
    }
    return error(40517, `fake engine does not support: ${sql}`);
  }

  /** SELECT of literals and parameters: `SELECT 1`, `SELECT @a AS a, N'x' AS b`. */
  private select(list: string, parameters: readonly SqlParameter[]): StatementOutcome {
    const columns: ColumnMetadata[] = [];
    const values: SqlValue[] = [];
    for (const item of list.split(",").map((s) => s.trim())) {
      const match = /^(.+?)(?:\s+as\s+\[?(\w+)\]?)?$/i.exec(item);
      const expression = match?.[1] ?? item;
      const name = match?.[2] ?? "";
      let type: SqlType;
      let value: SqlValue;
      if (expression.startsWith("@")) {
        const parameter = parameters.find((p) => p.name.toLowerCase() === expression.toLowerCase());
        if (!parameter) return error(137, `Must declare the scalar variable "${expression}".`);
        type = parameter.type;
        value = parameter.value;
      } else if (/^-?\d+$/.test(expression)) {
        type = { kind: "int" };
        value = Number(expression);
      } else if (/^N?'[^']*'$/i.test(expression)) {
        value = expression.replace(/^N?'|'$/gi, "");
        type = { kind: "nvarchar", maxLength: Math.max(1, value.length) };
      } else {
        return error(40517, `fake engine does not support the expression ${expression}`);
      }
      columns.push({ name, type, nullable: true });
      values.push(value);
    }
    return rows(columns, [values]);
  }

  async beginTransaction(): Promise<void> {
    this.transactionCount++;
  }

  async commitTransaction(): Promise<void> {
    if (this.transactionCount === 0) {
      throw new SqlServerError(
        "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.",
        3902,
      );
    }
    this.transactionCount--;
  }

  async rollbackTransaction(name?: string): Promise<void> {
    if (this.transactionCount === 0) {
      throw new SqlServerError(
        "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.",
        3903,
      );
    }
    if (name && this.savepoints.includes(name)) {
      this.savepoints.splice(this.savepoints.indexOf(name) + 1);
      return;
    }
    this.transactionCount = 0;
    this.savepoints = [];
  }

  async saveTransaction(name: string): Promise<void> {
    if (this.transactionCount === 0) {
      throw new SqlServerError("Cannot issue SAVE TRANSACTION when there is no active transaction.", 628);
    }
    this.savepoints.push(name);
  }

  async close(): Promise<void> {
    this.transactionCount = 0;
  }
}

function rows(columns: ColumnMetadata[], data: SqlValue[][]): StatementOutcome {
  return { kind: "rows", resultSet: { columns, rows: data }, rowCount: data.length };
}

function error(number: number, message: string, state = 1): StatementOutcome {
  return { kind: "error", error: new SqlServerError(message, number, state, 16) };
}
