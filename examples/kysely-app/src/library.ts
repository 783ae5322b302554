import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

// The app's queries, all through Kysely's typed query builder: playlists 1-n tracks.

export interface TrackWithPlaylist {
  title: string;
  durationSeconds: number;
  playlist: string;
}

/** Starting data, on every start: clear both tables, then two playlists and their tracks. */
export async function seed(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom("tracks").execute();
  await db.deleteFrom("playlists").execute();
  const [focus, roadTrip] = await db
    .insertInto("playlists")
    .values([
      { name: "Morning Focus", description: "quiet music for deep work" },
      { name: "Road Trip", description: null },
    ])
    .output("inserted.id")
    .execute();
  if (!focus || !roadTrip) throw new Error("seed: the playlists were not inserted");
  await db
    .insertInto("tracks")
    .values([
      { title: "Clair de Lune", durationSeconds: 300, playlistId: focus.id },
      { title: "Gymnopedie No. 1", durationSeconds: 185, playlistId: focus.id },
      { title: "Ride of the Valkyries", durationSeconds: 330, playlistId: roadTrip.id },
    ])
    .execute();
}

export async function addPlaylist(
  db: Kysely<Database>,
  name: string,
  description: string | null = null,
): Promise<number> {
  const row = await db
    .insertInto("playlists")
    .values({ name, description })
    .output("inserted.id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function addTrack(
  db: Kysely<Database>,
  playlistId: number,
  title: string,
  durationSeconds: number,
): Promise<number> {
  const row = await db
    .insertInto("tracks")
    .values({ title, durationSeconds, playlistId })
    .output("inserted.id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A join: every track with its playlist's name, shortest first (`top` is SQL Server's limit). */
export function tracksWithPlaylists(db: Kysely<Database>, limit?: number): Promise<TrackWithPlaylist[]> {
  const query = db
    .selectFrom("tracks as t")
    .innerJoin("playlists as p", "p.id", "t.playlistId")
    .select(["t.title", "t.durationSeconds", "p.name as playlist"])
    .orderBy("t.durationSeconds")
    .orderBy("t.title");
  return limit === undefined ? query.execute() : query.top(limit).execute();
}

/** Playlists with how many tracks each has (a left join with GROUP BY). */
export function tracksPerPlaylist(db: Kysely<Database>): Promise<{ name: string; tracks: number }[]> {
  return db
    .selectFrom("playlists as p")
    .leftJoin("tracks as t", "t.playlistId", "p.id")
    .select((eb) => ["p.name", eb.fn.count<number>("t.id").as("tracks")])
    .groupBy("p.name")
    .orderBy("p.name")
    .execute();
}

export async function count(db: Kysely<Database>, table: "playlists" | "tracks"): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
