import type { BatchOutcome, SqlParameter, SqlSession, SqlValue } from "../sql-engine/types.js";
import { engineFault, notSupported, type ServerError } from "./azure-errors.js";
import { ByteWriter } from "./byte-writer.js";
import type { StandInContext } from "./context.js";
import { encodeStatements, toServerError, writeServerError } from "./outcome-encoder.js";
import { type ParameterDeclaration, parseParameterDeclarations } from "./param-declarations.js";
import type { TransactionRequest } from "./requests.js";
import { bindParameters, type RpcParameterValue, type RpcRequest } from "./rpc.js";
import { isSessionOptionsBatch, languageOf, mentionsRollback, parseUserStatements } from "./sql-text.js";
import {
  CurCmd,
  DoneStatus,
  EnvChangeType,
  TokenType,
  writeDone,
  writeEnvChangeBytes,
  writeEnvChangeText,
  writeReturnStatus,
  writeReturnValue,
} from "./token-writer.js";

// Runs logged-in requests against the session's engine session and encodes the reply: SQL batches,
// RPC (sp_executesql, sp_prepare/sp_execute/sp_prepexec/sp_unprepare, other procedures by name) and
// transaction manager requests. Transaction ENVCHANGEs follow @@TRANCOUNT whichever way it moved,
// as SQL Server does, so clients keep the right transaction descriptor.

export interface ExecutorHost {
  readonly sessionId: number;
  readonly ctx: StandInContext;
  /** Opens the engine session on first use; undefined when no engine is configured. */
  engineSession(): Promise<SqlSession | undefined>;
  /** Whether the engine session was requested already (the SET-batch shortcut applies before). */
  hasEngineSession(): boolean;
}

export interface ExecutionResult {
  payload: Buffer;
  errorNumbers: number[];
  /** Whether the engine ran anything (counted in `statementsExecuted`). */
  executed: boolean;
}

interface PreparedStatement {
  sql: string;
  declarations: ParameterDeclaration[];
}

const EMPTY = Buffer.alloc(0);

export class RequestExecutor {
  private readonly prepared = new Map<number, PreparedStatement>();
  private nextHandle = 1;
  private descriptor: Buffer = EMPTY;
  private descriptorCounter = 0;

  constructor(private readonly host: ExecutorHost) {}

  get inTransaction(): boolean {
    return this.descriptor.length > 0;
  }

  /**
   * RESETCONNECTION: forget prepared statements and the transaction (the engine session is
   * reopened); a transaction that was open ends with a rollback ENVCHANGE written to `writer`.
   */
  reset(writer: ByteWriter): void {
    this.prepared.clear();
    if (this.inTransaction) this.endDescriptor(writer, EnvChangeType.ROLLBACK_TRANSACTION);
  }

  /** RESETCONNECTIONSKIPTRAN: prepared handles go, the transaction stays. */
  forgetPrepared(): void {
    this.prepared.clear();
  }

  async batch(text: string, prefix?: (writer: ByteWriter) => void): Promise<ExecutionResult> {
    const writer = new ByteWriter();
    prefix?.(writer);
    const { ctx } = this.host;

    const userStatements = parseUserStatements(text);
    if (userStatements) {
      const outcome = ctx.runUserStatements(userStatements);
      encodeStatements(writer, outcome.statements, { inProc: false, serverName: ctx.serverName });
      return { payload: writer.toBuffer(), errorNumbers: errorNumbersOf(outcome), executed: false };
    }

    if (!this.host.hasEngineSession() && isSessionOptionsBatch(text)) {
      // tedious' post-login SET batch: answered here so a login does not boot the engine.
      const language = languageOf(text);
      if (language) writeEnvChangeText(writer, EnvChangeType.LANGUAGE, language, "us_english");
      writeDone(writer, { status: DoneStatus.FINAL });
      return { payload: writer.toBuffer(), errorNumbers: [], executed: false };
    }

    const session = await this.openSession(writer, false);
    if (!isSession(session)) return session;
    const before = session.transactionCount;
    let outcome: BatchOutcome;
    try {
      outcome = await session.execute(text);
    } catch (error) {
      return this.fault(writer, error, false);
    }
    encodeStatements(writer, outcome.statements, {
      inProc: false,
      serverName: ctx.serverName,
      beforeFinal: (w) => this.writeTransactionChange(w, before, session.transactionCount, text),
    });
    return { payload: writer.toBuffer(), errorNumbers: errorNumbersOf(outcome), executed: true };
  }

  async rpc(request: RpcRequest, prefix?: (writer: ByteWriter) => void): Promise<ExecutionResult> {
    const writer = new ByteWriter();
    prefix?.(writer);
    const params = request.parameters;
    if ("name" in request.procedure) {
      const sql = `EXEC ${request.procedure.name} ${params
        .map((p) => `${p.name} = ${p.name}${p.output ? " OUTPUT" : ""}`)
        .join(", ")}`.trim();
      return this.runStatement(writer, sql, params, params, []);
    }
    switch (request.procedure.system) {
      case "sp_executesql": {
        const [statement, second, ...rest] = params;
        const sql = stringValue(statement);
        if (sql === undefined)
          return this.refuse(writer, procedureExpects("sp_executesql", "@statement"), true);
        let values = rest;
        let declarations: ParameterDeclaration[] = [];
        if (
          second &&
          (typeof second.value === "string" || second.value === null) &&
          isParamsArgument(second)
        ) {
          declarations = parseParameterDeclarations(second.value as string | null);
        } else if (second) {
          values = [second, ...rest];
        }
        return this.runStatement(writer, sql, params, values, declarations);
      }
      case "sp_prepare":
      case "sp_prepexec": {
        const [handle, declaration, statement, ...rest] = params;
        const sql = stringValue(statement);
        if (!handle || sql === undefined) {
          return this.refuse(
            writer,
            procedureExpects(request.procedure.system, "@handle, @params, @stmt"),
            true,
          );
        }
        const declarations = parseParameterDeclarations(stringValue(declaration) ?? null);
        const id = this.nextHandle++;
        this.prepared.set(id, { sql, declarations });
        const handleValue = {
          ordinal: 0,
          name: handle.name || "@handle",
          type: { kind: "int" as const },
          value: id,
        };
        if (request.procedure.system === "sp_prepare") {
          writeReturnStatus(writer, 0);
          writeReturnValue(writer, handleValue);
          writeDone(writer, { type: TokenType.DONEPROC, status: DoneStatus.FINAL, curCmd: CurCmd.EXECUTE });
          return { payload: writer.toBuffer(), errorNumbers: [], executed: false };
        }
        return this.runStatement(writer, sql, params, rest, declarations, [handleValue]);
      }
      case "sp_execute": {
        const [handle, ...rest] = params;
        const id = handle?.value;
        const statement = typeof id === "number" ? this.prepared.get(id) : undefined;
        if (!statement) return this.refuse(writer, unknownHandle(id), true);
        return this.runStatement(writer, statement.sql, params, rest, statement.declarations);
      }
      case "sp_unprepare": {
        const id = params[0]?.value;
        if (typeof id !== "number" || !this.prepared.delete(id)) {
          return this.refuse(writer, unknownHandle(id), true);
        }
        writeReturnStatus(writer, 0);
        writeDone(writer, { type: TokenType.DONEPROC, status: DoneStatus.FINAL, curCmd: CurCmd.EXECUTE });
        return { payload: writer.toBuffer(), errorNumbers: [], executed: false };
      }
    }
  }

  /**
   * Executes `sql` with `values` (a tail of `allParameters`) bound to `declarations`, then writes
   * RETURNSTATUS, RETURNVALUEs (ordinals are positions in the RPC's parameter list) and DONEPROC.
   */
  private async runStatement(
    writer: ByteWriter,
    sql: string,
    allParameters: readonly RpcParameterValue[],
    values: readonly RpcParameterValue[],
    declarations: readonly ParameterDeclaration[],
    extraReturnValues: Array<Parameters<typeof writeReturnValue>[1]> = [],
  ): Promise<ExecutionResult> {
    const { ctx } = this.host;
    const bound: SqlParameter[] = bindParameters(declarations, values);
    const session = await this.openSession(writer, true);
    if (!isSession(session)) return session;
    const before = session.transactionCount;
    let outcome: BatchOutcome;
    try {
      outcome = await session.execute(sql, bound);
    } catch (error) {
      return this.fault(writer, error, true);
    }
    const { error } = encodeStatements(writer, outcome.statements, {
      inProc: true,
      serverName: ctx.serverName,
    });
    if (!error) writeReturnStatus(writer, 0);
    for (const extra of extraReturnValues) writeReturnValue(writer, extra);
    bound.forEach((parameter, index) => {
      if (!parameter.output) return;
      const returned: SqlValue | undefined = outcome.outputParameters?.[parameter.name];
      writeReturnValue(writer, {
        ordinal: Math.max(0, allParameters.indexOf(values[index] as RpcParameterValue)),
        name: values[index]?.name || parameter.name,
        type: parameter.type,
        value: returned === undefined ? parameter.value : returned,
      });
    });
    this.writeTransactionChange(writer, before, session.transactionCount, sql, error);
    writeDone(writer, {
      type: TokenType.DONEPROC,
      status: error ? DoneStatus.ERROR : DoneStatus.FINAL,
      curCmd: CurCmd.EXECUTE,
    });
    return { payload: writer.toBuffer(), errorNumbers: errorNumbersOf(outcome), executed: true };
  }

  async transaction(
    request: TransactionRequest,
    prefix?: (writer: ByteWriter) => void,
  ): Promise<ExecutionResult> {
    const writer = new ByteWriter();
    prefix?.(writer);
    const session = await this.openSession(writer, false);
    if (!isSession(session)) return session;
    // ENVCHANGEs follow @@TRANCOUNT: only the outermost begin and the final commit/rollback change
    // the descriptor (a nested begin, or a rollback to a savepoint, does not).
    const track = async (operation: () => Promise<void>, rollback: boolean) => {
      const before = session.transactionCount;
      await operation();
      this.writeTransactionChange(writer, before, session.transactionCount, rollback ? "rollback" : "");
    };
    try {
      switch (request.kind) {
        case "begin":
          // The isolation level byte is not forwarded: the engine has one isolation behaviour.
          await track(() => session.beginTransaction(request.name || undefined), false);
          break;
        case "commit":
          await track(() => session.commitTransaction(request.name || undefined), false);
          if (request.beginNew) await track(() => session.beginTransaction(), false);
          break;
        case "rollback":
          await track(() => session.rollbackTransaction(request.name || undefined), true);
          if (request.beginNew) await track(() => session.beginTransaction(), false);
          break;
        case "save":
          await session.saveTransaction(request.name);
          break;
      }
    } catch (error) {
      if (isSqlError(error)) {
        writeServerError(writer, toServerError(error), this.host.ctx.serverName);
        writeDone(writer, { status: DoneStatus.ERROR });
        return { payload: writer.toBuffer(), errorNumbers: [error.number], executed: true };
      }
      return this.fault(writer, error, false);
    }
    writeDone(writer, { status: DoneStatus.FINAL });
    return { payload: writer.toBuffer(), errorNumbers: [], executed: true };
  }

  /** ENVCHANGE for a transaction that SQL text (or an error) opened or closed. */
  private writeTransactionChange(
    writer: ByteWriter,
    before: number,
    after: number,
    sql: string,
    error = false,
  ) {
    if (before === 0 && after > 0) this.beginDescriptor(writer);
    else if (before > 0 && after === 0) {
      const rolledBack = error || mentionsRollback(sql);
      this.endDescriptor(
        writer,
        rolledBack ? EnvChangeType.ROLLBACK_TRANSACTION : EnvChangeType.COMMIT_TRANSACTION,
      );
    }
  }

  private beginDescriptor(writer: ByteWriter): void {
    // 8 bytes the client echoes in ALL_HEADERS; unique per session and transaction.
    const descriptor = Buffer.alloc(8);
    descriptor.writeUInt32LE(++this.descriptorCounter, 0);
    descriptor.writeUInt32LE(this.host.sessionId, 4);
    this.descriptor = descriptor;
    writeEnvChangeBytes(writer, EnvChangeType.BEGIN_TRANSACTION, descriptor, EMPTY);
  }

  private endDescriptor(writer: ByteWriter, type: number): void {
    writeEnvChangeBytes(writer, type, EMPTY, this.descriptor);
    this.descriptor = EMPTY;
  }

  /** The engine session, or the reply that explains why there is none (no engine, engine failed to start). */
  private async openSession(writer: ByteWriter, inProc: boolean): Promise<SqlSession | ExecutionResult> {
    try {
      const session = await this.host.engineSession();
      return session ?? this.refuse(writer, notSupported("a query without an engine"), inProc);
    } catch (error) {
      return this.fault(writer, error, inProc);
    }
  }

  private refuse(writer: ByteWriter, error: ServerError, inProc: boolean): ExecutionResult {
    writeServerError(writer, error, this.host.ctx.serverName);
    writeDone(writer, {
      type: inProc ? TokenType.DONEPROC : TokenType.DONE,
      status: DoneStatus.ERROR,
      curCmd: inProc ? CurCmd.EXECUTE : CurCmd.NONE,
    });
    return { payload: writer.toBuffer(), errorNumbers: [error.number], executed: false };
  }

  private fault(writer: ByteWriter, error: unknown, inProc: boolean): ExecutionResult {
    const message = error instanceof Error ? error.message : String(error);
    this.host.ctx.emit({ type: "engine-fault", sessionId: this.host.sessionId, message });
    return this.refuse(writer, engineFault(message), inProc);
  }
}

function isSession(value: SqlSession | ExecutionResult): value is SqlSession {
  return !("payload" in value);
}

function errorNumbersOf(outcome: BatchOutcome): number[] {
  return outcome.statements.flatMap((s) => (s.kind === "error" ? [s.error.number] : []));
}

function stringValue(parameter: RpcParameterValue | undefined): string | undefined {
  return typeof parameter?.value === "string" ? parameter.value : undefined;
}

/** sp_executesql's second argument is the declaration list when named @params (or unnamed). */
function isParamsArgument(parameter: RpcParameterValue): boolean {
  return parameter.name === "" || parameter.name.toLowerCase() === "@params";
}

function isSqlError(error: unknown): error is Error & { number: number } {
  return error instanceof Error && typeof (error as { number?: unknown }).number === "number";
}

function procedureExpects(procedure: string, what: string): ServerError {
  return {
    number: 201,
    state: 4,
    severity: 16,
    message: `Procedure or function '${procedure}' expects parameter '${what}', which was not supplied.`,
  };
}

function unknownHandle(handle: unknown): ServerError {
  return {
    number: 8179,
    state: 4,
    severity: 16,
    message: `Could not find prepared statement with handle ${String(handle)}.`,
  };
}
