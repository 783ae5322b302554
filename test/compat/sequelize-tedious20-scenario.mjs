// The Node.js 22 half of sequelize-tedious20.test.ts: run by the Node 22 binary of @entra-sql/compat-node22
// (test/compat/node22) with an IPC channel to the test, which runs on Node 20 and owns the stand-ins.
// Plain JavaScript: no tsx, no build step; it loads the built @entra-sql/sequelize (dist), the workspace's
// Sequelize 6.37 and tedious 20. Tedious 20, the resolve hook, the step protocol and the result line are shared
// with tedious20-scenario.mjs (node22-scenario-support.mjs); the steps are the same as there.
//
// Input: ENTRA_SQL_COMPAT_SETTINGS (JSON: tokenMode, scope, the SQL stand-in's address and TLS options,
// the demo app's credential for the local Entra ID). Output: one JSON line on stdout (the facts; the test
// asserts on them), exit code 0; on an error one JSON line { "error", "step" } and exit code 1.

import assert from "node:assert/strict";
import { dirname } from "node:path";
import {
  checkLoadedTedious,
  connectToTest,
  loadTedious20,
  redirectTediousOf,
  report,
  require,
  sleep,
  tediousVersion,
  versionOf,
} from "./node22-scenario-support.mjs";

// ---- tedious 20 under Sequelize 6.37 -------------------------------------------------------------------
// Sequelize's mssql dialect does require("tedious") when an instance is created (ConnectionManager
// _loadDialectModule). pnpm resolves it to the tedious 19.2.2 this workspace pins; here Sequelize's
// require("tedious") is pointed at tedious 20. Nothing else is redirected; the checks below prove which
// tedious Sequelize loaded.

const sequelizeDir = dirname(require.resolve("sequelize/package.json"));
const redirectedRequires = redirectTediousOf(sequelizeDir);

const { Sequelize } = await import("sequelize");
const { withEntraTokens } = await import("@entra-sql/sequelize");
const { createTokenSource } = await import("@entra-sql/core");

const test = connectToTest("test/compat/sequelize-tedious20.test.ts");
const { settings, tellTest, onEvent, begin } = test;
const { tokenMode, scope } = settings;

// ---- the scenario -------------------------------------------------------------------------------------

const modeOptions = tokenMode === "inline" ? { tokenMode, scope } : { tokenMode };
const create = (pool, options) =>
  withEntraTokens(
    new Sequelize({
      dialect: "mssql",
      host: settings.sql.host,
      port: settings.sql.port,
      database: settings.sql.database,
      dialectOptions: { options: settings.sql.options },
      pool,
      logging: false,
      databaseVersion: "16.0.0",
    }),
    options,
  );
const rowsOf = async (db, sql) => (await db.query(sql))[0];

/** The tedious a Sequelize instance drives: tedious 20's module, by identity. */
function checkDriver(db) {
  assert.ok(redirectedRequires() > 0, "Sequelize never required tedious");
  // The connection manager's lib is tedious 20 with a Connection subclass that wires each connection.
  assert.equal(
    Object.getPrototypeOf(db.connectionManager.lib),
    loadTedious20(),
    "Sequelize's mssql dialect drives a tedious other than tedious 20",
  );
  return checkLoadedTedious("Sequelize");
}

async function run() {
  const result = {
    node: process.versions.node,
    tedious: tediousVersion,
    sequelize: versionOf(sequelizeDir),
    redirectedRequires: 0,
    driverIsTedious20: false,
    tediousFilesLoaded: 0,
    steps: {},
  };

  // Steps 1 to 3 share one token source (cached token; closed here, not by sequelize.close()).
  const tokenSource = createTokenSource(settings.tokenSource);
  try {
    // 1. A pool logs in (both token modes) and runs concurrent parameterized queries.
    await begin("queries");
    const db = create({ min: 0, max: 5 }, { tokenSource, ...modeOptions, onEvent });
    try {
      checkDriver(db);
      result.driverIsTedious20 = true;
      const rows = await Promise.all(
        Array.from({ length: 15 }, (_, i) => db.query("SELECT $n AS n", { bind: { n: i } })),
      );
      result.steps.queries = { values: rows.map((r) => r[0][0]?.n) };
    } finally {
      await db.close();
    }

    // 2. A connection idle past maxAgeInMs is closed by the idle timer; the next query logs in again.
    await begin("max-age");
    const aging = create(
      { min: 0, max: 1 },
      { tokenSource, ...modeOptions, maxAgeInMs: 1000, maxAgeJitterRatio: 0, onEvent },
    );
    try {
      const before = await rowsOf(aging, "SELECT 1 AS one");
      await sleep(1300);
      const after = await rowsOf(aging, "SELECT 2 AS two");
      result.steps["max-age"] = { before, after };
    } finally {
      await aging.close();
    }

    // 3. The cached token is refused (18456: the test revokes the principal, and restores it when the
    //    refused login is recorded): the login is retried once with a fresh token.
    await tokenSource.getToken(scope);
    await begin("rejected-login");
    const db3 = create({ min: 0, max: 1 }, { tokenSource, ...modeOptions, onEvent });
    try {
      result.steps["rejected-login"] = { rows: await rowsOf(db3, "SELECT 3 AS three") };
    } finally {
      await db3.close();
    }
  } finally {
    tokenSource.close();
  }

  // 4. 37396: 8 s tokens (set by the test when this step begins), the server's clock moved ahead so the
  //    session's token has expired there, then revalidate(). The refused INSERT is not executed and is
  //    retried once on a fresh connection; every INSERT runs exactly once.
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
  const table = `compat_sequelize_tedious20_${tokenMode.replace("-", "_")}`;
  try {
    await db4.query(`CREATE TABLE ${table} (id INT)`);
    await db4.query(`INSERT INTO ${table} (id) VALUES (0)`);
    const { revalidated } = await tellTest({ action: "expire-sessions" });
    const failed = [];
    for (const id of [1, 2, 3]) {
      try {
        await db4.query(`INSERT INTO ${table} (id) VALUES ($id)`, { bind: { id } });
      } catch (error) {
        failed.push({ id, error: String(error) });
      }
    }
    const ids = (await rowsOf(db4, `SELECT id FROM ${table}`)).map((r) => r.id);
    result.steps["session-expired"] = { revalidated, failed, ids: ids.sort((a, b) => a - b) };
  } finally {
    await db4.close(); // closes the token source it created
  }

  await begin("done");
  result.redirectedRequires = redirectedRequires();
  result.tediousFilesLoaded = checkLoadedTedious("Sequelize");
  result.events = test.events;
  return result;
}

await report(run, () => test.step);
