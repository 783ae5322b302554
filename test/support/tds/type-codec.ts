import type { SqlType, SqlValue } from "../sql-engine/types.js";
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { DEFAULT_COLLATION, decodeCp1252, encodeCp1252 } from "./collation.js";
import { decimalStorageBytes, fromUnscaled, readMagnitude, toUnscaled, writeMagnitude } from "./decimal.js";
import { TdsProtocolError } from "./errors.js";
import { bytesToGuid, guidToBytes } from "./guid.js";
import {
  asDate,
  fromDateTimeParts,
  fromDays0001,
  fromSmallDateTimeParts,
  fromTimeUnits,
  timeBytesForScale,
  toDateTimeParts,
  toDays0001,
  toTimeUnits,
} from "./temporal.js";
import { UnsupportedFeatureError } from "./unsupported.js";

// TYPE_INFO and values (MS-TDS 2.2.5). Reading covers what tedious and mssql put in RPC parameters
// (the nullable "N" types, the legacy fixed-length types, long and PLP strings, TEXT/NTEXT/IMAGE);
// writing uses one canonical wire type per SqlType, all of them nullable, for COLMETADATA/ROW and
// RETURNVALUE.

export const TypeId = {
  NULL: 0x1f,
  INT1: 0x30,
  BIT: 0x32,
  INT2: 0x34,
  INT4: 0x38,
  INT8: 0x7f,
  DATETIM4: 0x3a,
  FLT4: 0x3b,
  MONEY: 0x3c,
  DATETIME: 0x3d,
  FLT8: 0x3e,
  MONEY4: 0x7a,
  DECIMAL_LEGACY: 0x37,
  NUMERIC_LEGACY: 0x3f,
  GUID: 0x24,
  INTN: 0x26,
  BITN: 0x68,
  DECIMALN: 0x6a,
  NUMERICN: 0x6c,
  FLTN: 0x6d,
  MONEYN: 0x6e,
  DATETIMN: 0x6f,
  DATEN: 0x28,
  TIMEN: 0x29,
  DATETIME2N: 0x2a,
  DATETIMEOFFSETN: 0x2b,
  BIGVARBIN: 0xa5,
  BIGVARCHR: 0xa7,
  BIGBINARY: 0xad,
  BIGCHAR: 0xaf,
  NVARCHAR: 0xe7,
  NCHAR: 0xef,
  TEXT: 0x23,
  NTEXT: 0x63,
  IMAGE: 0x22,
  XML: 0xf1,
  UDT: 0xf0,
  TVP: 0xf3,
  SSVARIANT: 0x62,
} as const;

const MAX_MARKER = 0xffff;
const PLP_NULL = 0xffffffffffffffffn;
const PLP_UNKNOWN_LENGTH = 0xfffffffffffffffen;

/** How a value is framed on the wire, decided by its TYPE_INFO. */
type Framing =
  | { kind: "fixed"; bytes: number }
  | { kind: "byte-length" }
  | { kind: "short-length" }
  | { kind: "plp" }
  | { kind: "long-length" };

export interface WireType {
  id: number;
  sqlType: SqlType;
  framing: Framing;
  /** For variable-length numerics/temporals: the declared data length or scale. */
  length: number;
  /** A type whose values are always NULL (the NULL type 0x1F). */
  alwaysNull?: boolean;
}

export function readTypeInfo(reader: ByteReader): WireType {
  const id = reader.u8();
  const fixed = (bytes: number, sqlType: SqlType): WireType => ({
    id,
    sqlType,
    framing: { kind: "fixed", bytes },
    length: bytes,
  });
  switch (id) {
    case TypeId.NULL:
      return {
        id,
        sqlType: { kind: "int" },
        framing: { kind: "fixed", bytes: 0 },
        length: 0,
        alwaysNull: true,
      };
    case TypeId.INT1:
      return fixed(1, { kind: "tinyint" });
    case TypeId.BIT:
      return fixed(1, { kind: "bit" });
    case TypeId.INT2:
      return fixed(2, { kind: "smallint" });
    case TypeId.INT4:
      return fixed(4, { kind: "int" });
    case TypeId.INT8:
      return fixed(8, { kind: "bigint" });
    case TypeId.FLT4:
      return fixed(4, { kind: "real" });
    case TypeId.FLT8:
      return fixed(8, { kind: "float" });
    case TypeId.DATETIME:
      return fixed(8, { kind: "datetime" });
    case TypeId.DATETIM4:
      return fixed(4, { kind: "datetime" });
    case TypeId.MONEY:
      return fixed(8, { kind: "decimal", precision: 19, scale: 4 });
    case TypeId.MONEY4:
      return fixed(4, { kind: "decimal", precision: 10, scale: 4 });
    case TypeId.INTN: {
      const length = reader.u8();
      const kinds: Record<number, SqlType> = {
        1: { kind: "tinyint" },
        2: { kind: "smallint" },
        4: { kind: "int" },
        8: { kind: "bigint" },
      };
      const sqlType = kinds[length];
      if (!sqlType) throw new TdsProtocolError(`INTN with length ${length}`);
      return { id, sqlType, framing: { kind: "byte-length" }, length };
    }
    case TypeId.BITN:
      return { id, sqlType: { kind: "bit" }, framing: { kind: "byte-length" }, length: reader.u8() };
    case TypeId.FLTN: {
      const length = reader.u8();
      return {
        id,
        sqlType: { kind: length === 4 ? "real" : "float" },
        framing: { kind: "byte-length" },
        length,
      };
    }
    case TypeId.MONEYN: {
      const length = reader.u8();
      const sqlType: SqlType = { kind: "decimal", precision: length === 4 ? 10 : 19, scale: 4 };
      return { id, sqlType, framing: { kind: "byte-length" }, length };
    }
    case TypeId.DATETIMN:
      return { id, sqlType: { kind: "datetime" }, framing: { kind: "byte-length" }, length: reader.u8() };
    case TypeId.DECIMALN:
    case TypeId.NUMERICN:
    case TypeId.DECIMAL_LEGACY:
    case TypeId.NUMERIC_LEGACY: {
      const length = reader.u8();
      const precision = reader.u8();
      const scale = reader.u8();
      return { id, sqlType: { kind: "decimal", precision, scale }, framing: { kind: "byte-length" }, length };
    }
    case TypeId.GUID:
      return {
        id,
        sqlType: { kind: "uniqueidentifier" },
        framing: { kind: "byte-length" },
        length: reader.u8(),
      };
    case TypeId.DATEN:
      return { id, sqlType: { kind: "date" }, framing: { kind: "byte-length" }, length: 3 };
    case TypeId.DATETIME2N: {
      const scale = reader.u8();
      return { id, sqlType: { kind: "datetime2", scale }, framing: { kind: "byte-length" }, length: scale };
    }
    case TypeId.DATETIMEOFFSETN: {
      const scale = reader.u8();
      return {
        id,
        sqlType: { kind: "datetimeoffset", scale },
        framing: { kind: "byte-length" },
        length: scale,
      };
    }
    case TypeId.BIGVARBIN:
    case TypeId.BIGBINARY: {
      const max = reader.u16le();
      const plp = max === MAX_MARKER;
      const sqlType: SqlType = { kind: "varbinary", maxLength: plp ? "max" : max };
      return { id, sqlType, framing: plp ? { kind: "plp" } : { kind: "short-length" }, length: max };
    }
    case TypeId.BIGVARCHR:
    case TypeId.BIGCHAR:
    case TypeId.NVARCHAR:
    case TypeId.NCHAR: {
      const max = reader.u16le();
      reader.bytes(5); // collation: the stand-in speaks one (see collation.ts)
      const plp = max === MAX_MARKER;
      const unicode = id === TypeId.NVARCHAR || id === TypeId.NCHAR;
      const sqlType: SqlType = unicode
        ? { kind: "nvarchar", maxLength: plp ? "max" : max / 2 }
        : { kind: "varchar", maxLength: plp ? "max" : max };
      return { id, sqlType, framing: plp ? { kind: "plp" } : { kind: "short-length" }, length: max };
    }
    case TypeId.TEXT:
    case TypeId.NTEXT: {
      const length = reader.u32le();
      reader.bytes(5);
      const sqlType: SqlType =
        id === TypeId.NTEXT ? { kind: "nvarchar", maxLength: "max" } : { kind: "varchar", maxLength: "max" };
      return { id, sqlType, framing: { kind: "long-length" }, length };
    }
    case TypeId.IMAGE:
      return {
        id,
        sqlType: { kind: "varbinary", maxLength: "max" },
        framing: { kind: "long-length" },
        length: reader.u32le(),
      };
    case TypeId.TIMEN:
      throw new UnsupportedFeatureError("the time data type");
    case TypeId.XML:
      throw new UnsupportedFeatureError("the xml data type");
    case TypeId.TVP:
      throw new UnsupportedFeatureError("table-valued parameters");
    case TypeId.UDT:
      throw new UnsupportedFeatureError("CLR user-defined types");
    case TypeId.SSVARIANT:
      throw new UnsupportedFeatureError("sql_variant");
    default:
      throw new TdsProtocolError(`unknown data type 0x${id.toString(16)}`);
  }
}

export function readValue(reader: ByteReader, type: WireType): SqlValue {
  if (type.alwaysNull) return null;
  const bytes = readFramedBytes(reader, type);
  if (bytes === null) return null;
  return decodeBytes(bytes, type);
}

function readFramedBytes(reader: ByteReader, type: WireType): Buffer | null {
  switch (type.framing.kind) {
    case "fixed":
      return reader.bytes(type.framing.bytes);
    case "byte-length": {
      const length = reader.u8();
      return length === 0 ? null : reader.bytes(length);
    }
    case "short-length": {
      const length = reader.u16le();
      return length === MAX_MARKER ? null : reader.bytes(length);
    }
    case "long-length": {
      const length = reader.u32le();
      return length === 0xffffffff ? null : reader.bytes(length);
    }
    case "plp": {
      const total = reader.u64le();
      if (total === PLP_NULL) return null;
      const chunks: Buffer[] = [];
      for (;;) {
        const chunkLength = reader.u32le();
        if (chunkLength === 0) break;
        chunks.push(reader.bytes(chunkLength));
      }
      const data = Buffer.concat(chunks);
      if (total !== PLP_UNKNOWN_LENGTH && BigInt(data.length) !== total) {
        throw new TdsProtocolError(`PLP value announced ${total} bytes but carried ${data.length}`);
      }
      return data;
    }
  }
}

function decodeBytes(bytes: Buffer, type: WireType): SqlValue {
  const sqlType = type.sqlType;
  switch (sqlType.kind) {
    case "bit":
      return bytes.readUInt8(0) !== 0;
    case "tinyint":
      return bytes.readUInt8(0);
    case "smallint":
      return bytes.readInt16LE(0);
    case "int":
      return bytes.readInt32LE(0);
    case "bigint": {
      const value = bytes.readBigInt64LE(0);
      return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    }
    case "real":
      return bytes.length === 4 ? bytes.readFloatLE(0) : bytes.readDoubleLE(0);
    case "float":
      return bytes.length === 8 ? bytes.readDoubleLE(0) : bytes.readFloatLE(0);
    case "decimal": {
      if (type.id === TypeId.MONEY || type.id === TypeId.MONEY4 || type.id === TypeId.MONEYN) {
        const units =
          bytes.length === 4
            ? BigInt(bytes.readInt32LE(0))
            : (BigInt(bytes.readInt32LE(0)) << 32n) | BigInt(bytes.readUInt32LE(4));
        return fromUnscaled(units < 0n, units < 0n ? -units : units, 4);
      }
      const negative = bytes.readUInt8(0) === 0;
      return fromUnscaled(negative, readMagnitude(bytes.subarray(1)), sqlType.scale);
    }
    case "nvarchar":
      return bytes.toString("utf16le");
    case "varchar":
      return decodeCp1252(bytes);
    case "varbinary":
      return new Uint8Array(bytes);
    case "uniqueidentifier":
      return bytesToGuid(bytes);
    case "date":
      return fromDays0001(bytes.readUIntLE(0, 3));
    case "datetime":
      return bytes.length === 4
        ? fromSmallDateTimeParts(bytes.readUInt16LE(0), bytes.readUInt16LE(2))
        : fromDateTimeParts(bytes.readInt32LE(0), bytes.readUInt32LE(4));
    case "datetime2": {
      const timeBytes = bytes.length - 3;
      return fromTimeUnits(bytes.readUIntLE(timeBytes, 3), bytes.readUIntLE(0, timeBytes), sqlType.scale);
    }
    case "datetimeoffset": {
      // Time and date are stored in UTC; the trailing i16 offset only says how to display it.
      const timeBytes = bytes.length - 5;
      return fromTimeUnits(bytes.readUIntLE(timeBytes, 3), bytes.readUIntLE(0, timeBytes), sqlType.scale);
    }
  }
}

/** TYPE_INFO for result columns and RETURNVALUE tokens. */
export function writeTypeInfo(writer: ByteWriter, type: SqlType): void {
  switch (type.kind) {
    case "bit":
      writer.u8(TypeId.BITN).u8(1);
      return;
    case "tinyint":
      writer.u8(TypeId.INTN).u8(1);
      return;
    case "smallint":
      writer.u8(TypeId.INTN).u8(2);
      return;
    case "int":
      writer.u8(TypeId.INTN).u8(4);
      return;
    case "bigint":
      writer.u8(TypeId.INTN).u8(8);
      return;
    case "real":
      writer.u8(TypeId.FLTN).u8(4);
      return;
    case "float":
      writer.u8(TypeId.FLTN).u8(8);
      return;
    case "decimal":
      writer
        .u8(TypeId.DECIMALN)
        .u8(1 + decimalStorageBytes(type.precision))
        .u8(type.precision)
        .u8(type.scale);
      return;
    case "nvarchar":
      writer.u8(TypeId.NVARCHAR).u16le(isPlp(type) ? MAX_MARKER : (type.maxLength as number) * 2);
      writer.bytes(DEFAULT_COLLATION);
      return;
    case "varchar":
      writer.u8(TypeId.BIGVARCHR).u16le(isPlp(type) ? MAX_MARKER : (type.maxLength as number));
      writer.bytes(DEFAULT_COLLATION);
      return;
    case "varbinary":
      writer.u8(TypeId.BIGVARBIN).u16le(isPlp(type) ? MAX_MARKER : (type.maxLength as number));
      return;
    case "date":
      writer.u8(TypeId.DATEN);
      return;
    case "datetime":
      writer.u8(TypeId.DATETIMN).u8(8);
      return;
    case "datetime2":
      writer.u8(TypeId.DATETIME2N).u8(type.scale);
      return;
    case "datetimeoffset":
      writer.u8(TypeId.DATETIMEOFFSETN).u8(type.scale);
      return;
    case "uniqueidentifier":
      writer.u8(TypeId.GUID).u8(16);
      return;
  }
}

/** Strings longer than a short type can declare travel as PLP, like (max) columns. */
function isPlp(type: SqlType): boolean {
  if (type.kind === "nvarchar") return type.maxLength === "max" || type.maxLength > 4000;
  if (type.kind === "varchar" || type.kind === "varbinary") {
    return type.maxLength === "max" || type.maxLength > 8000;
  }
  return false;
}

/** One value in the framing `writeTypeInfo(type)` announced. Lenient about JS representations. */
export function writeValue(writer: ByteWriter, type: SqlType, value: SqlValue | undefined): void {
  const isNull = value === null || value === undefined;
  switch (type.kind) {
    case "bit":
      if (isNull) writer.u8(0);
      else writer.u8(1).u8(value === true || (typeof value !== "boolean" && Number(value) !== 0) ? 1 : 0);
      return;
    case "tinyint":
      if (isNull) writer.u8(0);
      else writer.u8(1).u8(Number(value));
      return;
    case "smallint":
      if (isNull) writer.u8(0);
      else writer.u8(2).i16le(Number(value));
      return;
    case "int":
      if (isNull) writer.u8(0);
      else writer.u8(4).i32le(Number(value));
      return;
    case "bigint":
      if (isNull) writer.u8(0);
      else
        writer.u8(8).i64le(BigInt(typeof value === "boolean" ? Number(value) : (value as number | bigint)));
      return;
    case "real":
      if (isNull) writer.u8(0);
      else writer.u8(4).f32le(Number(value));
      return;
    case "float":
      if (isNull) writer.u8(0);
      else writer.u8(8).f64le(Number(value));
      return;
    case "decimal": {
      if (isNull) {
        writer.u8(0);
        return;
      }
      const storage = decimalStorageBytes(type.precision);
      const { negative, magnitude } = toUnscaled(value as string | number | bigint, type.scale);
      writer
        .u8(1 + storage)
        .u8(negative ? 0 : 1)
        .bytes(writeMagnitude(magnitude, storage));
      return;
    }
    case "nvarchar":
    case "varchar":
    case "varbinary": {
      const bytes = isNull ? null : stringOrBinaryBytes(type, value);
      if (isPlp(type)) writePlp(writer, bytes);
      else if (bytes === null) writer.u16le(MAX_MARKER);
      else writer.u16le(bytes.length).bytes(bytes);
      return;
    }
    case "date":
      if (isNull) writer.u8(0);
      else writer.u8(3).u24le(toDays0001(asDate(value)));
      return;
    case "datetime": {
      if (isNull) {
        writer.u8(0);
        return;
      }
      const { days, ticks } = toDateTimeParts(asDate(value));
      writer.u8(8).i32le(days).u32le(ticks);
      return;
    }
    case "datetime2":
    case "datetimeoffset": {
      if (isNull) {
        writer.u8(0);
        return;
      }
      const timeBytes = timeBytesForScale(type.scale);
      const offsetBytes = type.kind === "datetimeoffset" ? 2 : 0;
      const { days, units } = toTimeUnits(asDate(value), type.scale);
      writer.u8(timeBytes + 3 + offsetBytes);
      if (timeBytes === 3) writer.u24le(units);
      else if (timeBytes === 4) writer.u32le(units);
      else writer.u40le(units);
      writer.u24le(days);
      // The stand-in keeps instants in UTC: offset 0.
      if (offsetBytes) writer.i16le(0);
      return;
    }
    case "uniqueidentifier":
      if (isNull) writer.u8(0);
      else writer.u8(16).bytes(guidToBytes(String(value)));
      return;
  }
}

function stringOrBinaryBytes(type: SqlType, value: SqlValue): Buffer {
  if (type.kind === "varbinary") {
    if (value instanceof Uint8Array) return Buffer.from(value);
    if (typeof value === "string") return Buffer.from(value, "utf8");
    throw new TypeError(`varbinary value must be bytes, got ${typeof value}`);
  }
  const text = value instanceof Date ? value.toISOString() : String(value);
  return type.kind === "nvarchar" ? Buffer.from(text, "utf16le") : encodeCp1252(text);
}

function writePlp(writer: ByteWriter, bytes: Buffer | null): void {
  if (bytes === null) {
    writer.u64le(PLP_NULL);
    return;
  }
  writer.u64le(bytes.length);
  if (bytes.length > 0) writer.u32le(bytes.length).bytes(bytes);
  writer.u32le(0);
}
