import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

// The typed tables Kysely checks every query against: playlists 1-n tracks (and the migrations record).

export interface PlaylistTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  /** Set by the database (a default); may be written, as the update does. */
  createdAt: ColumnType<Date, never, never>;
  updatedAt: ColumnType<Date, Date | undefined, Date>;
}

export interface TrackTable {
  id: Generated<number>;
  title: string;
  durationSeconds: number;
  playlistId: number;
}

/** The same shape as Kysely's own `Migrator` table, so it can take over the history. */
export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface Database {
  playlists: PlaylistTable;
  tracks: TrackTable;
  kysely_migration: KyselyMigrationTable;
}

export type Playlist = Selectable<PlaylistTable>;
export type NewPlaylist = Insertable<PlaylistTable>;
export type PlaylistUpdate = Updateable<PlaylistTable>;
export type NewTrack = Insertable<TrackTable>;
