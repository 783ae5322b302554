import type { EntraKyselyEvent } from "@entra-sql/kysely";
import { type Kysely, sql } from "kysely";
import { readConfig } from "./config.js";
import { createDatabase } from "./database.js";
import { addAuthor, addBook, booksPerAuthor, booksWithAuthors, count, seed } from "./library.js";
import { migrate } from "./migrate.js";
import type { Database } from "./schema.js";
import { type RunningStandIns, startStandIns } from "./stand-ins.js";

// The example app: migrate, seed, CRUD through Kysely's typed query builder, a committed and a
// rolled-back transaction, an optional light load loop.
// `node dist/main.js [--duration <seconds>]`; configured by environment variables (see README).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function migrateAndSeed(db: Kysely<Database>): Promise<void> {
  const { ran, applied } = await migrate(db);
  console.log(ran.length === 0 ? "migrations: already up to date" : `migrations: ran ${ran.join(", ")}`);
  console.log(`migrations applied: ${applied.join(", ")}`);
  await seed(db);
  console.log(`seeded: ${await count(db, "authors")} authors, ${await count(db, "books")} books`);
}

async function walkthrough(db: Kysely<Database>): Promise<void> {
  // Create
  const octavia = await addAuthor(db, "Octavia E. Butler");
  await addBook(db, octavia, "Kindred", 1979);
  console.log(`inserted author #${octavia} Octavia E. Butler and her book Kindred`);

  // Read (a join)
  const books = await booksWithAuthors(db);
  console.log(`books with their authors (join): ${books.length}`);
  for (const book of books) console.log(`  ${book.year}  ${book.title} (${book.author})`);

  // Update
  const updated = await db
    .updateTable("authors")
    .set({ email: "terry@example.com", updated_at: sql<Date>`sysutcdatetime()` })
    .where("name", "=", "Terry Pratchett")
    .executeTakeFirst();
  console.log(`updated ${updated.numUpdatedRows} author: Terry Pratchett's email`);

  // Delete
  const deleted = await db.deleteFrom("books").where("title", "=", "The Dispossessed").executeTakeFirst();
  console.log(`deleted ${deleted.numDeletedRows} book: The Dispossessed`);

  // A transaction that commits
  await db.transaction().execute(async (trx) => {
    const jemisin = await addAuthor(trx, "N. K. Jemisin");
    await addBook(trx, jemisin, "The Fifth Season", 2015);
  });
  console.log("transaction committed: N. K. Jemisin and The Fifth Season");

  // A transaction that rolls back
  try {
    await db.transaction().execute(async (trx) => {
      await addAuthor(trx, "Nobody");
      throw new Error("changed my mind");
    });
  } catch (error) {
    const saved = await db
      .selectFrom("authors")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("name", "=", "Nobody")
      .executeTakeFirstOrThrow();
    console.log(
      `transaction rolled back: ${(error as Error).message} (Nobody saved: ${Number(saved.n) > 0})`,
    );
  }

  const perAuthor = await booksPerAuthor(db);
  console.log(`books per author: ${perAuthor.map((row) => `${row.name} ${row.books}`).join(", ")}`);
  console.log(`now ${await count(db, "authors")} authors, ${await count(db, "books")} books`);
}

async function load(db: Kysely<Database>, seconds: number, events: EntraKyselyEvent[]): Promise<void> {
  console.log(`load: ${seconds} s of light queries`);
  const until = Date.now() + seconds * 1000;
  let queries = 0;
  let failures = 0;
  while (Date.now() < until) {
    const batch = await Promise.allSettled([count(db, "books"), booksWithAuthors(db, 5)]);
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
