import { createEntraKnexConfig } from "@entra-sql/knex";
import knex from "knex";
// The example app's compiled migration and seed folders and its queries.
import { migrations, seeds } from "../../examples/knex-app/dist/database.js";
import { addBook, booksWithAuthors, count } from "../../examples/knex-app/dist/library.js";
import { demoTokenSource } from "./demo-identity.js";
import type { Workload } from "./workload.js";

// The Knex example's schema (authors 1-n books, created by its migration and filled by its seed)
// through @entra-sql/knex; each round: a count, a join, and a write transaction (insert, delete).

export const knexWorkload: Workload = {
  name: "knex",
  async start({ standIns, identity, settings, observer }) {
    const { sql } = standIns;
    const config = createEntraKnexConfig(
      knex,
      {
        connection: { server: sql.host, port: sql.port, database: sql.database, options: sql.tlsOptions() },
        pool: { min: 0, max: 4 },
        migrations,
        seeds,
      },
      {
        tokenSource: demoTokenSource(standIns, identity),
        scope: settings.scope,
        maxAgeInMs: settings.maxAgeInMs,
        maxAgeJitterRatio: settings.maxAgeJitterRatio,
        tokenExpiryMarginInMs: settings.tokenExpiryMarginInMs,
        onEvent: observer.onEvent,
      },
    );
    config.tokenSource.on("token-acquired", observer.onTokenAcquired);
    const db = knex(config);
    try {
      await db.migrate.latest();
      await db.seed.run();
      const author = await db("authors").orderBy("id").first<{ id: number } | undefined>("id");
      if (!author) throw new Error("the seed left no author");
      observer.say("Knex migrated (authors, books) and seeded");
      return {
        round: () => [
          count(db, "books"),
          booksWithAuthors(db, 5),
          db.transaction(async (trx) => {
            const id = await addBook(trx, author.id, "A draft", 2025);
            await trx("books").where({ id }).del();
          }),
        ],
        // Also closes the token source createEntraKnexConfig made.
        close: () => db.destroy(),
      };
    } catch (error) {
      await db.destroy();
      throw error;
    }
  },
};
