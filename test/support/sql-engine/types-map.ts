import type { TypeName } from "./ast.js";
import type { SqlType } from "./types.js";

// T-SQL data types <-> Postgres types. A T-SQL column type maps to the Postgres type that stores its
// values faithfully (nvarchar(255) -> varchar(255), datetime2(7) -> timestamp(6), bit -> boolean, ...);
// the exact T-SQL type is kept in the catalog (see catalog.ts) because several T-SQL types share one
// Postgres type (nvarchar/varchar, datetime/datetime2(3), tinyint/smallint).

export interface MappedType {
  sqlType: SqlType;
  /** Postgres type for DDL and CAST. */
  pg: string;
}

/** Postgres type OIDs the engine meets. */
export const PgOid = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
} as const;

/** Postgres cannot store more than microseconds; datetime2(7) is kept at 6 digits. */
function pgScale(scale: number): number {
  return Math.min(scale, 6);
}

function arg(type: TypeName, index: number): number | "MAX" | undefined {
  return type.args[index];
}

/**
 * Maps a T-SQL type as written. `context` decides the default length of n/varchar without one:
 * 1 in a column or variable definition, 30 in CAST/CONVERT (SQL Server's rules).
 * Returns undefined for types the stand-in does not support.
 */
export function mapTsqlType(type: TypeName, context: "column" | "cast"): MappedType | undefined {
  const a0 = arg(type, 0);
  const a1 = arg(type, 1);
  const num = (v: number | "MAX" | undefined, fallback: number) => (typeof v === "number" ? v : fallback);
  switch (type.name) {
    case "BIT":
      return { sqlType: { kind: "bit" }, pg: "boolean" };
    case "TINYINT":
      return { sqlType: { kind: "tinyint" }, pg: "smallint" };
    case "SMALLINT":
      return { sqlType: { kind: "smallint" }, pg: "smallint" };
    case "INT":
    case "INTEGER":
      return { sqlType: { kind: "int" }, pg: "integer" };
    case "BIGINT":
      return { sqlType: { kind: "bigint" }, pg: "bigint" };
    case "REAL":
      return { sqlType: { kind: "real" }, pg: "real" };
    case "FLOAT": {
      const bits = num(a0, 53);
      return bits <= 24
        ? { sqlType: { kind: "real" }, pg: "real" }
        : { sqlType: { kind: "float" }, pg: "double precision" };
    }
    case "DOUBLE PRECISION":
      return { sqlType: { kind: "float" }, pg: "double precision" };
    case "DECIMAL":
    case "DEC":
    case "NUMERIC": {
      const precision = num(a0, 18);
      const scale = num(a1, 0);
      return { sqlType: { kind: "decimal", precision, scale }, pg: `numeric(${precision},${scale})` };
    }
    case "MONEY":
      return { sqlType: { kind: "decimal", precision: 19, scale: 4 }, pg: "numeric(19,4)" };
    case "SMALLMONEY":
      return { sqlType: { kind: "decimal", precision: 10, scale: 4 }, pg: "numeric(10,4)" };
    case "NVARCHAR":
    case "VARCHAR":
    case "SYSNAME": {
      const kind = type.name === "VARCHAR" ? "varchar" : "nvarchar";
      if (type.name === "SYSNAME") return { sqlType: { kind, maxLength: 128 }, pg: "varchar(128)" };
      if (a0 === "MAX") return { sqlType: { kind, maxLength: "max" }, pg: "text" };
      const length = num(a0, context === "column" ? 1 : 30);
      return { sqlType: { kind, maxLength: length }, pg: `varchar(${length})` };
    }
    case "NCHAR":
    case "CHAR": {
      const length = num(a0, context === "column" ? 1 : 30);
      const kind = type.name === "CHAR" ? "varchar" : "nvarchar";
      return { sqlType: { kind, maxLength: length }, pg: `char(${length})` };
    }
    case "TEXT":
      return { sqlType: { kind: "varchar", maxLength: "max" }, pg: "text" };
    case "NTEXT":
      return { sqlType: { kind: "nvarchar", maxLength: "max" }, pg: "text" };
    case "VARBINARY":
    case "BINARY":
    case "IMAGE":
      return {
        sqlType: {
          kind: "varbinary",
          maxLength: typeof a0 === "number" ? a0 : type.name === "BINARY" ? 1 : "max",
        },
        pg: "bytea",
      };
    case "DATE":
      return { sqlType: { kind: "date" }, pg: "date" };
    case "DATETIME":
      return { sqlType: { kind: "datetime" }, pg: "timestamp(3)" };
    case "SMALLDATETIME":
      return { sqlType: { kind: "datetime" }, pg: "timestamp(0)" };
    case "DATETIME2": {
      const scale = num(a0, 7);
      return { sqlType: { kind: "datetime2", scale }, pg: `timestamp(${pgScale(scale)})` };
    }
    case "DATETIMEOFFSET": {
      const scale = num(a0, 7);
      return { sqlType: { kind: "datetimeoffset", scale }, pg: `timestamptz(${pgScale(scale)})` };
    }
    case "UNIQUEIDENTIFIER":
      return { sqlType: { kind: "uniqueidentifier" }, pg: "uuid" };
  }
  return undefined;
}

/** The Postgres type that holds values of a SqlType (table variables, typed parameters). */
export function pgTypeOf(type: SqlType): string {
  switch (type.kind) {
    case "bit":
      return "boolean";
    case "tinyint":
    case "smallint":
      return "smallint";
    case "int":
      return "integer";
    case "bigint":
      return "bigint";
    case "real":
      return "real";
    case "float":
      return "double precision";
    case "decimal":
      return `numeric(${type.precision},${type.scale})`;
    case "nvarchar":
    case "varchar":
      return type.maxLength === "max" ? "text" : `varchar(${type.maxLength})`;
    case "varbinary":
      return "bytea";
    case "date":
      return "date";
    case "datetime":
      return "timestamp(3)";
    case "datetime2":
      return `timestamp(${pgScale(type.scale)})`;
    case "datetimeoffset":
      return `timestamptz(${pgScale(type.scale)})`;
    case "uniqueidentifier":
      return "uuid";
  }
}

/**
 * Parameter type OID for a SqlType. String parameters go as "unknown" (0) so that Postgres converts them
 * to whatever the context needs, like SQL Server's implicit conversion of nvarchar to int, uuid, decimal
 * or datetime does (TypeORM sends uuids and decimals as nvarchar).
 */
export function paramOid(type: SqlType): number {
  switch (type.kind) {
    case "bit":
      return PgOid.bool;
    case "tinyint":
    case "smallint":
      return PgOid.int2;
    case "int":
      return PgOid.int4;
    case "bigint":
      return PgOid.int8;
    case "real":
      return PgOid.float4;
    case "float":
      return PgOid.float8;
    case "decimal":
      return PgOid.numeric;
    case "nvarchar":
    case "varchar":
      return 0;
    case "varbinary":
      return PgOid.bytea;
    case "date":
      return PgOid.date;
    case "datetime":
    case "datetime2":
      return PgOid.timestamp;
    case "datetimeoffset":
      return PgOid.timestamptz;
    case "uniqueidentifier":
      return PgOid.uuid;
  }
}

/**
 * SqlType of a result column that is not a table column (expressions): from the Postgres type and its
 * modifier. `scaleOfValues` supplies the scale of an unconstrained numeric (SUM, AVG, literals).
 */
export function sqlTypeFromPg(oid: number, typmod: number, scaleOfValues: () => number): SqlType {
  switch (oid) {
    case PgOid.bool:
      return { kind: "bit" };
    case PgOid.int2:
      return { kind: "smallint" };
    case PgOid.int4:
      return { kind: "int" };
    case PgOid.int8:
    case PgOid.oid:
      return { kind: "bigint" };
    case PgOid.float4:
      return { kind: "real" };
    case PgOid.float8:
      return { kind: "float" };
    case PgOid.numeric:
      if (typmod >= 4) {
        const t = typmod - 4;
        return { kind: "decimal", precision: (t >> 16) & 0xffff, scale: t & 0xffff };
      }
      return { kind: "decimal", precision: 38, scale: scaleOfValues() };
    case PgOid.varchar:
    case PgOid.bpchar:
      return { kind: "nvarchar", maxLength: typmod >= 4 ? typmod - 4 : "max" };
    case PgOid.name:
      return { kind: "nvarchar", maxLength: 128 };
    case PgOid.date:
      return { kind: "date" };
    case PgOid.timestamp:
      return { kind: "datetime2", scale: typmod >= 0 ? typmod : 7 };
    case PgOid.timestamptz:
      return { kind: "datetimeoffset", scale: typmod >= 0 ? typmod : 7 };
    case PgOid.uuid:
      return { kind: "uniqueidentifier" };
    case PgOid.bytea:
      return { kind: "varbinary", maxLength: "max" };
    default:
      // text, unknown and anything exotic travel as strings.
      return { kind: "nvarchar", maxLength: "max" };
  }
}

/** The T-SQL spelling of a SqlType (INFORMATION_SCHEMA, messages). */
export function sqlTypeName(type: SqlType): string {
  switch (type.kind) {
    case "decimal":
      return `decimal(${type.precision},${type.scale})`;
    case "nvarchar":
    case "varchar":
    case "varbinary":
      return `${type.kind}(${type.maxLength})`;
    case "datetime2":
    case "datetimeoffset":
      return `${type.kind}(${type.scale})`;
    default:
      return type.kind;
  }
}
