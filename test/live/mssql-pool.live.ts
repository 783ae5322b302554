import { createTokenSource } from "@entra-sql/core";
import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, describe, expect, it } from "vitest";
import { readLiveSettings } from "./live-settings.js";

// @entra-sql/mssql against the real server: both token modes log in, max age retires a connection,
// and plain CRUD with a transaction works in a scratch table that is dropped afterwards.

const settings = readLiveSettings();
const tokenSource = createTokenSource({ credential: settings.credential });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(() => tokenSource.close());

function poolConfig(): mssql.config {
  return {
    server: settings.server,
    port: settings.port,
    database: settings.database,
    options: { encrypt: true, trustServerCertificate: false },
    pool: { min: 0, max: 3 },
  };
}

describe.each(["inline", "token-credential"] as const)("mssql pool, tokenMode %s", (tokenMode) => {
  // The server names the scope in token-credential mode; inline derives it from the host unless given.
  const scope = tokenMode === "inline" ? { scope: settings.scope } : {};

  it("logs in with a token and runs a query", async () => {
    const events: EntraMssqlEvent[] = [];
    const sql = createEntraMssql(mssql, { tokenSource, tokenMode, ...scope, onEvent: (e) => events.push(e) });
    const pool = await new sql.ConnectionPool(poolConfig()).connect();
    try {
      const result = await pool.query("SELECT 1 AS one");
      expect(result.recordset).toEqual([{ one: 1 }]);
      const opened = events.filter((e) => e.type === "connection-opened");
      expect(opened.length).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });

  it("retires a connection past its max age and logs in again", async () => {
    const events: EntraMssqlEvent[] = [];
    const sql = createEntraMssql(mssql, {
      tokenSource,
      tokenMode,
      ...scope,
      maxAgeInMs: 1_500,
      onEvent: (e) => events.push(e),
    });
    const pool = await new sql.ConnectionPool({ ...poolConfig(), pool: { min: 0, max: 1 } }).connect();
    try {
      await pool.query("SELECT 1 AS one");
      await sleep(2_000);
      await pool.query("SELECT 2 AS two");
      expect(events.some((e) => e.type === "connection-retired" && e.reason === "max-age")).toBe(true);
      expect(events.filter((e) => e.type === "connection-opened").length).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });
});

describe("CRUD and a transaction in a scratch table", () => {
  it("inserts, commits, rolls back, reads, and drops the table", async () => {
    const sql = createEntraMssql(mssql, { tokenSource, scope: settings.scope });
    const pool = await new sql.ConnectionPool(poolConfig()).connect();
    const table = `entra_sql_live_${process.pid}_${Date.now()}`;
    try {
      await pool.query(`CREATE TABLE ${table} (id int NOT NULL PRIMARY KEY, body nvarchar(50) NOT NULL)`);
      await pool
        .request()
        .input("body", mssql.NVarChar(50), "first")
        .query(`INSERT INTO ${table} (id, body) VALUES (1, @body)`);
      const committed = new sql.Transaction(pool);
      await committed.begin();
      await committed.request().query(`INSERT INTO ${table} (id, body) VALUES (2, N'committed')`);
      await committed.commit();
      const rolledBack = new sql.Transaction(pool);
      await rolledBack.begin();
      await rolledBack.request().query(`INSERT INTO ${table} (id, body) VALUES (3, N'rolled back')`);
      await rolledBack.rollback();
      const rows = await pool.query(`SELECT id, body FROM ${table} ORDER BY id`);
      expect(rows.recordset).toEqual([
        { id: 1, body: "first" },
        { id: 2, body: "committed" },
      ]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await pool.close();
    }
  });
});
