import type { Knex } from "knex";

// The app's queries, all through Knex's query builder: authors 1-n books.

export interface Author {
  id: number;
  name: string;
  email: string | null;
}

export interface BookWithAuthor {
  title: string;
  year: number;
  author: string;
}

export async function addAuthor(db: Knex, name: string, email: string | null = null): Promise<number> {
  const [row] = await db("authors").insert({ name, email }, ["id"]);
  if (!row) throw new Error(`author ${name} was not inserted`);
  return row.id as number;
}

export async function addBook(db: Knex, authorId: number, title: string, year: number): Promise<number> {
  const [row] = await db("books").insert({ title, year, author_id: authorId }, ["id"]);
  if (!row) throw new Error(`book ${title} was not inserted`);
  return row.id as number;
}

/** A join: every book with its author's name, oldest first. */
export function booksWithAuthors(db: Knex, limit?: number): Promise<BookWithAuthor[]> {
  const query = db("books as b")
    .join("authors as a", "a.id", "b.author_id")
    .select("b.title", "b.year", "a.name as author")
    .orderBy([{ column: "b.year" }, { column: "b.title" }]);
  return limit === undefined ? query : query.limit(limit);
}

/** Authors with how many books each has (a left join with GROUP BY). */
export function booksPerAuthor(db: Knex): Promise<{ name: string; books: number }[]> {
  return db("authors as a")
    .leftJoin("books as b", "b.author_id", "a.id")
    .groupBy("a.name")
    .orderBy("a.name")
    .select("a.name")
    .count({ books: "b.id" }) as unknown as Promise<{ name: string; books: number }[]>;
}

export async function count(db: Knex, table: "authors" | "books"): Promise<number> {
  const [row] = await db(table).count({ n: "*" });
  return Number(row?.n ?? 0);
}
