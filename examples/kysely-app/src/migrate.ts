import { type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";
import * as playlistsAndTracks from "./migrations/20240101000000_playlists_and_tracks.js";
import type { Database } from "./schema.js";

// The migrations, in order, as Kysely `Migration` objects, and a small runner: each runs once, in a
// transaction with its record in `kysely_migration` (the table and columns Kysely's own Migrator uses).
//
// Why not Kysely's `Migrator`: on SQL Server it takes its lock with `EXEC sp_getapplock`, which the local
// SQL stand-in does not run (it has no stored procedures). Against Azure SQL you may use
// `new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } })` instead: it takes these
// same Migration objects and keeps its history in this same table.

export const MIGRATIONS: Record<string, Migration> = {
  "20240101000000_playlists_and_tracks": playlistsAndTracks,
};

export async function migrate(db: Kysely<Database>): Promise<{ ran: string[]; applied: string[] }> {
  await sql`IF OBJECT_ID(N'kysely_migration', N'U') IS NULL CREATE TABLE kysely_migration (name NVARCHAR(255) NOT NULL PRIMARY KEY, timestamp NVARCHAR(255) NOT NULL)`.execute(
    db,
  );
  const applied = async () =>
    (await db.selectFrom("kysely_migration").select("name").orderBy("name").execute()).map((row) => row.name);
  const before = new Set(await applied());
  const ran: string[] = [];
  for (const [name, migration] of Object.entries(MIGRATIONS).sort(([a], [b]) => a.localeCompare(b))) {
    if (before.has(name)) continue;
    // SQL Server's DDL is transactional: a migration that fails leaves nothing behind.
    await db.transaction().execute(async (trx) => {
      await migration.up(trx);
      await trx
        .insertInto("kysely_migration")
        .values({ name, timestamp: new Date().toISOString() })
        .execute();
    });
    ran.push(name);
  }
  return { ran, applied: await applied() };
}
