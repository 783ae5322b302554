import { withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoAppTokenSource,
  modeOptions,
  ofType,
  recorder,
  SEQUELIZE_VERSIONS,
  sequelizeOptions,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// The token bound while idle, through real Sequelize 6.29.0 and 6.37.8, both token modes: connections left
// idle in the pool are closed by the kit's timer before their login token expires (the automatic margin),
// with no query to trigger it, judged from the stand-in's session records.

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

describe.each(versionModes())("%s, token bound while idle", (_, v, tokenMode) => {
  it("idle connections are closed by the kit's timer before their token expires, with no query", async () => {
    standIns.entra.settings.tokenLifetimeSeconds = 4;
    // The automatic margin: the smaller of 60 s and a tenth of the token's lifetime (0.4 s here).
    const tokenSource = demoAppTokenSource(standIns, { refreshWindowInMs: 1_000, minimumValidityInMs: 500 });
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: 3 })), {
      tokenSource,
      ...modeOptions(tokenMode),
      maxAgeInMs: null,
      onEvent,
    });
    const closedBefore = new Set(standIns.sql.closedSessions.map((s) => s.id));
    try {
      await Promise.all(Array.from({ length: 6 }, () => sequelize.query("SELECT 1 AS one")));
      expect(
        await until(
          () => standIns.sql.sessions.length >= 1,
          () => sleep(25),
          3_000,
        ),
      ).toBe(true);
      const open = standIns.sql.sessions.map((s) => s.id);
      // No query from here on: only the kit's timer can close them.
      expect(
        await until(
          () => standIns.sql.sessions.length === 0,
          () => sleep(50),
          6_000,
        ),
      ).toBe(true);
      const closed = standIns.sql.closedSessions.filter(
        (s) => !closedBefore.has(s.id) && open.includes(s.id),
      );
      expect(closed.length).toBe(open.length);
      for (const session of closed) {
        expect(session.closeReason).toBe("client");
        expect(session.closedAt.getTime()).toBeLessThan(session.tokenExpiresAt?.getTime() ?? 0);
      }
      const idle = ofType(events, "connection-retired").filter((e) => e.at === "idle");
      expect(idle.length).toBeGreaterThanOrEqual(open.length);
      expect(idle.every((e) => e.reason === "token-expiry")).toBe(true);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 20_000);
});

describe.each(versionModes(SEQUELIZE_VERSIONS.slice(-1)))(
  "%s, before the pool hands a connection out",
  (_, v, tokenMode) => {
    it("a connection busy before the pool hands it out (Sequelize's version probe) is not closed under it", async () => {
      // Without `databaseVersion`, Sequelize's first getConnection logs in outside the pool and asks the
      // server's version; here that answer takes longer than the connection's max age.
      const tokenSource = demoAppTokenSource(standIns);
      const { events, onEvent: record } = recorder();
      // Slow answers only just after the first login (the probe's statement), so the rest stays quick.
      const onEvent = (event: Parameters<typeof record>[0]) => {
        record(event);
        if (event.type !== "connection-opened" || ofType(events, "connection-opened").length > 1) return;
        standIns.sql.latencyMs = 1_500;
        setTimeout(() => {
          standIns.sql.latencyMs = 0;
        }, 250);
      };
      const sequelize = withEntraTokens(
        v.create({ ...sequelizeOptions(standIns, { min: 0, max: 2 }), databaseVersion: 0 }),
        { tokenSource, ...modeOptions(tokenMode), maxAgeInMs: 1_000, maxAgeJitterRatio: 0, onEvent },
      );
      try {
        const [rows] = await sequelize.query("SELECT 1 AS one");
        expect(rows).toEqual([{ one: 1 }]);
        expect(ofType(events, "connection-retired").filter((e) => e.at === "idle")).toEqual([]);
      } finally {
        standIns.sql.latencyMs = 0;
        await sequelize.close();
        tokenSource.close();
      }
    }, 20_000);
  },
);
