import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { ClosedSessionInfo } from "../../support/tds/index.js";
import { appTokenSource, eventually, registerApp } from "./defect-fixtures.js";
import { mssqlConfig, SQL_SCOPE } from "./helpers.js";

// Idle pooled connections are closed when they pass their retire time, by the pool itself: without an
// acquire or a release, a pool nobody uses would keep its sessions open past max age and past their
// token. Never a connection in use: one held by a transaction longer than the max age keeps working,
// and is closed when it comes back. Everything is checked against the SQL stand-in's session records
// (login and close times), not the client's word.
//
// Bounds: each wait polls the server until the sessions are gone, up to 3x the age or token bound, so a
// loaded machine only slows the test; a session may outlive its retire time by at most TOLERANCE_MS.

const MAX_AGE_MS = 2_000;
const TOLERANCE_MS = 1_000;
const TOKEN_LIFETIME_S = 12;
/** The automatic token margin for 12 s tokens: min(60 s, lifetime / 10). */
const AUTO_MARGIN_MS = 1_200;
const MODES = ["inline", "token-credential"] as const;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterAll(async () => {
  await standIns?.close();
});

type Options = Parameters<typeof createEntraMssql>[1];

/** A pool of this module for `app`, connected (mssql's probe login comes and goes); its sessions after. */
async function openPool(tokenMode: (typeof MODES)[number], label: string, options: Options) {
  const app = registerApp(standIns, label);
  const tokenSource = appTokenSource(standIns, app);
  const events: EntraMssqlEvent[] = [];
  const sql = createEntraMssql(mssql, {
    tokenSource,
    tokenMode,
    ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
    onEvent: (event) => events.push(event),
    ...options,
  });
  const pool = await new sql.ConnectionPool(
    mssqlConfig(standIns, { min: 0, max: 4, acquireTimeoutMillis: 10_000 }),
  ).connect();
  const loginsAfterConnect = standIns.sql.logins.length;
  /** Sessions this pool opened after connect(): ids from the server's login records. */
  const sessionIds = () =>
    standIns.sql.logins
      .slice(loginsAfterConnect)
      .filter((login) => login.ok && login.principal?.appId === app.clientId)
      .map((login) => login.sessionId);
  const open = () => standIns.sql.sessions.filter((s) => sessionIds().includes(s.id));
  const closed = () => standIns.sql.closedSessions.filter((s) => sessionIds().includes(s.id));
  const close = async () => {
    await pool.close();
    tokenSource.close();
  };
  return { sql, pool, events, sessionIds, open, closed, close };
}

const retiredEvents = (events: EntraMssqlEvent[]) =>
  events.filter(
    (e): e is Extract<EntraMssqlEvent, { type: "connection-retired" }> => e.type === "connection-retired",
  );

const livedMs = (session: ClosedSessionInfo) => session.closedAt.getTime() - session.loginAt.getTime();

describe.each(MODES)("max age, tokenMode %s", (tokenMode) => {
  it("idle connections are closed at max age without any acquire; one in a long transaction only when released", async () => {
    const pool = await openPool(tokenMode, `age-${tokenMode}`, {
      maxAgeInMs: MAX_AGE_MS,
      maxAgeJitterRatio: 0,
    });
    let transaction: mssql.Transaction | undefined;
    let committed = false;
    try {
      // Four connections at once, then idle.
      await Promise.all(Array.from({ length: 4 }, (_, i) => pool.pool.query(`SELECT ${i} AS n`)));
      // Four acquires waited at once: four logins (one connection may have run two of the queries).
      expect(await eventually(() => pool.open().length === 4, 10_000)).toBe(true);

      // One of them is held by a transaction for longer than the max age.
      transaction = new pool.sql.Transaction(pool.pool);
      await transaction.begin();
      await transaction.request().query("SELECT 1 AS one");
      const held = pool.open().find((s) => s.inTransaction);
      expect(held).toBeDefined();
      const heldId = held?.id ?? -1;
      // Idle in the pool from now on: nothing acquires or releases a connection until the commit.
      const idleIds = pool
        .open()
        .map((s) => s.id)
        .filter((id) => id !== heldId);
      expect(idleIds.length).toBeGreaterThanOrEqual(2);

      // The idle ones go by themselves: no acquire, no release happens while we wait.
      expect(await eventually(() => !pool.open().some((s) => idleIds.includes(s.id)), 3 * MAX_AGE_MS)).toBe(
        true,
      );
      expect(pool.closed().filter((s) => idleIds.includes(s.id))).toHaveLength(idleIds.length);
      // No session of the pool but the held one lived past its max age (a loaded machine may have
      // retired one at the transaction's acquire already: that one is closed too).
      for (const session of pool.closed()) {
        expect(session.closeReason).toBe("client");
        expect(livedMs(session)).toBeLessThanOrEqual(MAX_AGE_MS + TOLERANCE_MS);
      }
      const idleRetired = retiredEvents(pool.events).filter((e) => e.at === "idle");
      expect(idleRetired.length).toBeGreaterThanOrEqual(idleIds.length);
      for (const event of idleRetired) expect(event.reason).toBe("max-age");

      // The held one is past its max age, still open, and still works.
      expect(
        await eventually(
          () => Date.now() - (held?.loginAt.getTime() ?? 0) > MAX_AGE_MS + 200,
          3 * MAX_AGE_MS,
        ),
      ).toBe(true);
      expect(pool.open().map((s) => s.id)).toEqual([heldId]);
      const after = await transaction.request().query<{ two: number }>("SELECT 2 AS two");
      expect(after.recordset).toEqual([{ two: 2 }]);
      await transaction.commit();
      committed = true;

      // Released: closed at once, past its max age.
      expect(await eventually(() => pool.open().length === 0, 3 * MAX_AGE_MS)).toBe(true);
      const heldClosed = pool.closed().find((s) => s.id === heldId);
      expect(heldClosed?.closeReason).toBe("client");
      expect(livedMs(heldClosed as ClosedSessionInfo)).toBeGreaterThan(MAX_AGE_MS);
      expect(retiredEvents(pool.events).filter((e) => e.at === "release")).toHaveLength(1);
      expect(retiredEvents(pool.events).filter((e) => e.at === "statement")).toEqual([]);
    } finally {
      // A failed check leaves the transaction open, and the pool's close would wait for it.
      if (transaction !== undefined && !committed) await transaction.rollback().catch(() => undefined);
      await pool.close();
    }
  });
});

describe.concurrent("token bound (12 s tokens, no age cap)", () => {
  beforeAll(() => {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
  });

  afterAll(() => {
    standIns.entra.settings.reset();
  });

  for (const tokenMode of MODES) {
    it(`tokenMode ${tokenMode}: an idle connection is closed at token expiry minus the automatic margin, before expiry`, async ({
      expect,
    }) => {
      const pool = await openPool(tokenMode, `token-${tokenMode}`, { maxAgeInMs: null });
      try {
        await Promise.all(Array.from({ length: 2 }, (_, i) => pool.pool.query(`SELECT ${i} AS n`)));
        expect(await eventually(() => pool.open().length === 2, 10_000)).toBe(true);
        const sessions = pool.open();
        const expiresAt = Math.max(...sessions.map((s) => s.tokenExpiresAt?.getTime() ?? 0));
        expect(expiresAt - Date.now()).toBeGreaterThan(AUTO_MARGIN_MS + 3_000);

        expect(
          await eventually(() => pool.open().length === 0, expiresAt - Date.now() + 2 * TOLERANCE_MS),
        ).toBe(true);
        for (const session of pool.closed()) {
          const tokenExpiresAt = session.tokenExpiresAt?.getTime() ?? 0;
          const retireAt = tokenExpiresAt - AUTO_MARGIN_MS;
          // Not before its retire time (a larger margin would close it earlier), soon after it, and
          // before the server would hold its token expired.
          expect(session.closedAt.getTime()).toBeGreaterThanOrEqual(retireAt - 100);
          expect(session.closedAt.getTime()).toBeLessThanOrEqual(retireAt + TOLERANCE_MS);
          expect(session.closedAt.getTime()).toBeLessThan(tokenExpiresAt);
        }
        const retired = retiredEvents(pool.events);
        expect(retired.length).toBe(pool.closed().length);
        for (const event of retired) expect(event).toMatchObject({ reason: "token-expiry", at: "idle" });
      } finally {
        await pool.close();
      }
    });
  }
});
