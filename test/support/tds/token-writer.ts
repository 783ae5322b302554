import type { ColumnMetadata, SqlType, SqlValue } from "../sql-engine/types.js";
import { ByteWriter } from "./byte-writer.js";
import { writeTypeInfo, writeValue } from "./type-codec.js";

// Encoders for the server-to-client tokens the stand-in sends (MS-TDS 2.2.7). Each function appends
// one token to a ByteWriter; a response message is a sequence of them.

export const TokenType = {
  RETURNSTATUS: 0x79,
  COLMETADATA: 0x81,
  ERROR: 0xaa,
  INFO: 0xab,
  RETURNVALUE: 0xac,
  LOGINACK: 0xad,
  FEATUREEXTACK: 0xae,
  ROW: 0xd1,
  ENVCHANGE: 0xe3,
  FEDAUTHINFO: 0xee,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

export const EnvChangeType = {
  DATABASE: 1,
  LANGUAGE: 2,
  PACKET_SIZE: 4,
  SQL_COLLATION: 7,
  BEGIN_TRANSACTION: 8,
  COMMIT_TRANSACTION: 9,
  ROLLBACK_TRANSACTION: 10,
  RESET_CONNECTION_ACK: 18,
} as const;

export const DoneStatus = {
  FINAL: 0x00,
  MORE: 0x01,
  ERROR: 0x02,
  IN_TRANSACTION: 0x04,
  COUNT: 0x10,
  ATTENTION: 0x20,
  SERVER_ERROR: 0x100,
} as const;

/** DONE's CurCmd: what kind of statement finished (informational; clients mostly ignore it). */
export const CurCmd = {
  NONE: 0x00,
  SELECT: 0xc1,
  EXECUTE: 0xe0,
} as const;

/** Writes a token whose body is prefixed by its u16 length. */
function withLength16(writer: ByteWriter, type: number, body: (inner: ByteWriter) => void): void {
  const inner = new ByteWriter();
  body(inner);
  writer.u8(type).u16le(inner.size).bytes(inner.toBuffer());
}

export function writeEnvChangeText(
  writer: ByteWriter,
  type: number,
  newValue: string,
  oldValue: string,
): void {
  withLength16(writer, TokenType.ENVCHANGE, (inner) => inner.u8(type).bVarchar(newValue).bVarchar(oldValue));
}

export function writeEnvChangeBytes(
  writer: ByteWriter,
  type: number,
  newValue: Uint8Array,
  oldValue: Uint8Array,
): void {
  withLength16(writer, TokenType.ENVCHANGE, (inner) => inner.u8(type).bVarbyte(newValue).bVarbyte(oldValue));
}

export interface MessageToken {
  number: number;
  state: number;
  /** Severity: 0-10 informational (INFO token), 11+ errors (ERROR token). */
  severity: number;
  message: string;
  serverName: string;
  procedureName?: string;
  lineNumber?: number;
}

export function writeMessage(writer: ByteWriter, token: MessageToken): void {
  const type = token.severity > 10 ? TokenType.ERROR : TokenType.INFO;
  withLength16(writer, type, (inner) =>
    inner
      .i32le(token.number)
      .u8(token.state)
      .u8(token.severity)
      .usVarchar(token.message)
      .bVarchar(token.serverName)
      .bVarchar(token.procedureName ?? "")
      .i32le(token.lineNumber ?? 1),
  );
}

export interface LoginAck {
  /** TDS version, written big-endian: 0x74000004 is TDS 7.4. */
  tdsVersion: number;
  programName: string;
  version: { major: number; minor: number; build: number };
}

export function writeLoginAck(writer: ByteWriter, ack: LoginAck): void {
  withLength16(writer, TokenType.LOGINACK, (inner) =>
    inner
      .u8(1) // interface: SQL_TSQL
      .u32be(ack.tdsVersion)
      .bVarchar(ack.programName)
      .u8(ack.version.major)
      .u8(ack.version.minor)
      .u16be(ack.version.build),
  );
}

export function writeFeatureExtAck(
  writer: ByteWriter,
  features: Array<{ id: number; data: Uint8Array }>,
): void {
  writer.u8(TokenType.FEATUREEXTACK);
  for (const feature of features) writer.u8(feature.id).u32le(feature.data.length).bytes(feature.data);
  writer.u8(0xff);
}

/**
 * FEDAUTHINFO: where the client should get a token. Offsets count from the start of the data that
 * follows the token length (the u32 count included).
 */
export function writeFedAuthInfo(writer: ByteWriter, info: { stsUrl: string; spn: string }): void {
  const entries: Array<[number, Buffer]> = [
    [0x01, Buffer.from(info.stsUrl, "utf16le")],
    [0x02, Buffer.from(info.spn, "utf16le")],
  ];
  const headerLength = 4 + entries.length * 9;
  const data = new ByteWriter().u32le(entries.length);
  let offset = headerLength;
  for (const [id, value] of entries) {
    data.u8(id).u32le(value.length).u32le(offset);
    offset += value.length;
  }
  for (const [, value] of entries) data.bytes(value);
  const body = data.toBuffer();
  writer.u8(TokenType.FEDAUTHINFO).u32le(body.length).bytes(body);
}

export function writeDone(
  writer: ByteWriter,
  token: { type?: number; status: number; curCmd?: number; rowCount?: number },
): void {
  writer
    .u8(token.type ?? TokenType.DONE)
    .u16le(token.status)
    .u16le(token.curCmd ?? CurCmd.NONE)
    .u64le(token.rowCount ?? 0);
}

export function writeColMetadata(writer: ByteWriter, columns: readonly ColumnMetadata[]): void {
  writer.u8(TokenType.COLMETADATA).u16le(columns.length);
  for (const column of columns) {
    writer.u32le(0).u16le(column.nullable ? 0x0001 : 0x0000);
    writeTypeInfo(writer, column.type);
    writer.bVarchar(column.name);
  }
}

export function writeRow(
  writer: ByteWriter,
  columns: readonly ColumnMetadata[],
  row: readonly SqlValue[],
): void {
  writer.u8(TokenType.ROW);
  columns.forEach((column, index) => {
    writeValue(writer, column.type, row[index]);
  });
}

export function writeReturnStatus(writer: ByteWriter, status: number): void {
  writer.u8(TokenType.RETURNSTATUS).i32le(status);
}

export function writeReturnValue(
  writer: ByteWriter,
  parameter: { ordinal: number; name: string; type: SqlType; value: SqlValue },
): void {
  writer.u8(TokenType.RETURNVALUE).u16le(parameter.ordinal).bVarchar(parameter.name);
  writer.u8(0x01); // status: output parameter
  writer.u32le(0).u16le(0x0001);
  writeTypeInfo(writer, parameter.type);
  writeValue(writer, parameter.type, parameter.value);
}
