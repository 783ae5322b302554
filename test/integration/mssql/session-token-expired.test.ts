import {
  createEntraMssql,
  type EntraMssqlEvent,
  isSessionTokenExpiredError,
  SessionTokenExpiredError,
} from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, mssqlConfig, recorder, SQL_SCOPE, sleep } from "./helpers.js";

// Error 37396 at statement time: after the server revalidates open sessions, a statement on a session
// whose login token expired is refused (not run). The pool destroys that connection; outside a
// transaction the statement runs again, once, on a freshly logged-in connection; inside one the caller
// gets a SessionTokenExpiredError.
//
// How the sessions go stale while the pool still trusts their tokens: 8 s tokens, no clock skew
// allowance at the stand-in, and the stand-in's clock 6.5 s ahead. 1.5 s after the pool's logins, the
// server holds their token expired (the pool would retire them only at 8 s); a new login with the
// cached token is refused "Token is expired" and retried with a fresh one, which the server accepts
// for 1.5 s more (and a later refusal would be retried the same way): the statements after revalidate()
// run well within that.

const TOKEN_LIFETIME_S = 8;
const SERVER_CLOCK_AHEAD_MS = 6_500;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { clockSkewSeconds: 0 } });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
  standIns.sql.clockOffsetMs = 0;
});

afterAll(async () => {
  await standIns?.close();
});

const ofType = <T extends EntraMssqlEvent["type"]>(events: EntraMssqlEvent[], type: T) =>
  events.filter((e): e is Extract<EntraMssqlEvent, { type: T }> => e.type === type);

/**
 * Opens several connections: concurrent statements make the pool create one per waiting request (the
 * stand-in's engine runs them one at a time, so transactions could not be used for this).
 */
async function warm(pool: mssql.ConnectionPool, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count * 2 }, () => pool.query("SELECT 1 AS one")));
}

/** Moves the stand-in's clock so the tokens the pool logged in with are expired there, then revalidates. */
async function expireOpenSessions(events: EntraMssqlEvent[]): Promise<number[]> {
  const expiries = ofType(events, "connection-opened").map((e) => e.tokenExpiresOnTimestamp ?? 0);
  const latest = Math.max(...expiries);
  standIns.sql.clockOffsetMs = SERVER_CLOCK_AHEAD_MS;
  const wait = latest - SERVER_CLOCK_AHEAD_MS + 100 - Date.now();
  if (wait > 0) await sleep(wait);
  const stale = standIns.sql.sessions.map((s) => s.id);
  expect(standIns.sql.revalidate()).toBe(stale.length);
  return stale;
}

async function sessionsGone(ids: number[]): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (!standIns.sql.sessions.some((s) => ids.includes(s.id))) return true;
    await sleep(25);
  }
  return false;
}

describe.each(["inline", "token-credential"] as const)("error 37396, tokenMode %s", (tokenMode) => {
  const modeOptions = tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };

  function setUp() {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: 2_000,
      minimumValidityInMs: 1_000,
    });
    const { events, onEvent } = recorder();
    const sql = createEntraMssql(mssql, {
      tokenSource,
      ...modeOptions,
      maxAgeInMs: null,
      tokenExpiryMarginInMs: 0,
      onEvent,
    });
    return { tokenSource, events, sql };
  }

  // mssql's default validation runs SELECT 1 on every acquire: that is what meets the 37396 first, and the
  // pool then destroys the connection before the statement is sent. With `validateConnection: "socket"`
  // (no query on acquire) the statement itself is refused and retried.
  it.each([
    ["default validation (SELECT 1)", true],
    ['validateConnection "socket"', "socket"],
  ] as const)(
    "outside transactions, %s: destroys the refused connections, runs each statement exactly once",
    async (_, validateConnection) => {
      const { tokenSource, events, sql } = setUp();
      const table = `retried_${tokenMode.replace("-", "_")}_${validateConnection === true ? "v" : "s"}`;
      const config = { ...mssqlConfig(standIns, { max: 4 }), validateConnection } as unknown as mssql.config;
      const pool = await new sql.ConnectionPool(config).connect();
      const other = await new sql.ConnectionPool(config).connect();
      try {
        await pool.request().query(`CREATE TABLE ${table} (id INT)`);
        await warm(pool, 4);
        await other.query("SELECT 1 AS one"); // connect() closes its probe connection
        const rejectedBefore = standIns.sql.counters.statementsRejected;
        const stale = await expireOpenSessions(events);
        expect(stale.length).toBeGreaterThanOrEqual(3);

        // A transaction begun on a stale connection of a second pool: the refused BEGIN ran nothing and
        // is retried. (On the first pool that retry would retire every older idle connection on its way
        // to a fresh one, and no INSERT below would meet a stale session.)
        const transaction = new sql.Transaction(other);
        await transaction.begin();
        await transaction.request().query(`INSERT INTO ${table} (id) VALUES (100)`);
        await transaction.commit();

        // Three ways in: pool.request(), new sql.Request(pool), pool.query().
        const statements = Array.from({ length: 12 }, (_, i) => {
          if (i % 3 === 0)
            return pool.request().input("id", sql.Int, i).query(`INSERT INTO ${table} (id) VALUES (@id)`);
          if (i % 3 === 1)
            return new sql.Request(pool)
              .input("id", sql.Int, i)
              .query(`INSERT INTO ${table} (id) VALUES (@id)`);
          return pool.query(`INSERT INTO ${table} (id) VALUES (${i})`);
        });
        const outcomes = await Promise.allSettled(statements);
        expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);

        const rejected = standIns.sql.counters.statementsRejected - rejectedBefore;
        expect(rejected).toBeGreaterThan(0);
        // Each refused statement was retried once (a refused validation query is not a statement).
        const retried = ofType(events, "statement-retried");
        expect(retried.length).toBeLessThanOrEqual(rejected);
        if (validateConnection === "socket") {
          expect(retried.length).toBe(rejected);
          expect(retried.filter((e) => e.method === "begin").length).toBe(1);
          expect(retried.filter((e) => e.method === "query").length).toBeGreaterThan(0);
          expect(retried[0]).toEqual({
            type: "statement-retried",
            reason: "session-token-expired",
            method: "begin",
          });
        }
        const retiredAtStatement = ofType(events, "connection-retired").filter(
          (e) => e.reason === "session-token-expired" && e.at === "statement",
        );
        expect(retiredAtStatement.length).toBeGreaterThan(0);
        // No token-expiry retirement: the pool still trusted those tokens, the server did not.
        expect(ofType(events, "connection-retired").filter((e) => e.reason === "token-expiry")).toEqual([]);

        // Each INSERT ran exactly once: the refused ones were not executed, their retries were.
        const { recordset } = await pool.query<{ id: number }>(`SELECT id FROM ${table}`);
        expect(recordset.map((r) => r.id).sort((a, b) => a - b)).toEqual([
          ...Array.from({ length: 12 }, (_, i) => i),
          100,
        ]);
        const count = await pool.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`);
        expect(count.recordset[0]?.n).toBe(13);

        // The stale sessions are gone at the server; the ones left logged in after the revalidation.
        expect(await sessionsGone(stale)).toBe(true);
        for (const session of standIns.sql.sessions) expect(session.revalidated).toBe(false);
        expect(standIns.sql.sessions.length).toBeLessThanOrEqual(5);
      } finally {
        await other.close();
        await pool.close();
        tokenSource.close();
      }
    },
    15_000,
  );

  it("inside a transaction: a named error, the connection destroyed, the pool still working", async () => {
    const { tokenSource, events, sql } = setUp();
    const table = `in_tx_${tokenMode.replace("-", "_")}`;
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { max: 2 })).connect();
    try {
      await pool.request().query(`CREATE TABLE ${table} (id INT)`);
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await transaction.request().query(`INSERT INTO ${table} (id) VALUES (1)`);
      const stale = await expireOpenSessions(events);
      expect(stale.length).toBe(1);

      const error = await transaction
        .request()
        .query(`INSERT INTO ${table} (id) VALUES (2)`)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(SessionTokenExpiredError);
      expect(isSessionTokenExpiredError(error)).toBe(true);
      const named = error as SessionTokenExpiredError;
      expect(named.during).toBe("transaction");
      expect(named.message).toMatch(/NOT committed/);
      expect(String((named.cause as Error).message)).toMatch(/access token is expired/);
      expect(ofType(events, "statement-retried")).toEqual([]);

      // rollback() releases the dead connection (the server refuses the ROLLBACK too; not an error here).
      await transaction.rollback();
      expect(await sessionsGone(stale)).toBe(true);

      // The pool goes on with a fresh connection; nothing of the refused transaction was committed.
      const next = new sql.Transaction(pool);
      await next.begin();
      await next.request().query(`INSERT INTO ${table} (id) VALUES (3)`);
      await next.commit();
      const { recordset } = await pool.query<{ id: number }>(`SELECT id FROM ${table}`);
      expect(recordset.map((r) => r.id)).toEqual([3]);
      expect(
        ofType(events, "connection-retired").filter((e) => e.reason === "session-token-expired").length,
      ).toBeGreaterThan(0);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  }, 15_000);
});
