import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoAppTokenSource,
  entraKysely,
  KYSELY_VERSIONS,
  modeOptions,
  ofType,
  recorder,
  sleep,
  until,
} from "./helpers.js";

// Connection lifetime through real Kysely (0.27.0 and 0.29.9), judged from the stand-in's session records:
// - a transaction that outlives the max age completes; its connection is retired as it comes back (at
//   release), its session closed by the client, never used again;
// - an idle connection past its max age is closed by the kit's timer with no query (at: idle);
// - an idle connection is closed before its login token expires (the token bound), with no max age set.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { clockSkewSeconds: 0 } });
  await standIns.sql.engine();
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

const newSessions = (before: Set<number>) => standIns.sql.sessions.filter((s) => !before.has(s.id));
const closedSession = (id: number) => standIns.sql.closedSessions.find((s) => s.id === id);

describe.each(KYSELY_VERSIONS)("Kysely $version", (v) => {
  it("a transaction past its max age completes; its connection retires as it comes back", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      { tokenSource, ...modeOptions("inline"), maxAgeInMs: 1000, maxAgeJitterRatio: 0, onEvent },
      { pool: { min: 0, max: 2 } },
    );
    const before = new Set(standIns.sql.sessions.map((s) => s.id));
    try {
      let sessionId = -1;
      await db.transaction().execute(async (trx) => {
        await v.sql`select 1 as one`.execute(trx);
        sessionId = newSessions(before)[0]?.id ?? -1;
        await sleep(1_300);
        await v.sql`select 2 as two`.execute(trx); // past its max age, still in use: never cut
      });
      expect(ofType(events, "connection-retired")).toEqual([
        expect.objectContaining({ reason: "max-age", at: "release" }),
      ]);
      expect(
        await until(
          () => closedSession(sessionId) !== undefined,
          () => sleep(20),
          3_000,
        ),
      ).toBe(true);
      expect(closedSession(sessionId)?.closeReason).toBe("client");
      expect((await v.sql<{ three: number }>`select 3 as three`.execute(db)).rows).toEqual([{ three: 3 }]);
      expect(standIns.sql.sessions.some((s) => s.id === sessionId)).toBe(false);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("an idle connection past its max age is closed by the timer, with no query", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      { tokenSource, ...modeOptions("inline"), maxAgeInMs: 1000, maxAgeJitterRatio: 0, onEvent },
      { pool: { min: 0, max: 1, idleTimeoutMillis: 60_000 } },
    );
    const before = new Set(standIns.sql.sessions.map((s) => s.id));
    try {
      await v.sql`select 1 as one`.execute(db);
      const session = newSessions(before)[0];
      expect(session).toBeDefined();
      const id = session?.id ?? -1;
      expect(
        await until(
          () => closedSession(id) !== undefined,
          () => sleep(25),
          4_000,
        ),
      ).toBe(true);
      const closed = closedSession(id);
      expect(closed?.closeReason).toBe("client");
      const lived = (closed?.closedAt.getTime() ?? 0) - (closed?.loginAt.getTime() ?? 0);
      expect(lived).toBeGreaterThanOrEqual(900);
      expect(lived).toBeLessThan(2_000);
      expect(ofType(events, "connection-retired")).toEqual([
        expect.objectContaining({ reason: "max-age", at: "idle" }),
      ]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("an idle connection is closed before its login token expires (no max age)", async () => {
    standIns.entra.settings.tokenLifetimeSeconds = 3;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: 1_200,
      minimumValidityInMs: 800,
    });
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      {
        tokenSource,
        ...modeOptions("token-credential"),
        maxAgeInMs: null,
        tokenExpiryMarginInMs: 500,
        onEvent,
      },
      { pool: { min: 0, max: 1, idleTimeoutMillis: 60_000 } },
    );
    const before = new Set(standIns.sql.sessions.map((s) => s.id));
    try {
      await v.sql`select 1 as one`.execute(db);
      const id = newSessions(before)[0]?.id ?? -1;
      expect(
        await until(
          () => closedSession(id) !== undefined,
          () => sleep(25),
          5_000,
        ),
      ).toBe(true);
      const closed = closedSession(id);
      expect(closed?.closeReason).toBe("client");
      expect(closed?.closedAt.getTime() ?? 0).toBeLessThan(closed?.tokenExpiresAt?.getTime() ?? 0);
      expect(ofType(events, "connection-retired")).toEqual([
        expect.objectContaining({ reason: "token-expiry", at: "idle" }),
      ]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});
