import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import { demoAppTokenSource, mssqlConfig, recorder, SQL_SCOPE, sleep } from "./helpers.js";

// mssql validates a pooled connection with a `SELECT 1` round trip before handing it out. The lifecycle
// checks the connection before that round trip AND after it (lifecycle.validate): on a slow server the
// round trip alone can carry a connection past its max age. Judged from the server's request records.

const MAX_AGE_MS = 4_000;
/**
 * The second query asks for the idle connection this long before its retire time: room for a loaded
 * machine's delays before the first check, which must still pass it.
 */
const ASK_BEFORE_RETIRE_MS = 1_500;
/** The server's answer to the validation takes this long: the connection is past its retire time after it. */
const SLOW_SQL_MS = ASK_BEFORE_RETIRE_MS + 1_000;

let standIns: StandIns;
const requests: Extract<StandInEvent, { type: "request" }>[] = [];

beforeAll(async () => {
  standIns = await startStandIns({
    sql: { onEvent: (event) => (event.type === "request" ? requests.push(event) : undefined) },
  });
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

describe("the age check around mssql's validation", () => {
  it("refuses a connection that mssql's slow SELECT 1 carried past max age, and runs the query on a new one", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent: record } = recorder();
    // Once the slow round trip has done its part (the idle connection retired), the server is fast again.
    const onEvent = (event: EntraMssqlEvent): void => {
      record(event);
      if (event.type === "connection-retired" && event.at === "acquire") standIns.sql.latencyMs = 0;
    };
    const sql = createEntraMssql(mssql, {
      tokenSource,
      tokenMode: "inline",
      scope: SQL_SCOPE,
      maxAgeInMs: MAX_AGE_MS,
      maxAgeJitterRatio: 0,
      onEvent,
    });
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { min: 0, max: 1 })).connect();
    try {
      await pool.query("SELECT 1 AS one");
      const [idle] = standIns.sql.sessions;
      expect(standIns.sql.sessions).toHaveLength(1);
      const opened = events.filter((e) => e.type === "connection-opened").at(-1);
      if (opened?.type !== "connection-opened") throw new Error("no connection-opened event");
      await sleep(opened.retireAt - ASK_BEFORE_RETIRE_MS - Date.now());
      standIns.sql.latencyMs = SLOW_SQL_MS;
      const before = requests.length;
      const eventsBefore = events.length;
      const result = await pool.query("SELECT 2 AS two");
      expect(result.recordset).toEqual([{ two: 2 }]);

      const after = requests.slice(before);
      // The first check passed the idle connection: mssql's SELECT 1 reached its session ...
      expect(after.filter((r) => r.sessionId === idle?.id).map((r) => r.summary)).toEqual([
        "sp_executesql: SELECT 1;",
      ]);
      // ... and the second retired it, so the query ran on a connection that logged in after.
      const query = after.find((r) => r.summary.includes("SELECT 2 AS two"));
      expect(query?.sessionId).not.toBe(idle?.id);
      expect(events.slice(eventsBefore).filter((e) => e.type === "connection-retired")).toEqual([
        expect.objectContaining({ reason: "max-age", at: "acquire", ageInMs: expect.any(Number) }),
      ]);
    } finally {
      standIns.sql.latencyMs = 0;
      await pool.close();
      tokenSource.close();
    }
  });
});
