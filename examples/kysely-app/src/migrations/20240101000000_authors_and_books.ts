import { type Kysely, sql } from "kysely";

// The schema: authors 1-n books. A Kysely `Migration` (up/down on an untyped Kysely, as Kysely's docs
// advise: a migration must not depend on today's types); src/migrate.ts runs it once.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("authors")
    .addColumn("id", "integer", (col) => col.identity().primaryKey())
    .addColumn("name", sql`nvarchar(100)`, (col) => col.notNull())
    .addColumn("email", sql`nvarchar(255)`)
    .addColumn("created_at", sql`datetime2`, (col) => col.notNull().defaultTo(sql`sysutcdatetime()`))
    .addColumn("updated_at", sql`datetime2`, (col) => col.notNull().defaultTo(sql`sysutcdatetime()`))
    .execute();
  await db.schema
    .createTable("books")
    .addColumn("id", "integer", (col) => col.identity().primaryKey())
    .addColumn("title", sql`nvarchar(200)`, (col) => col.notNull())
    .addColumn("year", "integer", (col) => col.notNull())
    .addColumn("author_id", "integer", (col) => col.notNull().references("authors.id").onDelete("cascade"))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("books").execute();
  await db.schema.dropTable("authors").execute();
}
