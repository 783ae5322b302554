// The Node.js 22 half of tedious20.test.ts: run by the Node 22 binary of @entra-sql/compat-node22
// (test/compat/node22) with an IPC channel to the test, which runs on Node 20 and owns the stand-ins.
// Plain JavaScript: no tsx, no build step; it loads the built @entra-sql/mssql (dist), the workspace's
// mssql 12 and tedious 20.
//
// Input: ENTRA_SQL_COMPAT_SETTINGS (JSON: tokenMode, the SQL stand-in's address and TLS options, the demo
// app's credential for the local Entra ID). Before each step it tells the test (process.send) which
// step begins and waits for the reply, so the test can set the stand-ins up for that step (revoke the
// principal, shorten token lifetimes, move the server's clock and revalidate open sessions) and slice
// the stand-in's login records by step. Output: one JSON line on stdout (the facts; the test asserts on
// them), exit code 0; on an error one JSON line { "error": ... } and exit code 1. The parts shared with
// knex-tedious20-scenario.mjs (tedious 20, the resolve hook, the step protocol, the result line) are in
// node22-scenario-support.mjs.

import assert from "node:assert/strict";
import { dirname } from "node:path";
import {
  checkLoadedTedious,
  connectToTest,
  redirectTediousOf,
  report,
  require,
  sleep,
  tediousVersion,
  versionOf,
} from "./node22-scenario-support.mjs";

// ---- tedious 20 under mssql 12 ------------------------------------------------------------------------
// mssql 12.7 depends on tedious "^19.2.2 || ^20.0.0"; npm on Node 22 installs tedious 20 for it. pnpm
// resolves that range to the tedious 19.2.2 this workspace pins elsewhere, so mssql's own
// require("tedious") is pointed here at the tedious 20 of @entra-sql/compat-node22 (a resolve hook,
// Node >= 22.15; node22-scenario-support.mjs checks Node 22 and tedious 20). Nothing else is redirected;
// the checks below prove which tedious mssql loaded.

const mssqlDir = dirname(require.resolve("mssql/package.json"));
const redirectedRequires = redirectTediousOf(mssqlDir);

const { default: mssql } = await import("mssql");
const { createEntraMssql } = await import("@entra-sql/mssql");

assert.ok(redirectedRequires() > 0, "mssql never required tedious");
checkLoadedTedious("mssql");

// ---- talking to the test ------------------------------------------------------------------------------

const test = connectToTest("test/compat/tedious20.test.ts");
const { settings, tellTest, onEvent, begin } = test;
const { tokenMode, scope } = settings;

// ---- the scenario -------------------------------------------------------------------------------------

const modeOptions = tokenMode === "inline" ? { tokenMode, scope } : { tokenMode };
const tokenSourceOptions = (extra = {}) => ({ ...settings.tokenSource, ...extra });
const config = (pool, extra = {}) => ({
  server: settings.sql.host,
  port: settings.sql.port,
  database: settings.sql.database,
  options: settings.sql.options,
  pool,
  ...extra,
});

async function run() {
  const result = {
    node: process.versions.node,
    tedious: tediousVersion,
    mssql: versionOf(mssqlDir),
    redirectedRequires: redirectedRequires(),
    tediousFilesLoaded: 0,
    steps: {},
  };

  // 1. A pool logs in (both token modes) and runs concurrent parameterized queries.
  await begin("queries");
  const sql = createEntraMssql(mssql, { tokenSource: tokenSourceOptions(), ...modeOptions, onEvent });
  try {
    const pool = await new sql.ConnectionPool(config({ max: 5 })).connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, i) => pool.request().input("n", sql.Int, i).query("SELECT @n AS n")),
      );
      result.steps.queries = { values: results.map((r) => r.recordset[0]?.n) };
    } finally {
      await pool.close();
    }

    // 2. A connection idle past maxAgeInMs is closed by the idle timer; the next query logs in again.
    await begin("max-age");
    const aging = createEntraMssql(mssql, {
      tokenSource: sql.tokenSource,
      ...modeOptions,
      maxAgeInMs: 1000,
      maxAgeJitterRatio: 0,
      onEvent,
    });
    const agingPool = await new aging.ConnectionPool(config({ max: 1 })).connect();
    try {
      const before = (await agingPool.query("SELECT 1 AS one")).recordset;
      await sleep(1300);
      const after = (await agingPool.query("SELECT 2 AS two")).recordset;
      result.steps["max-age"] = { before, after };
    } finally {
      await agingPool.close();
    }

    // 3. The cached token is refused (18456: the test revokes the principal, and restores it when the
    //    refused login is recorded): the login is retried once with a fresh token.
    await sql.tokenSource.getToken(scope);
    await begin("rejected-login");
    const pool3 = await new sql.ConnectionPool(config({ max: 1 })).connect();
    try {
      result.steps["rejected-login"] = { rows: (await pool3.query("SELECT 3 AS three")).recordset };
    } finally {
      await pool3.close();
    }
  } finally {
    sql.tokenSource.close();
  }

  // 4. 37396: 8 s tokens (set by the test when this step begins), the server's clock moved ahead so the
  //    session's token has expired there, then revalidate(). The refused INSERT is not executed and is
  //    retried once on a fresh connection; every INSERT runs exactly once.
  await begin("session-expired");
  const expiring = createEntraMssql(mssql, {
    tokenSource: tokenSourceOptions({ refreshWindowInMs: 2_000, minimumValidityInMs: 1_000 }),
    ...modeOptions,
    maxAgeInMs: null,
    tokenExpiryMarginInMs: 0,
    onEvent,
  });
  const table = `compat_tedious20_${tokenMode.replace("-", "_")}`;
  // validateConnection "socket": no SELECT 1 on acquire, so the statement itself meets the 37396.
  const pool4 = await new expiring.ConnectionPool(
    config({ max: 1 }, { validateConnection: "socket" }),
  ).connect();
  try {
    await pool4.query(`CREATE TABLE ${table} (id INT)`);
    await pool4.query(`INSERT INTO ${table} (id) VALUES (0)`);
    const { revalidated } = await tellTest({ action: "expire-sessions" });
    const failed = [];
    for (const id of [1, 2, 3]) {
      try {
        await pool4.request().input("id", expiring.Int, id).query(`INSERT INTO ${table} (id) VALUES (@id)`);
      } catch (error) {
        failed.push({ id, error: String(error) });
      }
    }
    const ids = (await pool4.query(`SELECT id FROM ${table}`)).recordset.map((r) => r.id);
    result.steps["session-expired"] = { revalidated, failed, ids: ids.sort((a, b) => a - b) };
  } finally {
    await pool4.close();
    expiring.tokenSource.close();
  }

  await begin("done");
  result.tediousFilesLoaded = checkLoadedTedious("mssql");
  result.events = test.events;
  return result;
}

await report(run, () => test.step);
