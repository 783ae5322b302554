import type { PGlite } from "@electric-sql/pglite";
import { protocol } from "@electric-sql/pglite";
import type { PgErrorFields } from "./errors.js";

// Runs statements on PGlite through the extended query protocol directly (PGlite's public execProtocol
// API) rather than `query()`: it keeps the row description's table OID, column number and type modifier
// (needed for SQL Server column types), gives rows as text, and pipelines several statements
// (SAVEPOINT + statement + RELEASE) in one call.

export interface PgField {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeModifier: number;
}

export interface PgResult {
  fields: PgField[];
  rows: (string | null)[][];
  /** Command tag, e.g. "INSERT 0 3", "SELECT 2". */
  command: string;
  /** Rows affected or returned, from the command tag. */
  rowCount: number;
}

export interface PgStep {
  sql: string;
  /** Parameter type OIDs (0 = let Postgres infer). */
  types?: number[];
  values?: (string | null)[];
}

/** A Postgres error, with the index of the step that failed. */
export class PgError extends Error {
  override name = "PgError";
  constructor(
    readonly fields: PgErrorFields,
    readonly stepIndex: number,
  ) {
    super(fields.message ?? "postgres error");
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function rowCountOf(tag: string): number {
  const last = tag.split(" ").pop() ?? "";
  const n = Number(last);
  return Number.isFinite(n) ? n : 0;
}

interface BackendMessage {
  name: string;
  fields?: unknown;
  text?: string;
}

/**
 * Runs the steps in one pipeline ended by Sync. Outside a transaction block Postgres runs them as one
 * implicit transaction; after the first error it skips the rest. Throws PgError on error.
 */
export async function runSteps(pg: PGlite, steps: PgStep[]): Promise<PgResult[]> {
  const { serialize } = protocol;
  const parts: Uint8Array[] = [];
  for (const step of steps) {
    parts.push(serialize.parse({ text: step.sql, types: step.types ?? [] }));
    parts.push(serialize.bind({ values: step.values ?? [] }));
    parts.push(serialize.describe({ type: "P" }));
    parts.push(serialize.execute({}));
  }
  parts.push(serialize.sync());
  const messages = (await pg.execProtocolStream(concat(parts), { throwOnError: false })) as BackendMessage[];
  const results: PgResult[] = [];
  let current: PgResult = { fields: [], rows: [], command: "", rowCount: 0 };
  for (const message of messages) {
    switch (message.name) {
      case "rowDescription":
        current.fields = (message.fields as PgField[]).map((f) => ({
          name: f.name,
          tableID: f.tableID,
          columnID: f.columnID,
          dataTypeID: f.dataTypeID,
          dataTypeModifier: f.dataTypeModifier,
        }));
        break;
      case "dataRow":
        current.rows.push((message as unknown as { fields: (string | null)[] }).fields);
        break;
      case "commandComplete":
      case "emptyQuery":
        current.command = message.text ?? "";
        current.rowCount = rowCountOf(current.command);
        results.push(current);
        current = { fields: [], rows: [], command: "", rowCount: 0 };
        break;
      case "error":
        throw new PgError(message as unknown as PgErrorFields, results.length);
    }
  }
  return results;
}

/** Runs one statement without parameters (bootstrap, transaction control). */
export async function runSql(pg: PGlite, sql: string): Promise<PgResult> {
  const [result] = await runSteps(pg, [{ sql }]);
  return result ?? { fields: [], rows: [], command: "", rowCount: 0 };
}
