import { createEntraKnexConfig, type EntraKnexEvent, isSessionTokenExpiredError } from "@entra-sql/knex";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  type AnyKnex,
  demoApp,
  demoAppTokenSource,
  identityRequests,
  knexConfig,
  modeOptions,
  ofType,
  recorder,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Error 37396 through real Knex: after the server revalidates open sessions, a statement on a session
// whose login token expired is refused (not run). The connection is destroyed; outside a transaction the
// statement runs again, once, on a freshly logged-in connection (zero failed statements under load);
// inside one the caller gets a SessionTokenExpiredError. And a token revoked mid-run costs one forced
// refresh, not a failed query.
//
// How the sessions go stale while the pool still trusts their tokens (as in the mssql suite): 8 s
// tokens, no clock skew allowance at the stand-in, and the stand-in's clock 6.5 s ahead. 1.5 s after the
// pool's logins the server holds their token expired (the pool would retire them only at 8 s); a new
// login with the cached token is refused "Token is expired" and retried with a fresh one, which the
// server accepts for 1.5 s more.

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

/** Moves the stand-in's clock so the tokens the pool logged in with are expired there, then revalidates. */
async function expireOpenSessions(events: EntraKnexEvent[]): Promise<number[]> {
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
  const table = `t_${v.version.replace(".", "")}_${tokenMode.replace("-", "_")}`;

  function setUp(pool: Record<string, unknown>) {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: 2_000,
      minimumValidityInMs: 1_000,
    });
    const { events, onEvent } = recorder();
    const db: AnyKnex = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, pool), {
        tokenSource,
        ...modeOptions(tokenMode),
        maxAgeInMs: null,
        tokenExpiryMarginInMs: 0,
        onEvent,
      }),
    );
    return { tokenSource, events, db };
  }

  it("outside transactions: refused statements run once more on fresh connections, none fails, each runs once", async () => {
    const { tokenSource, events, db } = setUp({ min: 0, max: 4 });
    const name = `${table}_retry`;
    try {
      await db.raw(`CREATE TABLE ${name} (id INT)`);
      // Concurrent statements make the pool open one connection per waiting request.
      await Promise.all(Array.from({ length: 8 }, () => db.raw("select 1 as one")));
      // No login in flight when the server revalidates (on a loaded machine tarn may still be creating
      // one): its login batch would be refused too, which is no statement of the app's to retry.
      const pool = (db.client as { pool: { numPendingCreates(): number } }).pool;
      expect(
        await until(
          () => pool.numPendingCreates() === 0,
          () => sleep(25),
          5_000,
        ),
      ).toBe(true);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = await expireOpenSessions(events);
      expect(stale.length).toBeGreaterThanOrEqual(2);

      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          i % 2 === 0 ? db(name).insert({ id: i }) : db.raw(`INSERT INTO ${name} (id) VALUES (?)`, [i]),
        ),
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
      // The pool still trusted those tokens; the server did not.
      expect(ofType(events, "connection-retired").filter((e) => e.reason === "token-expiry")).toEqual([]);

      // Each INSERT ran exactly once: the refused ones were not executed, their retries were.
      const rows = (await db(name).select("id")) as Array<{ id: number }>;
      expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(await sessionsGone(stale)).toBe(true);
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(4);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  }, 20_000);

  it("inside a transaction: a named error with the cause, the connection destroyed, the pool still working", async () => {
    const { tokenSource, events, db } = setUp({ min: 0, max: 2 });
    const name = `${table}_tx`;
    let stale: number[] = [];
    try {
      await db.raw(`CREATE TABLE ${name} (id INT)`);
      const error = await db
        .transaction(async (trx) => {
          await trx(name).insert({ id: 1 });
          stale = await expireOpenSessions(events);
          await trx(name).insert({ id: 2 });
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isSessionTokenExpiredError(error)).toBe(true);
      if (!isSessionTokenExpiredError(error)) return;
      expect(error.during).toBe("transaction");
      expect(error.message).toMatch(/NOT committed/);
      expect(String((error.cause as Error).message)).toMatch(/access token is expired/);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expect(
        ofType(events, "connection-retired").filter((e) => e.reason === "session-token-expired").length,
      ).toBeGreaterThan(0);
      // Destroyed: the transaction's session is gone at the server.
      expect(stale.length).toBe(1);
      expect(await sessionsGone(stale)).toBe(true);

      // The pool goes on with a fresh connection; nothing of the refused transaction was committed.
      await db.transaction(async (trx) => {
        await trx(name).insert({ id: 3 });
      });
      expect(((await db(name).select("id")) as Array<{ id: number }>).map((r) => r.id)).toEqual([3]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  }, 20_000);

  it("a principal revoked mid-run is recovered by one forced token refresh, with no failed query", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 2 }), {
        tokenSource,
        ...modeOptions(tokenMode),
        maxAgeInMs: 1000, // new logins keep coming during the run
        maxAgeJitterRatio: 0,
        onEvent,
      }),
    );
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    let failed = 0;
    try {
      const run = () =>
        Promise.allSettled([db.raw("select 1 as a"), db.raw("select 2 as b"), db.raw("select 3 as c")]).then(
          (outcomes) => {
            failed += outcomes.filter((o) => o.status === "rejected").length;
          },
        );
      await run();
      const requestsBefore = identityRequests(standIns);
      standIns.sql.revokePrincipal(app.objectId);
      const recovered = await until(
        // Some login was refused and its retry opened a connection (later logins with the fresh token are
        // first attempts again, so the last one opened need not be the retry on a busy machine).
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
      // Logins refused at the same moment each retry once; they share the one forced refresh.
      expect(ofType(events, "login-retried").length).toBeGreaterThanOrEqual(1);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await db.destroy();
      tokenSource.close();
    }
  }, 20_000);
});
