import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

// The app's queries, all through Kysely's typed query builder: authors 1-n books.

export interface BookWithAuthor {
  title: string;
  year: number;
  author: string;
}

/** Starting data, on every start: clear both tables, then two authors and their books. */
export async function seed(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom("books").execute();
  await db.deleteFrom("authors").execute();
  const [ursula, terry] = await db
    .insertInto("authors")
    .values([
      { name: "Ursula K. Le Guin", email: "ursula@example.com" },
      { name: "Terry Pratchett", email: null },
    ])
    .output("inserted.id")
    .execute();
  if (!ursula || !terry) throw new Error("seed: the authors were not inserted");
  await db
    .insertInto("books")
    .values([
      { title: "A Wizard of Earthsea", year: 1968, author_id: ursula.id },
      { title: "The Dispossessed", year: 1974, author_id: ursula.id },
      { title: "Guards! Guards!", year: 1989, author_id: terry.id },
    ])
    .execute();
}

export async function addAuthor(
  db: Kysely<Database>,
  name: string,
  email: string | null = null,
): Promise<number> {
  const row = await db
    .insertInto("authors")
    .values({ name, email })
    .output("inserted.id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function addBook(
  db: Kysely<Database>,
  authorId: number,
  title: string,
  year: number,
): Promise<number> {
  const row = await db
    .insertInto("books")
    .values({ title, year, author_id: authorId })
    .output("inserted.id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A join: every book with its author's name, oldest first (`top` is SQL Server's limit). */
export function booksWithAuthors(db: Kysely<Database>, limit?: number): Promise<BookWithAuthor[]> {
  const query = db
    .selectFrom("books as b")
    .innerJoin("authors as a", "a.id", "b.author_id")
    .select(["b.title", "b.year", "a.name as author"])
    .orderBy("b.year")
    .orderBy("b.title");
  return limit === undefined ? query.execute() : query.top(limit).execute();
}

/** Authors with how many books each has (a left join with GROUP BY). */
export function booksPerAuthor(db: Kysely<Database>): Promise<{ name: string; books: number }[]> {
  return db
    .selectFrom("authors as a")
    .leftJoin("books as b", "b.author_id", "a.id")
    .select((eb) => ["a.name", eb.fn.count<number>("b.id").as("books")])
    .groupBy("a.name")
    .orderBy("a.name")
    .execute();
}

export async function count(db: Kysely<Database>, table: "authors" | "books"): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
