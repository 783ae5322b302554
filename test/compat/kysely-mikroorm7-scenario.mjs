// The Node.js 22 half of kysely-mikroorm7.test.ts: run by the Node 22 binary of @entra-sql/compat-node22
// with an IPC channel to the test, which runs on Node 20 and owns the stand-ins. Plain JavaScript. It loads
// MikroORM 7 (@mikro-orm/mssql of @entra-sql/compat-mikroorm7, test/compat/mikroorm7) and, as MikroORM
// resolves them, its Kysely 0.29, tarn and tedious 20; and the built @entra-sql/kysely, whose dialect
// config goes into MikroORM's `driverOptions` as `new MssqlDialect(...)`.
//
// Input: ENTRA_SQL_COMPAT_SETTINGS. Output: one JSON line on stdout, exit code 0; on an error one JSON line
// { "error", "step" } and exit code 1.

import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { connectToTest, report, require, versionOf } from "./node22-scenario-support.mjs";

const fixture = require.resolve("@entra-sql/compat-mikroorm7/package.json");
const mikroMssqlEntry = createRequire(fixture).resolve("@mikro-orm/mssql");
/** Resolves as @mikro-orm/mssql does: its kysely, tarn and tedious. */
const asMikroOrm = createRequire(mikroMssqlEntry);
const packageDirOf = (entry, name) => {
  let dir = dirname(entry);
  while (!dir.endsWith(`/node_modules/${name}`)) dir = dirname(dir);
  return dir;
};

const { MikroORM, EntitySchema } = await import(pathToFileURL(mikroMssqlEntry).href);
const { MssqlDialect } = await import(pathToFileURL(asMikroOrm.resolve("kysely")).href);
const Tedious = asMikroOrm("tedious");
const Tarn = asMikroOrm("tarn");
const { entraMssqlDialectConfig } = await import("@entra-sql/kysely");
const { createTokenSource } = await import("@entra-sql/core");

const test = connectToTest("test/compat/kysely-mikroorm7.test.ts");
const { settings, onEvent, begin } = test;
const { tokenMode, scope } = settings;
const modeOptions = tokenMode === "inline" ? { tokenMode, scope } : { tokenMode };
const table = `compat_mikroorm7_${tokenMode.replace("-", "_")}`;

const Book = new EntitySchema({
  name: "Book",
  tableName: table,
  properties: {
    id: { type: "number", primary: true, autoincrement: true },
    title: { type: "string" },
  },
});

/** MikroORM on the stand-in through @entra-sql/kysely's dialect config in `driverOptions`. */
const init = (options) =>
  MikroORM.init({
    entities: [Book],
    dbName: settings.sql.database,
    // The stand-in has no sys.databases (MikroORM's database check); Azure SQL has.
    ensureDatabase: false,
    driverOptions: new MssqlDialect(
      entraMssqlDialectConfig(
        {
          tedious: Tedious,
          tarn: Tarn,
          server: settings.sql.host,
          port: settings.sql.port,
          database: settings.sql.database,
          // What MikroORM sets on its own tedious config (MsSqlConnection.mapOptions), and the stand-in's TLS.
          options: { ...settings.sql.options, enableArithAbort: true, useUTC: false },
          pool: { min: 0, max: 4 },
        },
        options,
      ),
    ),
  });

async function run() {
  const result = {
    node: process.versions.node,
    mikroOrm: versionOf(packageDirOf(mikroMssqlEntry, "@mikro-orm/mssql")),
    kysely: versionOf(packageDirOf(asMikroOrm.resolve("kysely"), "kysely")),
    tedious: versionOf(packageDirOf(asMikroOrm.resolve("tedious"), "tedious")),
    steps: {},
  };
  const tokenSource = createTokenSource(settings.tokenSource);
  try {
    // 1. MikroORM connects, creates the table (raw DDL), inserts in a transaction and reads back.
    await begin("queries");
    const orm = await init({ tokenSource, ...modeOptions, onEvent });
    try {
      const em = orm.em.fork();
      await em
        .getConnection()
        .execute(`create table ${table} (id int identity(1,1) primary key, title nvarchar(100))`);
      await em.transactional(async (tx) => {
        for (const title of ["one", "two", "three"]) tx.persist(tx.create(Book, { title }));
      });
      const [books, count] = await Promise.all([
        orm.em.fork().find(Book, {}, { orderBy: { id: "asc" } }),
        orm.em.fork().count(Book, {}),
      ]);
      result.steps.queries = { titles: books.map((b) => b.title), count };
    } finally {
      await orm.close();
    }

    // The harness slices the stand-ins' records by its step order; this scenario has no max-age step.
    await begin("max-age");

    // 2. The cached token is refused (18456): MikroORM's first login is retried once with a fresh token.
    await tokenSource.getToken(scope);
    await begin("rejected-login");
    const orm2 = await init({ tokenSource, ...modeOptions, onEvent });
    try {
      result.steps["rejected-login"] = { count: await orm2.em.fork().count(Book, {}) };
    } finally {
      await orm2.close();
    }
  } finally {
    tokenSource.close();
  }
  await begin("session-expired"); // nor a 37396 step (Kysely's own: kysely-tedious20-scenario.mjs)
  await begin("done");
  result.events = test.events;
  return result;
}

await report(run, () => test.step);
