import type { EntraKyselyEvent } from "@entra-sql/kysely";
import { type Kysely, sql } from "kysely";
import { readConfig } from "./config.js";
import { createDatabase } from "./database.js";
import { addPlaylist, addTrack, count, seed, tracksPerPlaylist, tracksWithPlaylists } from "./library.js";
import { migrate } from "./migrate.js";
import type { Database } from "./schema.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: migrate, seed, CRUD through Kysely's typed query builder, a committed and a
// rolled-back transaction, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A duration as m:ss. */
function minutes(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

async function migrateAndSeed(db: Kysely<Database>): Promise<void> {
  const { ran, applied } = await migrate(db);
  console.log(ran.length === 0 ? "migrations: already up to date" : `migrations: ran ${ran.join(", ")}`);
  console.log(`migrations applied: ${applied.join(", ")}`);
  await seed(db);
  console.log(`seeded: ${await count(db, "playlists")} playlists, ${await count(db, "tracks")} tracks`);
}

async function walkthrough(db: Kysely<Database>): Promise<void> {
  // Create
  const jazz = await addPlaylist(db, "Late Night Jazz");
  await addTrack(db, jazz, "Blue in Green", 337);
  console.log(`inserted playlist #${jazz} Late Night Jazz and its track Blue in Green`);

  // Read (a join)
  const tracks = await tracksWithPlaylists(db);
  console.log(`tracks with their playlists (join): ${tracks.length}`);
  for (const track of tracks)
    console.log(`  ${minutes(track.durationSeconds)}  ${track.title} (${track.playlist})`);

  // Update
  const updated = await db
    .updateTable("playlists")
    .set({ description: "songs for the highway", updatedAt: sql<Date>`sysutcdatetime()` })
    .where("name", "=", "Road Trip")
    .executeTakeFirst();
  console.log(`updated ${updated.numUpdatedRows} playlist: Road Trip's description`);

  // Delete
  const deleted = await db.deleteFrom("tracks").where("title", "=", "Clair de Lune").executeTakeFirst();
  console.log(`deleted ${deleted.numDeletedRows} track: Clair de Lune`);

  // A transaction that commits
  await db.transaction().execute(async (trx) => {
    const chill = await addPlaylist(trx, "Evening Chill");
    await addTrack(trx, chill, "Weightless", 480);
  });
  console.log("transaction committed: Evening Chill and Weightless");

  // A transaction that rolls back
  try {
    await db.transaction().execute(async (trx) => {
      await addPlaylist(trx, "Scratch");
      throw new Error("changed my mind");
    });
  } catch (error) {
    const saved = await db
      .selectFrom("playlists")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("name", "=", "Scratch")
      .executeTakeFirstOrThrow();
    console.log(
      `transaction rolled back: ${(error as Error).message} (Scratch saved: ${Number(saved.n) > 0})`,
    );
  }

  const perPlaylist = await tracksPerPlaylist(db);
  console.log(`tracks per playlist: ${perPlaylist.map((row) => `${row.name} ${row.tracks}`).join(", ")}`);
  console.log(`now ${await count(db, "playlists")} playlists, ${await count(db, "tracks")} tracks`);
}

async function load(db: Kysely<Database>, seconds: number, events: EntraKyselyEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([count(db, "tracks"), tracksWithPlaylists(db, 5)]);
    queries += batch.length;
    for (const result of batch) {
      if (result.status === "rejected") {
        failures += 1;
        console.log(`load: query failed: ${(result.reason as Error).message}`);
      }
    }
    await sleep(200);
  }
  const opened = events.filter((e) => e.type === "connection-opened").length;
  const retired = events.filter((e) => e.type === "connection-retired").length;
  console.log(
    `load: ${queries} queries, ${failures} failed, ${opened} connections opened, ${retired} retired`,
  );
  if (failures > 0) throw new Error(`${failures} queries failed under load`);
}

async function main(): Promise<void> {
  const config = readConfig();
  let standIns: RunningStandIns | undefined;
  if (config.server === undefined) {
    console.log("AZURE_SQL_SERVER is not set: starting the local stand-ins");
    standIns = await startStandIns();
  }
  const events: EntraKyselyEvent[] = [];
  try {
    // db.destroy() closes the pool and the token source entraMssqlDialectConfig made.
    const db = createDatabase(config, standIns, (event) => events.push(event));
    try {
      const target = standIns ? `${standIns.settings.sql.host}:${standIns.settings.sql.port}` : config.server;
      console.log(`connecting to ${target} (token mode ${config.tokenMode})`);
      await migrateAndSeed(db);
      await walkthrough(db);
      if (config.loadSeconds > 0) await load(db, config.loadSeconds, events);
    } finally {
      await db.destroy();
    }
  } finally {
    await standIns?.stop();
  }
  console.log("done");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);
