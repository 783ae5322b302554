import { col, fn, type Transaction } from "sequelize";
import { Author, Book } from "./models.js";

// The app's data access, all through the models and their association.

/**
 * Starting data, on every start: clear both tables, then two authors with their books (a nested create
 * through the `books` association; `books` is not an attribute of Author, hence the cast).
 */
export async function seed(): Promise<void> {
  await Book.destroy({ where: {} });
  await Author.destroy({ where: {} });
  await Author.create(
    {
      name: "Ursula K. Le Guin",
      email: "ursula@example.com",
      books: [
        { title: "A Wizard of Earthsea", year: 1968 },
        { title: "The Dispossessed", year: 1974 },
      ],
    } as never,
    { include: [{ model: Book, as: "books" }] },
  );
  await Author.create(
    { name: "Terry Pratchett", email: null, books: [{ title: "Guards! Guards!", year: 1989 }] } as never,
    { include: [{ model: Book, as: "books" }] },
  );
}

export async function addAuthorWithBook(
  name: string,
  title: string,
  year: number,
  transaction?: Transaction,
): Promise<Author> {
  const author = await Author.create({ name, email: null }, { transaction });
  await Book.create({ title, year, authorId: author.id }, { transaction });
  return author;
}

/** A join: every book with its author (belongsTo, an INNER JOIN), oldest first. */
export function booksWithAuthors(limit?: number): Promise<Book[]> {
  return Book.findAll({
    include: [{ model: Author, as: "author", attributes: ["name"], required: true }],
    order: [
      ["year", "ASC"],
      ["title", "ASC"],
    ],
    ...(limit === undefined ? {} : { limit }),
  });
}

/** Authors with how many books each has (hasMany, a LEFT JOIN with GROUP BY). */
export async function booksPerAuthor(): Promise<{ name: string; books: number }[]> {
  const rows = (await Author.findAll({
    attributes: ["name", [fn("COUNT", col("books.id")), "books"]],
    include: [{ model: Book, as: "books", attributes: [] }],
    group: ["author.name"],
    order: [["name", "ASC"]],
    raw: true,
  })) as unknown as { name: string; books: number }[];
  return rows.map((row) => ({ name: row.name, books: Number(row.books) }));
}
