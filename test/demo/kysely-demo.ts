import { entraMssqlDialectConfig } from "@entra-sql/kysely";
import { Kysely, MssqlDialect } from "kysely";
import * as Tarn from "tarn";
import * as Tedious from "tedious";
// The example app's compiled migration, seed and queries (and its table types).
import { addTrack, count, seed, tracksWithPlaylists } from "../../examples/kysely-app/dist/library.js";
import { migrate } from "../../examples/kysely-app/dist/migrate.js";
import type { Database } from "../../examples/kysely-app/dist/schema.js";
import { demoTokenSource } from "./demo-identity.js";
import type { Workload } from "./workload.js";

// The Kysely example's schema (playlists 1-n tracks, created by its migration and filled by its seed)
// through @entra-sql/kysely; each round: a count, a join, and a write transaction (insert, delete).

export const kyselyWorkload: Workload = {
  name: "kysely",
  async start({ standIns, identity, settings, observer }) {
    const { sql } = standIns;
    const config = entraMssqlDialectConfig(
      {
        tedious: Tedious,
        tarn: Tarn,
        server: sql.host,
        port: sql.port,
        database: sql.database,
        options: sql.tlsOptions(),
        pool: { min: 0, max: 4 },
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
    const db = new Kysely<Database>({ dialect: new MssqlDialect(config) });
    try {
      const { ran } = await migrate(db);
      await seed(db);
      const playlist = await db.selectFrom("playlists").select("id").orderBy("id").top(1).executeTakeFirst();
      if (!playlist) throw new Error("the seed left no playlist");
      observer.say(
        `Kysely migrated (${ran.length > 0 ? ran.join(", ") : "tables already there"}) and seeded`,
      );
      return {
        round: () => [
          count(db, "tracks"),
          tracksWithPlaylists(db, 5),
          db.transaction().execute(async (trx) => {
            const id = await addTrack(trx, playlist.id, "A draft", 60);
            await trx.deleteFrom("tracks").where("id", "=", id).execute();
          }),
        ],
        // Also closes the token source entraMssqlDialectConfig made.
        close: () => db.destroy(),
      };
    } catch (error) {
      await db.destroy();
      throw error;
    }
  },
};
