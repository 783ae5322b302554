import type { EntraSequelizeEvent } from "@entra-sql/sequelize";
import type { Sequelize } from "sequelize";
import { readConfig } from "./config.js";
import { createDatabase } from "./database.js";
import { addAuthorWithBook, booksPerAuthor, booksWithAuthors, seed } from "./library.js";
import { migrate } from "./migrate.js";
import { Author, Book, defineModels } from "./models.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: migrate, seed, CRUD through the models and their association, a committed and a
// rolled-back transaction, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function migrateAndSeed(sequelize: Sequelize): Promise<void> {
  const { ran, applied } = await migrate(sequelize);
  console.log(ran.length === 0 ? "migrations: already up to date" : `migrations: ran ${ran.join(", ")}`);
  console.log(`migrations applied: ${applied.join(", ")}`);
  await seed();
  console.log(`seeded: ${await Author.count()} authors, ${await Book.count()} books`);
}

async function walkthrough(sequelize: Sequelize): Promise<void> {
  // Create
  const octavia = await addAuthorWithBook("Octavia E. Butler", "Kindred", 1979);
  console.log(`inserted author #${octavia.id} Octavia E. Butler and her book Kindred`);

  // Read (a join through the association)
  const books = await booksWithAuthors();
  console.log(`books with their authors (join): ${books.length}`);
  for (const book of books) console.log(`  ${book.year}  ${book.title} (${book.author?.name})`);

  // Update
  const [updated] = await Author.update(
    { email: "terry@example.com" },
    { where: { name: "Terry Pratchett" } },
  );
  console.log(`updated ${updated} author: Terry Pratchett's email`);

  // Delete
  const deleted = await Book.destroy({ where: { title: "The Dispossessed" } });
  console.log(`deleted ${deleted} book: The Dispossessed`);

  // A transaction that commits (a managed transaction: committed when the callback resolves)
  await sequelize.transaction(async (transaction) => {
    await addAuthorWithBook("N. K. Jemisin", "The Fifth Season", 2015, transaction);
  });
  console.log("transaction committed: N. K. Jemisin and The Fifth Season");

  // A transaction that rolls back (the callback throws)
  try {
    await sequelize.transaction(async (transaction) => {
      await Author.create({ name: "Nobody", email: null }, { transaction });
      throw new Error("changed my mind");
    });
  } catch (error) {
    const saved = await Author.count({ where: { name: "Nobody" } });
    console.log(`transaction rolled back: ${(error as Error).message} (Nobody saved: ${saved > 0})`);
  }

  const perAuthor = await booksPerAuthor();
  console.log(`books per author: ${perAuthor.map((row) => `${row.name} ${row.books}`).join(", ")}`);
  console.log(`now ${await Author.count()} authors, ${await Book.count()} books`);
}

async function load(seconds: number, events: EntraSequelizeEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([Book.count(), booksWithAuthors(5)]);
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
  const events: EntraSequelizeEvent[] = [];
  try {
    // sequelize.close() also closes the token source withEntraTokens made.
    const sequelize = createDatabase(config, standIns, (event) => events.push(event));
    try {
      defineModels(sequelize);
      const target = standIns ? `${standIns.settings.sql.host}:${standIns.settings.sql.port}` : config.server;
      console.log(`connecting to ${target} (token mode ${config.tokenMode})`);
      await migrateAndSeed(sequelize);
      await walkthrough(sequelize);
      if (config.loadSeconds > 0) await load(config.loadSeconds, events);
    } finally {
      await sequelize.close();
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
