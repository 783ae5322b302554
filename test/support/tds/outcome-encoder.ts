import type { StatementOutcome } from "../sql-engine/types.js";
import type { ServerError } from "./azure-errors.js";
import type { ByteWriter } from "./byte-writer.js";
import {
  CurCmd,
  DoneStatus,
  TokenType,
  writeColMetadata,
  writeDone,
  writeMessage,
  writeRow,
} from "./token-writer.js";

// Turns the engine's per-statement outcomes into result tokens: COLMETADATA + ROWs, ERROR, and one
// DONE per statement (DONEINPROC inside an RPC). In a SQL batch the last DONE is the final one (no
// MORE bit); whatever has to precede it (transaction ENVCHANGEs) is written by `beforeFinal`.

export interface EncodeOptions {
  /** Inside an RPC: DONEINPROC tokens, and the caller writes DONEPROC. */
  inProc: boolean;
  serverName: string;
  procedureName?: string;
  beforeFinal?: (writer: ByteWriter) => void;
}

export interface EncodeResult {
  error: boolean;
}

/** The error fields an outcome may carry: SqlServerError from the engine, or any look-alike. */
export function toServerError(error: {
  message: string;
  number?: number;
  state?: number;
  severity?: number;
  class?: number;
}): ServerError {
  return {
    number: error.number ?? 50000,
    state: error.state ?? 1,
    severity: error.severity ?? error.class ?? 16,
    message: error.message,
  };
}

export function writeServerError(
  writer: ByteWriter,
  error: ServerError,
  serverName: string,
  procedureName = "",
  lineNumber = 1,
): void {
  writeMessage(writer, { ...error, serverName, procedureName, lineNumber });
}

export function encodeStatements(
  writer: ByteWriter,
  statements: readonly StatementOutcome[],
  options: EncodeOptions,
): EncodeResult {
  const doneType = options.inProc ? TokenType.DONEINPROC : TokenType.DONE;
  let error = false;
  if (statements.length === 0 && !options.inProc) {
    options.beforeFinal?.(writer);
    writeDone(writer, { status: DoneStatus.FINAL });
    return { error };
  }
  statements.forEach((outcome, index) => {
    const last = index === statements.length - 1 && !options.inProc;
    const done = (status: number, rowCount = 0, curCmd: number = CurCmd.NONE) => {
      if (last) options.beforeFinal?.(writer);
      writeDone(writer, { type: doneType, status: (last ? 0 : DoneStatus.MORE) | status, curCmd, rowCount });
    };
    switch (outcome.kind) {
      case "rows":
        if (outcome.resultSet.columns.length > 0) {
          writeColMetadata(writer, outcome.resultSet.columns);
          for (const row of outcome.resultSet.rows) writeRow(writer, outcome.resultSet.columns, row);
        }
        // Under SET NOCOUNT ON SQL Server leaves the count bit off.
        done(outcome.noCount ? 0 : DoneStatus.COUNT, outcome.rowCount, CurCmd.SELECT);
        return;
      case "done":
        done(outcome.rowCount === undefined ? 0 : DoneStatus.COUNT, outcome.rowCount ?? 0);
        return;
      case "error": {
        error = true;
        const line = (outcome.error as { lineNumber?: unknown }).lineNumber;
        writeServerError(
          writer,
          toServerError(outcome.error),
          options.serverName,
          options.procedureName,
          typeof line === "number" ? line : 1,
        );
        done(DoneStatus.ERROR);
        return;
      }
    }
  });
  return { error };
}
