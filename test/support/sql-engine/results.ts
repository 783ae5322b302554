import type { Catalog } from "./catalog.js";
import type { PgField } from "./pg-runner.js";
import { UNNAMED_COLUMN } from "./plan.js";
import type { ColumnMetadata, ResultSet, SqlType, SqlValue } from "./types.js";
import { sqlTypeFromPg } from "./types-map.js";
import { decimalScale, fromPgText } from "./values.js";

// Postgres result -> SQL Server result set. A column that is a plain table column (Postgres names its
// table OID and column number) takes the T-SQL type and nullability from the catalog; any other column
// (expressions, literals, aggregates) gets a type derived from the Postgres type and modifier.

export function columnTypes(
  fields: PgField[],
  rows: (string | null)[][],
  catalog: Catalog,
): ColumnMetadata[] {
  return fields.map((field, index) => {
    const name = field.name === UNNAMED_COLUMN ? "" : field.name;
    const column = field.tableID > 0 ? catalog.column(field.tableID, field.columnID) : undefined;
    if (column) return { name, type: column.sqlType, nullable: !column.notNull };
    const type = sqlTypeFromPg(field.dataTypeID, field.dataTypeModifier, () =>
      Math.min(
        38,
        rows.reduce((max, row) => Math.max(max, decimalScale(row[index] ?? null)), 0),
      ),
    );
    return { name, type, nullable: true };
  });
}

export function convertRows(rows: (string | null)[][], types: SqlType[]): SqlValue[][] {
  return rows.map((row) => row.map((text, i) => fromPgText(text, types[i] as SqlType)));
}

export function toResultSet(fields: PgField[], rows: (string | null)[][], catalog: Catalog): ResultSet {
  const columns = columnTypes(fields, rows, catalog);
  return {
    columns,
    rows: convertRows(
      rows,
      columns.map((c) => c.type),
    ),
  };
}
