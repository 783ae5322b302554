import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

// The typed tables Kysely checks every query against: authors 1-n books (and the migrations record).

export interface AuthorsTable {
  id: Generated<number>;
  name: string;
  email: string | null;
  /** Set by the database (a default); may be written, as the update does. */
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface BooksTable {
  id: Generated<number>;
  title: string;
  year: number;
  author_id: number;
}

/** The same shape as Kysely's own `Migrator` table, so it can take over the history. */
export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface Database {
  authors: AuthorsTable;
  books: BooksTable;
  kysely_migration: KyselyMigrationTable;
}

export type Author = Selectable<AuthorsTable>;
export type NewAuthor = Insertable<AuthorsTable>;
export type AuthorUpdate = Updateable<AuthorsTable>;
export type NewBook = Insertable<BooksTable>;
