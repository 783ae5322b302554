import { withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  type AnySequelize,
  demoAppTokenSource,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  SEQUELIZE_VERSIONS,
  sequelizeOptions,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Connection lifetime through real Sequelize: no statement starts on a connection past its max age or its
// login token, a transaction that outlives the max age completes, idle connections are closed by the
// kit's timer, and time-compressed token rotations under concurrent load fail no query and cost one
// identity request per refresh, not one per connection. The stand-in allows no clock skew, and the loop
// makes it revalidate every open session: a statement on a session whose token had expired would be
// refused (37396) and counted.

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

/**
 * Each connection's birth (Sequelize's afterConnect hook) and its age when a statement starts on it
 * (beforeQuery: the connection acquired for it, or its transaction's).
 */
function ageTracker(sequelize: AnySequelize) {
  const bornAt = new WeakMap<object, number>();
  const starts: Array<{ ageInMs: number; inTransaction: boolean }> = [];
  sequelize.addHook("afterConnect", (connection: unknown) => {
    bornAt.set(connection as object, Date.now());
  });
  sequelize.addHook("beforeQuery", (options: { transaction?: unknown }, query: unknown) => {
    const born = bornAt.get((query as { connection: object }).connection);
    if (born !== undefined) {
      starts.push({ ageInMs: Date.now() - born, inTransaction: options.transaction != null });
    }
  });
  return starts;
}

const TOKEN_LIFETIME_S = 4;
const REFRESH_WINDOW_MS = 1_200;
const MAX_AGE_MS = 1_500;

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("rotates tokens and connections under concurrent load without a failed query", async () => {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    // 4 s tokens refreshed 1.2 s before expiry and handed out while valid for 0.6 s more; connections
    // retire at 1.5 s of age or 0.3 s before their token expires.
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: REFRESH_WINDOW_MS,
      minimumValidityInMs: 600,
    });
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: 3 })), {
      tokenSource,
      ...modeOptions(tokenMode),
      maxAgeInMs: MAX_AGE_MS,
      tokenExpiryMarginInMs: 300,
      onEvent,
    });
    const starts = ageTracker(sequelize);
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const rejectedBefore = standIns.sql.counters.statementsRejected;
    const startedAt = Date.now();
    const tokensUsed = () =>
      new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
    let failed = 0;
    let ran = 0;
    try {
      // Three tokens used means at least two rotations; bounded at six token lifetimes.
      const reached = await until(
        () => tokensUsed() >= 3,
        async () => {
          const outcomes = await Promise.allSettled([
            ...Array.from({ length: 5 }, (_, i) => sequelize.query(`SELECT ${i} AS n`)),
            sequelize.transaction(async (transaction) => {
              await sequelize.query("SELECT 1 AS a", { transaction });
              await sequelize.query("SELECT 2 AS b", { transaction });
            }),
          ]);
          ran += outcomes.length;
          failed += outcomes.filter((o) => o.status === "rejected").length;
          standIns.sql.revalidate();
          await sleep(100);
        },
        6 * TOKEN_LIFETIME_S * 1000,
      );
      const elapsed = Date.now() - startedAt;
      expect(reached).toBe(true);
      expect({ failed, rejected: standIns.sql.counters.statementsRejected - rejectedBefore }).toEqual({
        failed: 0,
        rejected: 0,
      });
      expect(ran).toBeGreaterThan(30);

      const logins = standIns.sql.logins.slice(loginsBefore);
      for (const login of logins) {
        expect(login.ok).toBe(true);
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime());
      }
      // One identity request per refresh (a refresh is due every lifetime - window), never per connection.
      const requests = identityRequests(standIns) - requestsBefore;
      expect(requests).toBeLessThanOrEqual(
        Math.ceil(elapsed / (TOKEN_LIFETIME_S * 1000 - REFRESH_WINDOW_MS)) + 1,
      );
      expect(requests).toBeLessThanOrEqual(tokensUsed() + 1);
      expect(logins.length).toBeGreaterThan(requests);

      // No statement outside a transaction started on a connection much older than the max age (checked
      // when handed out; on a loaded machine the statement may start a few hundred ms later).
      const outside = starts.filter((s) => !s.inTransaction);
      expect(outside.length).toBeGreaterThan(30);
      expect(Math.max(...outside.map((s) => s.ageInMs))).toBeLessThanOrEqual(MAX_AGE_MS + 500);
      expect(ofType(events, "connection-retired").some((e) => e.reason === "max-age")).toBe(true);
      // At most the pool's size of sessions stays open: retired connections are closed.
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(3);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 45_000);
});

describe.each(SEQUELIZE_VERSIONS)("Sequelize $version, max age", (v) => {
  it("a transaction that outlives the max age completes; its connection is closed afterwards; idle ones by the timer", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const maxAgeInMs = 1000;
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: 2 })), {
      tokenSource,
      ...modeOptions("inline"),
      maxAgeInMs,
      maxAgeJitterRatio: 0,
      onEvent,
    });
    const starts = ageTracker(sequelize);
    try {
      await sequelize.transaction(async (transaction) => {
        await sequelize.query("SELECT 1 AS one", { transaction });
        // Past the max age, still in use: left alone until it is released.
        await until(
          () => (starts.at(-1)?.ageInMs ?? 0) > maxAgeInMs + 100,
          async () => {
            await sleep(50);
            await sequelize.query("SELECT 2 AS two", { transaction });
          },
          10_000,
        );
      });
      const retired = ofType(events, "connection-retired");
      expect(
        retired.filter((e) => e.at === "release" && e.reason === "max-age").length,
      ).toBeGreaterThanOrEqual(1);
      expect(retired.filter((e) => e.at === "statement")).toEqual([]);
      expect(
        await until(
          () => standIns.sql.sessions.length === 0,
          () => sleep(25),
          3_000,
        ),
      ).toBe(true);

      // A new connection; left idle, the kit's timer closes it at its max age, with no query. sequelize-pool
      // may open a second one for the same acquire (one login per dispense while the first is in flight);
      // it sits idle too. Each connection opened from here on is closed by the timer, none by a query.
      const before = starts.length;
      const openedBefore = ofType(events, "connection-opened").length;
      const idleBefore = ofType(events, "connection-retired").filter((e) => e.at === "idle").length;
      await sequelize.query("SELECT 3 AS three");
      expect(starts.slice(before).every((s) => s.ageInMs < maxAgeInMs)).toBe(true);
      const openedSince = () => ofType(events, "connection-opened").length - openedBefore;
      const idleRetired = () =>
        ofType(events, "connection-retired").filter((e) => e.at === "idle").length - idleBefore;
      expect(
        await until(
          () => standIns.sql.sessions.length === 0 && idleRetired() === openedSince(),
          () => sleep(50),
          4_000,
        ),
      ).toBe(true);
      expect(idleRetired()).toBeGreaterThanOrEqual(1);
      // The pool goes on: the closed connection is dropped at the next acquire.
      const [rows] = await sequelize.query("SELECT 4 AS four");
      expect(rows).toEqual([{ four: 4 }]);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);
});
