import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import { demoAppTokenSource, entraKysely, KYSELY_VERSIONS, modeOptions, recorder, sleep } from "./helpers.js";

// Kysely validates a pooled connection with a `select 1` round trip before handing it out. The lifecycle
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

describe.each(KYSELY_VERSIONS)("Kysely $version: the age check around its validation", (v) => {
  it("refuses a connection that Kysely's slow select 1 carried past max age, and runs the query on a new one", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent: record } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      {
        tokenSource,
        ...modeOptions("inline"),
        maxAgeInMs: MAX_AGE_MS,
        maxAgeJitterRatio: 0,
        // Once the slow round trip has done its part (the idle connection retired), the server is fast again.
        onEvent: (event) => {
          record(event);
          if (event.type === "connection-retired" && event.at === "acquire") standIns.sql.latencyMs = 0;
        },
      },
      { pool: { min: 0, max: 1 } },
    );
    const sessionsBefore = new Set(standIns.sql.sessions.map((s) => s.id));
    try {
      await v.sql`select 1 as one`.execute(db);
      const idle = standIns.sql.sessions.find((s) => !sessionsBefore.has(s.id));
      expect(idle).toBeDefined();
      const opened = events.filter((e) => e.type === "connection-opened").at(-1);
      if (opened?.type !== "connection-opened") throw new Error("no connection-opened event");
      await sleep(opened.retireAt - ASK_BEFORE_RETIRE_MS - Date.now());
      standIns.sql.latencyMs = SLOW_SQL_MS;
      const before = requests.length;
      const eventsBefore = events.length;
      expect((await v.sql<{ two: number }>`select 2 as two`.execute(db)).rows).toEqual([{ two: 2 }]);

      const after = requests.slice(before);
      // The first check passed the idle connection: Kysely's select 1 reached its session ...
      expect(after.filter((r) => r.sessionId === idle?.id).map((r) => r.summary)).toEqual([
        "sp_executesql: select 1",
      ]);
      // ... and the second retired it, so the query ran on a connection that logged in after.
      expect(after.find((r) => r.summary.includes("select 2 as two"))?.sessionId).not.toBe(idle?.id);
      expect(events.slice(eventsBefore).filter((e) => e.type === "connection-retired")).toEqual([
        expect.objectContaining({ reason: "max-age", at: "acquire" }),
      ]);
    } finally {
      standIns.sql.latencyMs = 0;
      await db.destroy();
      tokenSource.close();
    }
  });
});
