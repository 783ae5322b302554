import type { SqlType } from "./types.js";
import { sqlTypeFromPg } from "./types-map.js";

// What the engine knows about tables: loaded from Postgres' own catalog in one query and reloaded after
// DDL (and after rollbacks, which may undo DDL). The exact T-SQL type of each column travels as a column
// comment written by CREATE/ALTER TABLE (`tsql:{"kind":"nvarchar","maxLength":255}`): comments are
// transactional and vanish with the column, so the catalog can never disagree with the tables.

export const TYPE_COMMENT_PREFIX = "tsql:";

export interface CatalogColumn {
  name: string;
  attnum: number;
  sqlType: SqlType;
  notNull: boolean;
  identity: boolean;
}

export interface CatalogTable {
  oid: number;
  /** Postgres schema: "dbo" for user tables, "INFORMATION_SCHEMA" and "sys" for the catalog views. */
  schema: string;
  name: string;
  view: boolean;
  columns: CatalogColumn[];
  identity?: CatalogColumn;
}

/** The catalog query; its rows feed `Catalog.fromRows`. */
export const CATALOG_QUERY = `SELECT c.oid::int, n.nspname, c.relname, c.relkind, a.attnum, a.attname, a.attnotnull,
  a.attidentity, a.atttypid::int, a.atttypmod, col_description(c.oid, a.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname IN ('dbo', 'INFORMATION_SCHEMA', 'sys') AND c.relkind IN ('r', 'v', 'p')
ORDER BY c.oid, a.attnum`;

export function typeComment(type: SqlType): string {
  return TYPE_COMMENT_PREFIX + JSON.stringify(type);
}

function parseComment(comment: string | null | undefined): SqlType | undefined {
  if (!comment?.startsWith(TYPE_COMMENT_PREFIX)) return undefined;
  try {
    return JSON.parse(comment.slice(TYPE_COMMENT_PREFIX.length)) as SqlType;
  } catch {
    return undefined;
  }
}

export class Catalog {
  private readonly byKey = new Map<string, CatalogTable>();
  private readonly byLowerKey = new Map<string, CatalogTable[]>();
  private readonly byOidMap = new Map<number, CatalogTable>();

  constructor(tables: CatalogTable[]) {
    for (const table of tables) {
      this.byKey.set(`${table.schema}.${table.name}`, table);
      const lower = `${table.schema.toLowerCase()}.${table.name.toLowerCase()}`;
      this.byLowerKey.set(lower, [...(this.byLowerKey.get(lower) ?? []), table]);
      this.byOidMap.set(table.oid, table);
    }
  }

  /** Rows of CATALOG_QUERY, as text (the wire's text format). */
  static fromRows(rows: (string | null)[][]): Catalog {
    const tables = new Map<number, CatalogTable>();
    for (const [
      oid,
      schema,
      name,
      kind,
      attnum,
      attname,
      notNull,
      identity,
      typid,
      typmod,
      comment,
    ] of rows) {
      const id = Number(oid);
      let table = tables.get(id);
      if (!table) {
        table = { oid: id, schema: schema ?? "", name: name ?? "", view: kind === "v", columns: [] };
        tables.set(id, table);
      }
      if (attnum === null || attnum === undefined || attname === null || attname === undefined) continue;
      const column: CatalogColumn = {
        name: attname,
        attnum: Number(attnum),
        sqlType: parseComment(comment) ?? sqlTypeFromPg(Number(typid), Number(typmod), () => 0),
        notNull: notNull === "t",
        identity: identity === "a" || identity === "d",
      };
      table.columns.push(column);
      if (column.identity) table.identity = column;
    }
    return new Catalog([...tables.values()]);
  }

  /** A table by schema and name: exact spelling first, then case-insensitively (SQL Server's default). */
  table(schema: string, name: string): CatalogTable | undefined {
    const exact = this.byKey.get(`${schema}.${name}`);
    if (exact) return exact;
    const matches = this.byLowerKey.get(`${schema.toLowerCase()}.${name.toLowerCase()}`);
    return matches?.length === 1 ? matches[0] : undefined;
  }

  byOid(oid: number): CatalogTable | undefined {
    return this.byOidMap.get(oid);
  }

  column(oid: number, attnum: number): CatalogColumn | undefined {
    return this.byOidMap.get(oid)?.columns.find((c) => c.attnum === attnum);
  }

  /** A column of a table by name: exact, then case-insensitive. */
  static findColumn(table: CatalogTable, name: string): CatalogColumn | undefined {
    return (
      table.columns.find((c) => c.name === name) ??
      table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase())
    );
  }
}
