import { createTokenSource } from "@entra-sql/core";
import { createEntraKnexConfig, type EntraKnexEvent } from "@entra-sql/knex";
import knex from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { readLiveSettings } from "./live-settings.js";

// @entra-sql/knex against the real server: both token modes log in and query, max age retires a
// connection, and a transaction commits in a scratch table that is dropped afterwards.

const settings = readLiveSettings();
const tokenSource = createTokenSource({ credential: settings.credential });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(() => tokenSource.close());

function connect(
  tokenMode: "inline" | "token-credential",
  extra: { maxAgeInMs?: number; onEvent?: (event: EntraKnexEvent) => void } = {},
) {
  return knex(
    createEntraKnexConfig(
      knex,
      {
        connection: {
          server: settings.server,
          port: settings.port,
          database: settings.database,
          options: { encrypt: true, trustServerCertificate: false },
        },
        pool: { min: 0, max: 2 },
      },
      // The server names the scope in token-credential mode; inline derives it from the host unless given.
      { tokenSource, tokenMode, ...(tokenMode === "inline" ? { scope: settings.scope } : {}), ...extra },
    ),
  );
}

describe.each(["inline", "token-credential"] as const)("knex, tokenMode %s", (tokenMode) => {
  it("logs in with a token, queries, and retires a connection past its max age", async () => {
    const events: EntraKnexEvent[] = [];
    const db = connect(tokenMode, { maxAgeInMs: 1_500, onEvent: (e) => events.push(e) });
    try {
      expect(await db.raw("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      await sleep(2_000);
      expect(await db.raw("SELECT 2 AS two")).toEqual([{ two: 2 }]);
      expect(events.filter((e) => e.type === "connection-opened").length).toBeGreaterThanOrEqual(2);
      expect(events.some((e) => e.type === "connection-retired" && e.reason === "max-age")).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});

describe("knex CRUD and a transaction in a scratch table", () => {
  it("inserts, commits, rolls back, reads, and drops the table", async () => {
    const db = connect("inline");
    const table = `entra_sql_live_knex_${process.pid}_${Date.now()}`;
    try {
      await db.schema.createTable(table, (t) => {
        t.integer("id").primary();
        t.string("body", 50).notNullable();
      });
      await db(table).insert({ id: 1, body: "first" });
      await db.transaction(async (trx) => {
        await trx(table).insert({ id: 2, body: "committed" });
      });
      await db
        .transaction(async (trx) => {
          await trx(table).insert({ id: 3, body: "rolled back" });
          throw new Error("undo");
        })
        .catch((error: Error) => expect(error.message).toBe("undo"));
      expect(await db(table).select("id", "body").orderBy("id")).toEqual([
        { id: 1, body: "first" },
        { id: 2, body: "committed" },
      ]);
    } finally {
      await db.schema.dropTableIfExists(table).catch(() => undefined);
      await db.destroy();
    }
  });
});
