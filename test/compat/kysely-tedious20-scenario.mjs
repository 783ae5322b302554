// The Node.js 22 half of kysely-tedious20.test.ts: run by the Node 22 binary of @entra-sql/compat-node22
// (test/compat/node22) with an IPC channel to the test, which runs on Node 20 and owns the stand-ins.
// Plain JavaScript: no tsx, no build step; it loads the built @entra-sql/kysely (dist), the workspace's
// Kysely 0.29 and tarn, and tedious 20. Kysely requires no tedious itself: the app hands the tedious module
// to entraMssqlDialectConfig, here tedious 20's (no resolve hook needed). The steps are tedious20-scenario's.
//
// Input: ENTRA_SQL_COMPAT_SETTINGS. Output: one JSON line on stdout, exit code 0; on an error one JSON line
// { "error", "step" } and exit code 1.

import { dirname } from "node:path";
import {
  checkLoadedTedious,
  connectToTest,
  loadTedious20,
  report,
  require,
  sleep,
  tediousVersion,
  versionOf,
} from "./node22-scenario-support.mjs";

// kysely's exports map has no "./package.json": its folder is two up from its entry (dist/index.js).
const kyselyDir = dirname(dirname(require.resolve("kysely")));
const { Kysely, MssqlDialect, sql } = await import("kysely");
const Tarn = await import("tarn");
const { entraMssqlDialectConfig } = await import("@entra-sql/kysely");
const { createTokenSource } = await import("@entra-sql/core");
const Tedious = loadTedious20();

const test = connectToTest("test/compat/kysely-tedious20.test.ts");
const { settings, tellTest, onEvent, begin } = test;
const { tokenMode, scope } = settings;

const modeOptions = tokenMode === "inline" ? { tokenMode, scope } : { tokenMode };
const create = (pool, options) =>
  new Kysely({
    dialect: new MssqlDialect(
      entraMssqlDialectConfig(
        {
          tedious: Tedious,
          tarn: Tarn,
          server: settings.sql.host,
          port: settings.sql.port,
          database: settings.sql.database,
          options: settings.sql.options,
          pool,
        },
        options,
      ),
    ),
  });
const rowsOf = async (db, query) => (await query.execute(db)).rows;

async function run() {
  const result = {
    node: process.versions.node,
    tedious: tediousVersion,
    kysely: versionOf(kyselyDir),
    tediousFilesLoaded: 0,
    steps: {},
  };

  const tokenSource = createTokenSource(settings.tokenSource);
  try {
    // 1. A pool logs in (both token modes) and runs concurrent parameterized queries.
    await begin("queries");
    const db = create({ min: 0, max: 5 }, { tokenSource, ...modeOptions, onEvent });
    try {
      const rows = await Promise.all(Array.from({ length: 15 }, (_, i) => rowsOf(db, sql`select ${i} as n`)));
      result.steps.queries = { values: rows.map((r) => r[0]?.n) };
    } finally {
      await db.destroy();
    }

    // 2. A connection idle past maxAgeInMs is closed by the idle timer; the next query logs in again.
    await begin("max-age");
    const aging = create(
      { min: 0, max: 1 },
      { tokenSource, ...modeOptions, maxAgeInMs: 1000, maxAgeJitterRatio: 0, onEvent },
    );
    try {
      const before = await rowsOf(aging, sql`select 1 as one`);
      await sleep(1300);
      const after = await rowsOf(aging, sql`select 2 as two`);
      result.steps["max-age"] = { before, after };
    } finally {
      await aging.destroy();
    }

    // 3. The cached token is refused (18456): the login is retried once with a fresh token.
    await tokenSource.getToken(scope);
    await begin("rejected-login");
    const db3 = create({ min: 0, max: 1 }, { tokenSource, ...modeOptions, onEvent });
    try {
      result.steps["rejected-login"] = { rows: await rowsOf(db3, sql`select 3 as three`) };
    } finally {
      await db3.destroy();
    }
  } finally {
    tokenSource.close();
  }

  // 4. 37396 after revalidate() on a connection Kysely holds (db.connection(): its select 1 check ran
  //    before): the refused INSERT is not executed and runs once more on a fresh connection.
  await begin("session-expired");
  const db4 = create(
    { min: 0, max: 1 },
    {
      tokenSource: { ...settings.tokenSource, refreshWindowInMs: 2_000, minimumValidityInMs: 1_000 },
      ...modeOptions,
      maxAgeInMs: null,
      tokenExpiryMarginInMs: 0,
      onEvent,
    },
  );
  const table = `compat_kysely_tedious20_${tokenMode.replace("-", "_")}`;
  try {
    await sql`create table ${sql.table(table)} (id int)`.execute(db4);
    const outcome = await db4.connection().execute(async (conn) => {
      await conn.insertInto(table).values({ id: 0 }).execute();
      const { revalidated } = await tellTest({ action: "expire-sessions" });
      const failed = [];
      for (const id of [1, 2, 3]) {
        try {
          await conn.insertInto(table).values({ id }).execute();
        } catch (error) {
          failed.push({ id, error: String(error) });
        }
      }
      return { revalidated, failed };
    });
    const ids = (await db4.selectFrom(table).select("id").execute()).map((r) => r.id);
    result.steps["session-expired"] = { ...outcome, ids: ids.sort((a, b) => a - b) };
  } finally {
    await db4.destroy(); // closes the token source it created
  }

  await begin("done");
  result.tediousFilesLoaded = checkLoadedTedious("Kysely");
  result.events = test.events;
  return result;
}

await report(run, () => test.step);
