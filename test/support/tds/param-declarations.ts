import type { SqlType } from "../sql-engine/types.js";

// The @params argument of sp_executesql / sp_prepare: "@p0 int, @name nvarchar(50) OUTPUT, ...".
// It gives each value its declared name, type and direction; sp_execute sends values only, so the
// declaration kept from sp_prepare names them.

export interface ParameterDeclaration {
  name: string;
  /** Undefined when the declared type is not one the stand-in maps (the wire type is used then). */
  type: SqlType | undefined;
  output: boolean;
}

export function parseParameterDeclarations(text: string | null | undefined): ParameterDeclaration[] {
  if (!text || text.trim() === "") return [];
  return splitTopLevel(text).map((part) => {
    const match = /^\s*(@[\w@#$]+)\s+(.*?)\s*$/s.exec(part);
    if (!match) return { name: part.trim(), type: undefined, output: false };
    let typeText = match[2] ?? "";
    let output = false;
    const direction = /\s+(OUTPUT|OUT)\s*(READONLY)?$/i.exec(typeText);
    if (direction) {
      output = true;
      typeText = typeText.slice(0, direction.index);
    }
    typeText = typeText.replace(/\s*=.*$/s, ""); // defaults are not used by the clients we serve
    return { name: match[1] ?? "", type: parseTypeName(typeText), output };
  });
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim() !== "") parts.push(current);
  return parts;
}

export function parseTypeName(text: string): SqlType | undefined {
  const match = /^\s*\[?(\w+)\]?\s*(?:\(\s*(\w+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/.exec(text);
  if (!match) return undefined;
  const name = (match[1] ?? "").toLowerCase();
  const first = match[2];
  const second = match[3];
  const length = (fallback: number): number | "max" =>
    first === undefined ? fallback : first.toLowerCase() === "max" ? "max" : Number(first);
  switch (name) {
    case "bit":
    case "tinyint":
    case "smallint":
    case "int":
    case "bigint":
    case "real":
    case "date":
    case "datetime":
    case "uniqueidentifier":
      return { kind: name };
    case "smalldatetime":
      return { kind: "datetime" };
    case "float":
      return first !== undefined && Number(first) <= 24 ? { kind: "real" } : { kind: "float" };
    case "decimal":
    case "numeric":
      return { kind: "decimal", precision: Number(first ?? 18), scale: Number(second ?? 0) };
    case "money":
      return { kind: "decimal", precision: 19, scale: 4 };
    case "smallmoney":
      return { kind: "decimal", precision: 10, scale: 4 };
    case "nvarchar":
    case "nchar":
      return { kind: "nvarchar", maxLength: length(1) };
    case "ntext":
      return { kind: "nvarchar", maxLength: "max" };
    case "varchar":
    case "char":
      return { kind: "varchar", maxLength: length(1) };
    case "text":
      return { kind: "varchar", maxLength: "max" };
    case "varbinary":
    case "binary":
      return { kind: "varbinary", maxLength: length(1) };
    case "image":
      return { kind: "varbinary", maxLength: "max" };
    case "datetime2":
      return { kind: "datetime2", scale: Number(first ?? 7) };
    case "datetimeoffset":
      return { kind: "datetimeoffset", scale: Number(first ?? 7) };
    default:
      return undefined;
  }
}
