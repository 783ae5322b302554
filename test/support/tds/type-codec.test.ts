import { describe, expect, it } from "vitest";
import type { SqlType, SqlValue } from "../sql-engine/types.js";
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { decodeCp1252, encodeCp1252 } from "./collation.js";
import { parseParameterDeclarations } from "./param-declarations.js";
import { readTypeInfo, readValue, TypeId, writeTypeInfo, writeValue } from "./type-codec.js";

function roundTrip(type: SqlType, value: SqlValue): { type: SqlType; value: SqlValue } {
  const writer = new ByteWriter();
  writeTypeInfo(writer, type);
  writeValue(writer, type, value);
  const reader = new ByteReader(writer.toBuffer());
  const wire = readTypeInfo(reader);
  const decoded = readValue(reader, wire);
  expect(reader.remaining).toBe(0);
  return { type: wire.sqlType, value: decoded };
}

describe("type codec", () => {
  const when = new Date("2024-02-29T13:45:56.789Z");
  const cases: Array<[string, SqlType, SqlValue, SqlValue?]> = [
    ["bit", { kind: "bit" }, true],
    ["tinyint", { kind: "tinyint" }, 255],
    ["smallint", { kind: "smallint" }, -32768],
    ["int", { kind: "int" }, -2147483648],
    ["bigint (safe)", { kind: "bigint" }, 9007199254740991],
    ["bigint (unsafe)", { kind: "bigint" }, -9223372036854775808n],
    ["real", { kind: "real" }, 1.5],
    ["float", { kind: "float" }, Math.PI],
    ["decimal", { kind: "decimal", precision: 38, scale: 10 }, "-12345678901234567890123456.7890123456"],
    ["decimal rounds half away from zero", { kind: "decimal", precision: 10, scale: 2 }, "2.345", "2.35"],
    ["decimal from a number", { kind: "decimal", precision: 9, scale: 3 }, 0.1, "0.100"],
    ["nvarchar", { kind: "nvarchar", maxLength: 20 }, "naïve ✓"],
    ["nvarchar(max)", { kind: "nvarchar", maxLength: "max" }, "z".repeat(10_000)],
    ["empty nvarchar(max)", { kind: "nvarchar", maxLength: "max" }, ""],
    ["varchar", { kind: "varchar", maxLength: 20 }, "café €"],
    ["varbinary", { kind: "varbinary", maxLength: 8 }, new Uint8Array([1, 2, 3])],
    ["varbinary(max)", { kind: "varbinary", maxLength: "max" }, new Uint8Array(9000).fill(5)],
    ["date", { kind: "date" }, new Date("0001-01-01T00:00:00Z")],
    ["datetime", { kind: "datetime" }, new Date("1753-01-01T00:00:00.003Z")],
    ["datetime2(7)", { kind: "datetime2", scale: 7 }, when],
    ["datetime2(0) rounds", { kind: "datetime2", scale: 0 }, when, new Date("2024-02-29T13:45:57Z")],
    ["datetimeoffset(3)", { kind: "datetimeoffset", scale: 3 }, new Date("9999-12-31T23:59:59.999Z")],
    ["uniqueidentifier", { kind: "uniqueidentifier" }, "6F9619FF-8B86-D011-B42D-00C04FC964FF"],
  ];
  for (const [name, type, value, expected] of cases) {
    it(`round-trips ${name}`, () => {
      const decoded = roundTrip(type, value);
      expect(decoded.type).toEqual(type);
      expect(decoded.value).toEqual(expected ?? value);
    });
  }

  it("round-trips NULL for every type", () => {
    for (const [, type] of cases) expect(roundTrip(type, null).value).toBeNull();
  });

  it("reads PLP values sent in several chunks with an unknown total length", () => {
    const chunk = (text: string) => {
      const bytes = Buffer.from(text, "utf16le");
      const header = Buffer.alloc(4);
      header.writeUInt32LE(bytes.length);
      return Buffer.concat([header, bytes]);
    };
    const message = Buffer.concat([
      Buffer.from([TypeId.NVARCHAR, 0xff, 0xff, 0x09, 0x04, 0xd0, 0x00, 0x34]),
      Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      chunk("hello, "),
      chunk("world"),
      Buffer.alloc(4),
    ]);
    const reader = new ByteReader(message);
    expect(readValue(reader, readTypeInfo(reader))).toBe("hello, world");
  });

  it("reads the legacy fixed-length and money types clients may send", () => {
    const money = Buffer.from([TypeId.MONEYN, 8, 8, 0, 0, 0, 0, 0x4e, 0x61, 0xbc, 0x00]); // 1234.5678
    const reader = new ByteReader(money);
    expect(readValue(reader, readTypeInfo(reader))).toBe("1234.5678");
    const int4 = new ByteReader(Buffer.from([TypeId.INT4, 0xff, 0xff, 0xff, 0xff]));
    expect(readValue(int4, readTypeInfo(int4))).toBe(-1);
  });

  it("maps code page 1252 both ways", () => {
    expect(decodeCp1252(encodeCp1252("€ƒ‰ café"))).toBe("€ƒ‰ café");
    expect(decodeCp1252(encodeCp1252("日本"))).toBe("??");
  });
});

describe("parameter declarations", () => {
  it("parses what tedious and mssql put in @params", () => {
    expect(
      parseParameterDeclarations(
        "@p0 int, @name nvarchar(50) OUTPUT, @d decimal(18, 2), @m nvarchar(max), @t datetime2(3), @f float(24)",
      ),
    ).toEqual([
      { name: "@p0", type: { kind: "int" }, output: false },
      { name: "@name", type: { kind: "nvarchar", maxLength: 50 }, output: true },
      { name: "@d", type: { kind: "decimal", precision: 18, scale: 2 }, output: false },
      { name: "@m", type: { kind: "nvarchar", maxLength: "max" }, output: false },
      { name: "@t", type: { kind: "datetime2", scale: 3 }, output: false },
      { name: "@f", type: { kind: "real" }, output: false },
    ]);
    expect(parseParameterDeclarations("@x geography")).toEqual([
      { name: "@x", type: undefined, output: false },
    ]);
    expect(parseParameterDeclarations(null)).toEqual([]);
  });
});
