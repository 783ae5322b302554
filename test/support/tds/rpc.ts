import type { SqlParameter, SqlType, SqlValue } from "../sql-engine/types.js";
import { readAllHeaders } from "./all-headers.js";
import { ByteReader } from "./byte-reader.js";
import { type ParameterDeclaration, parseParameterDeclarations } from "./param-declarations.js";
import { readTypeInfo, readValue } from "./type-codec.js";
import { UnsupportedFeatureError } from "./unsupported.js";

// RPC requests (MS-TDS 2.2.6.6): ALL_HEADERS, the procedure (0xFFFF + a well-known id, or a name),
// option flags, then parameters (name B_VARCHAR, status, TYPE_INFO, value). The system procedures
// clients use to run parameterised SQL are recognised by id and by name.

export const ProcedureId = {
  sp_executesql: 10,
  sp_prepare: 11,
  sp_execute: 12,
  sp_prepexec: 13,
  sp_unprepare: 15,
} as const;

export type SystemProcedure = keyof typeof ProcedureId;

const PROCEDURE_BY_ID = new Map<number, SystemProcedure>(
  Object.entries(ProcedureId).map(([name, id]) => [id, name as SystemProcedure]),
);

export interface RpcParameterValue {
  /** As sent, with "@" (tedious and mssql name every parameter; may be "" for positional ones). */
  name: string;
  output: boolean;
  type: SqlType;
  value: SqlValue;
}

export interface RpcRequest {
  /** A recognised system procedure, or the name as sent for anything else. */
  procedure: { system: SystemProcedure } | { name: string };
  parameters: RpcParameterValue[];
}

const STATUS_BY_REF = 0x01;

export function parseRpc(payload: Buffer): RpcRequest {
  const reader = new ByteReader(payload);
  readAllHeaders(reader);
  const nameLength = reader.u16le();
  let procedure: RpcRequest["procedure"];
  if (nameLength === 0xffff) {
    const id = reader.u16le();
    const system = PROCEDURE_BY_ID.get(id);
    if (!system) throw new UnsupportedFeatureError(`system procedure id ${id}`);
    procedure = { system };
  } else {
    const name = reader.ucs2(nameLength);
    const bare = name
      .replace(/^(\[?sys\]?\.|\[?dbo\]?\.)/i, "")
      .replace(/^\[|\]$/g, "")
      .toLowerCase();
    procedure = bare in ProcedureId ? { system: bare as SystemProcedure } : { name };
  }
  reader.u16le(); // option flags (WITH RECOMPILE, no metadata): nothing to honour in the stand-in

  const parameters: RpcParameterValue[] = [];
  while (reader.remaining > 0) {
    const marker = reader.buffer.readUInt8(reader.offset);
    if (marker === 0xff || marker === 0x80 || marker === 0xfe) {
      throw new UnsupportedFeatureError("several RPC calls in one request (RPC batching)");
    }
    const name = reader.bVarchar();
    const status = reader.u8();
    const wire = readTypeInfo(reader);
    const value = readValue(reader, wire);
    parameters.push({ name, output: (status & STATUS_BY_REF) !== 0, type: wire.sqlType, value });
  }
  return { procedure, parameters };
}

/**
 * Pairs parameter values with their declarations (by name when the client named them, by position
 * otherwise) and produces what the engine receives. The declared type wins over the wire type: the
 * declaration is what SQL Server binds the statement with.
 */
export function bindParameters(
  declarations: readonly ParameterDeclaration[],
  values: readonly RpcParameterValue[],
): SqlParameter[] {
  return values.map((value, index) => {
    const byName = value.name ? declarations.find((d) => sameName(d.name, value.name)) : undefined;
    const declaration = byName ?? declarations[index];
    return {
      name: declaration?.name ?? (value.name || `@${index}`),
      type: declaration?.type ?? value.type,
      value: value.value,
      output: declaration?.output ?? value.output,
    };
  });
}

function sameName(a: string, b: string): boolean {
  return a.replace(/^@/, "").toLowerCase() === b.replace(/^@/, "").toLowerCase();
}

export { parseParameterDeclarations };
