import type { Knex } from "knex";

// Starting data. `knex.seed.run()` runs this on every start, so it clears the tables first.

export async function seed(knex: Knex): Promise<void> {
  await knex("books").del();
  await knex("authors").del();
  const [ursula, terry] = await knex("authors").insert(
    [
      { name: "Ursula K. Le Guin", email: "ursula@example.com" },
      { name: "Terry Pratchett", email: null },
    ],
    ["id"],
  );
  if (!ursula || !terry) throw new Error("seed: the authors were not inserted");
  await knex("books").insert([
    { title: "A Wizard of Earthsea", year: 1968, author_id: ursula.id },
    { title: "The Dispossessed", year: 1974, author_id: ursula.id },
    { title: "Guards! Guards!", year: 1989, author_id: terry.id },
  ]);
}
