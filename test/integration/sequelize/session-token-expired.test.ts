import { type EntraSequelizeEvent, isSessionTokenExpiredError, withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  type AnySequelize,
  demoApp,
  demoAppTokenSource,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  sequelizeOptions,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Error 37396 through real Sequelize: after the server revalidates open sessions, a statement on a session
// whose login token expired is refused (not run). The connection is destroyed; outside a transaction the
// statement runs again, once, on a freshly logged-in connection (zero failed statements under load); a
// refused BEGIN moves the transaction to a fresh connection; inside a transaction the caller gets a
// SessionTokenExpiredError and nothing is committed. And a principal revoked mid-run costs one forced
// refresh, not a failed query.
//
// How sessions go stale while the pool still trusts their tokens (as in the mssql and Knex suites): 8 s
// tokens, no clock skew allowance at the stand-in, and its clock 6.5 s ahead.

const TOKEN_LIFETIME_S = 8;
const SERVER_CLOCK_AHEAD_MS = 6_500;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { clockSkewSeconds: 0 } });
  await standIns.sql.engine();
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
  standIns.sql.clockOffsetMs = 0;
});

afterAll(async () => {
  await standIns?.close();
});

/** Moves the stand-in's clock so the tokens the pool logged in with are expired there, then revalidates. */
async function expireOpenSessions(events: EntraSequelizeEvent[]): Promise<number[]> {
  const expiries = ofType(events, "connection-opened").map((e) => e.tokenExpiresOnTimestamp ?? 0);
  standIns.sql.clockOffsetMs = SERVER_CLOCK_AHEAD_MS;
  const wait = Math.max(...expiries) - SERVER_CLOCK_AHEAD_MS + 100 - Date.now();
  if (wait > 0) await sleep(wait);
  const stale = standIns.sql.sessions.map((s) => s.id);
  expect(standIns.sql.revalidate()).toBe(stale.length);
  return stale;
}

async function sessionsGone(ids: number[]): Promise<boolean> {
  return until(
    () => !standIns.sql.sessions.some((s) => ids.includes(s.id)),
    () => sleep(25),
    5_000,
  );
}

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  const table = `st_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  function setUp(pool: Record<string, unknown>) {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: 2_000,
      minimumValidityInMs: 1_000,
    });
    const { events, onEvent } = recorder();
    const sequelize: AnySequelize = withEntraTokens(v.create(sequelizeOptions(standIns, pool)), {
      tokenSource,
      ...modeOptions(tokenMode),
      maxAgeInMs: null,
      tokenExpiryMarginInMs: 0,
      onEvent,
    });
    return { tokenSource, events, sequelize };
  }

  const ids = async (sequelize: AnySequelize, name: string) =>
    ((await sequelize.query(`SELECT id FROM ${name}`))[0] as Array<{ id: number }>)
      .map((r) => r.id)
      .sort((a, b) => a - b);

  it("outside transactions: refused statements run once more on fresh connections, none fails, each runs once", async () => {
    const { tokenSource, events, sequelize } = setUp({ min: 0, max: 4 });
    const name = `${table}_retry`;
    try {
      await sequelize.query(`CREATE TABLE ${name} (id INT)`);
      await Promise.all(Array.from({ length: 8 }, () => sequelize.query("SELECT 1 AS one")));
      await until(
        () => standIns.sql.sessions.length >= 2,
        () => sleep(25),
        3_000,
      );
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = await expireOpenSessions(events);
      expect(stale.length).toBeGreaterThanOrEqual(1);

      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => sequelize.query(`INSERT INTO ${name} (id) VALUES (${i})`)),
      );
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
      const rejected = standIns.sql.counters.statementsRejected - rejectedBefore;
      expect(rejected).toBeGreaterThan(0);
      expect(ofType(events, "statement-retried")).toHaveLength(rejected);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.reason === "session-token-expired" && e.at === "statement",
        ).length,
      ).toBeGreaterThan(0);
      // Each INSERT ran exactly once: the refused ones were not executed, their retries were.
      expect(await ids(sequelize, name)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(await sessionsGone(stale)).toBe(true);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);

  it("inside a transaction: a named error with the cause, no ROLLBACK sent, nothing committed, the pool goes on", async () => {
    const { tokenSource, events, sequelize } = setUp({ min: 0, max: 1 });
    const name = `${table}_trx`;
    try {
      await sequelize.query(`CREATE TABLE ${name} (id INT)`);
      let stale: number[] = [];
      let rejectedBefore = 0;
      const error = await sequelize
        .transaction(async (transaction) => {
          await sequelize.query(`INSERT INTO ${name} (id) VALUES (1)`, { transaction });
          rejectedBefore = standIns.sql.counters.statementsRejected;
          stale = await expireOpenSessions(events);
          expect(stale.length).toBe(1);
          await sequelize.query(`INSERT INTO ${name} (id) VALUES (2)`, { transaction });
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isSessionTokenExpiredError(error)).toBe(true);
      if (!isSessionTokenExpiredError(error)) return;
      expect(error.during).toBe("transaction");
      expect(error.message).toMatch(/^@entra-sql\/sequelize: /);
      expect(ofType(events, "statement-retried")).toEqual([]);
      // One statement refused (the INSERT); Sequelize's rollback sent no ROLLBACK on the refused session (it
      // would have been refused too, and its error would have replaced ours): the session was closed.
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(await sessionsGone(stale)).toBe(true);
      standIns.sql.clockOffsetMs = 0;

      // The pool goes on with a fresh connection; nothing of the refused transaction was committed.
      await sequelize.transaction(async (transaction) => {
        await sequelize.query(`INSERT INTO ${name} (id) VALUES (3)`, { transaction });
      });
      expect(await ids(sequelize, name)).toEqual([3]);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);

  it("a refused COMMIT: a named error, nothing committed, the pool goes on", async () => {
    const { tokenSource, events, sequelize } = setUp({ min: 0, max: 1 });
    const name = `${table}_commit`;
    try {
      await sequelize.query(`CREATE TABLE ${name} (id INT)`);
      let stale: number[] = [];
      const error = await sequelize
        .transaction(async (transaction) => {
          await sequelize.query(`INSERT INTO ${name} (id) VALUES (1)`, { transaction });
          stale = await expireOpenSessions(events);
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isSessionTokenExpiredError(error)).toBe(true);
      if (!isSessionTokenExpiredError(error)) return;
      expect(error.during).toBe("transaction");
      expect(await sessionsGone(stale)).toBe(true);
      standIns.sql.clockOffsetMs = 0;
      expect(await ids(sequelize, name)).toEqual([]);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);

  it("a refused BEGIN moves the transaction to a fresh connection, which commits it", async () => {
    const { tokenSource, events, sequelize } = setUp({ min: 0, max: 1 });
    const name = `${table}_begin`;
    try {
      await sequelize.query(`CREATE TABLE ${name} (id INT)`);
      await expireOpenSessions(events);
      let calls = 0;
      await sequelize.transaction(async (transaction) => {
        calls++;
        await sequelize.query(`INSERT INTO ${name} (id) VALUES (7)`, { transaction });
      });
      expect(calls).toBe(1);
      expect(ofType(events, "statement-retried")).toHaveLength(1);
      expect(await ids(sequelize, name)).toEqual([7]);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);

  it("a principal revoked mid-run is recovered by one forced token refresh, with no failed query", async () => {
    standIns.entra.settings.tokenLifetimeSeconds = 3600;
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: 2 })), {
      tokenSource,
      ...modeOptions(tokenMode),
      maxAgeInMs: 1000, // new logins keep coming during the run
      maxAgeJitterRatio: 0,
      onEvent,
    });
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    let failed = 0;
    try {
      const run = () =>
        Promise.allSettled([
          sequelize.query("SELECT 1 AS a"),
          sequelize.query("SELECT 2 AS b"),
          sequelize.query("SELECT 3 AS c"),
        ]).then((outcomes) => {
          failed += outcomes.filter((o) => o.status === "rejected").length;
        });
      await run();
      const requestsBefore = identityRequests(standIns);
      standIns.sql.revokePrincipal(app.objectId);
      const recovered = await until(
        () =>
          ofType(events, "login-retried").length > 0 &&
          ofType(events, "connection-opened").some((e) => e.attempt === 2),
        async () => {
          await run();
          await sleep(50);
        },
        10_000,
      );
      for (let i = 0; i < 3; i++) await run();
      expect(recovered).toBe(true);
      expect(failed).toBe(0);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await sequelize.close();
      tokenSource.close();
    }
  }, 30_000);
});
