import type { CatalogColumn, CatalogTable } from "./catalog.js";
import { Catalog } from "./catalog.js";
import type { SqlType } from "./types.js";

// A hand-made catalog for the pure translation tests (no Postgres needed): the tables the ORMs'
// statements in the tests refer to.
let nextOid = 16400;
function table(
  schema: string,
  name: string,
  columns: [string, SqlType, { notNull?: boolean; identity?: boolean }?][],
): CatalogTable {
  const cols: CatalogColumn[] = columns.map(([n, sqlType, o], i) => ({
    name: n,
    attnum: i + 1,
    sqlType,
    notNull: o?.notNull ?? false,
    identity: o?.identity ?? false,
  }));
  const t: CatalogTable = { oid: nextOid++, schema, name, view: schema !== "dbo", columns: cols };
  const identity = cols.find((c) => c.identity);
  if (identity) t.identity = identity;
  return t;
}
const int: SqlType = { kind: "int" };
const nv = (n: number | "max"): SqlType => ({ kind: "nvarchar", maxLength: n });
export const testCatalog = new Catalog([
  table("dbo", "users", [
    ["id", int, { notNull: true, identity: true }],
    ["name", nv(100), { notNull: true }],
    ["email", nv(255)],
    ["active", { kind: "bit" }, { notNull: true }],
    ["balance", { kind: "decimal", precision: 10, scale: 2 }],
    ["createdAt", { kind: "datetime2", scale: 7 }, { notNull: true }],
    ["version", int, { notNull: true }],
  ]),
  table("dbo", "posts", [
    ["id", int, { notNull: true, identity: true }],
    ["title", nv(255), { notNull: true }],
    ["body", nv("max")],
    ["authorId", int],
  ]),
  table("dbo", "tags", [
    ["name", nv(50), { notNull: true }],
    ["weight", int],
  ]),
  table("dbo", "knex_migrations", [
    ["id", int, { notNull: true, identity: true }],
    ["name", nv(255)],
    ["batch", int],
    ["migration_time", { kind: "datetime2", scale: 7 }],
  ]),
  table("dbo", "knex_migrations_lock", [
    ["index", int, { notNull: true, identity: true }],
    ["is_locked", int],
  ]),
  table("dbo", "migrations", [
    ["id", int, { notNull: true, identity: true }],
    ["timestamp", { kind: "bigint" }, { notNull: true }],
    ["name", { kind: "varchar", maxLength: 255 }, { notNull: true }],
  ]),
  table("INFORMATION_SCHEMA", "TABLES", [
    ["TABLE_CATALOG", nv(128)],
    ["TABLE_SCHEMA", nv(128)],
    ["TABLE_NAME", nv(128)],
    ["TABLE_TYPE", nv(10)],
  ]),
  table("INFORMATION_SCHEMA", "COLUMNS", [
    ["TABLE_CATALOG", nv(128)],
    ["TABLE_SCHEMA", nv(128)],
    ["TABLE_NAME", nv(128)],
    ["COLUMN_NAME", nv(128)],
  ]),
  table("sys", "columns", [
    ["object_id", int],
    ["name", nv(128)],
    ["column_id", int],
  ]),
  table("sys", "tables", [
    ["name", nv(128)],
    ["object_id", int],
  ]),
]);
