import type { SqlType, SqlValue } from "./types.js";

// Values cross to Postgres as text (the wire's text format) and come back as text; these functions
// convert between that text and the engine's SqlValue, following the contract in types.ts: decimals are
// exact strings, bigints are numbers unless unsafe, date/time values are Dates in UTC, uniqueidentifiers
// are upper-case strings, binary is Uint8Array.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** "YYYY-MM-DD HH:MM:SS.mmm" in UTC: what a Postgres timestamp without time zone reads. */
export function formatTimestamp(date: Date): string {
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}`
  );
}

function formatDate(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Text for a parameter value of the given type (null stays null). */
export function toPgText(value: SqlValue, type: SqlType): string | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return `\\x${toHex(value)}`;
  if (value instanceof Date) {
    if (type.kind === "date") return formatDate(value);
    if (type.kind === "datetimeoffset") return value.toISOString();
    return formatTimestamp(value);
  }
  if (typeof value === "boolean") {
    if (type.kind === "bit") return value ? "t" : "f";
    return value ? "1" : "0";
  }
  if (type.kind === "bit" && (typeof value === "number" || typeof value === "bigint"))
    return value ? "t" : "f";
  return String(value);
}

function parseTimestamp(text: string, withZone: boolean): Date | string {
  // "2024-01-02 03:04:05.123456" or with zone "+00" / "+05:30"; BC and infinity come back as text.
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-]\d\d(?::?\d\d)?(?::\d\d)?)?$/.exec(
    text,
  );
  if (!m) return text;
  const fraction = m[7] ? m[7].slice(0, 4).padEnd(4, "0") : "";
  let zone = withZone ? (m[8] ?? "+00") : "Z";
  if (zone !== "Z" && /^[+-]\d\d$/.test(zone)) zone = `${zone}:00`;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${zone}`);
}

/** Converts one text value from Postgres to the SqlValue of the column's SqlType. */
export function fromPgText(text: string | null, type: SqlType): SqlValue {
  if (text === null) return null;
  switch (type.kind) {
    case "bit":
      return text === "t" || text === "true" || text === "1";
    case "tinyint":
    case "smallint":
    case "int":
      return Number.parseInt(text, 10);
    case "bigint": {
      const big = BigInt(text);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    case "real":
    case "float":
      return Number.parseFloat(text);
    case "decimal":
      return text;
    case "date": {
      const m = /^(\d{4,})-(\d\d)-(\d\d)$/.exec(text);
      return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`) : text;
    }
    case "datetime":
    case "datetime2":
      return parseTimestamp(text, false);
    case "datetimeoffset":
      return parseTimestamp(text, true);
    case "uniqueidentifier":
      return text.toUpperCase();
    case "varbinary":
      return text.startsWith("\\x")
        ? new Uint8Array(Buffer.from(text.slice(2), "hex"))
        : new TextEncoder().encode(text);
    case "nvarchar":
    case "varchar":
      return text;
  }
}

/** Number of digits after the decimal point (for numeric results without a declared scale). */
export function decimalScale(text: string | null): number {
  if (text === null) return 0;
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}
