import { type Kysely, sql } from "kysely";

// The schema: playlists 1-n tracks. A Kysely `Migration` (up/down on an untyped Kysely, as Kysely's docs
// advise: a migration must not depend on today's types); src/migrate.ts runs it once.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("playlists")
    .addColumn("id", "integer", (col) => col.identity().primaryKey())
    .addColumn("name", sql`nvarchar(100)`, (col) => col.notNull())
    .addColumn("description", sql`nvarchar(255)`)
    .addColumn("createdAt", sql`datetime2`, (col) => col.notNull().defaultTo(sql`sysutcdatetime()`))
    .addColumn("updatedAt", sql`datetime2`, (col) => col.notNull().defaultTo(sql`sysutcdatetime()`))
    .execute();
  await db.schema
    .createTable("tracks")
    .addColumn("id", "integer", (col) => col.identity().primaryKey())
    .addColumn("title", sql`nvarchar(200)`, (col) => col.notNull())
    .addColumn("durationSeconds", "integer", (col) => col.notNull())
    .addColumn("playlistId", "integer", (col) => col.notNull().references("playlists.id").onDelete("cascade"))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("tracks").execute();
  await db.schema.dropTable("playlists").execute();
}
