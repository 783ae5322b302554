import { createEntraKnexConfig, type EntraKnexEvent, type TokenMode } from "@entra-sql/knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { ClosedSessionInfo } from "../../support/tds/index.js";
import { appTokenSource, eventually, registerApp } from "../mssql/defect-fixtures.js";
import {
  type KnexVersion,
  knexConfig,
  modeOptions,
  OLDEST_AND_NEWEST,
  ofType,
  recorder,
  versionModes,
} from "./helpers.js";

// Idle pooled connections are closed when they pass their retire time, by the pool itself (the same
// scenarios as the mssql suite's file, with the oldest and the newest supported Knex): without an
// acquire or a release, a pool nobody uses would keep its sessions open past max age and past their
// token. Never a connection in use: one held by a transaction longer than the max age keeps working,
// and is closed when it comes back. Everything is checked against the SQL stand-in's session records.
//
// Bounds: each wait polls the server until the sessions are gone, up to 3x the age or token bound, so a
// loaded machine only slows the test; a session may outlive its retire time by at most TOLERANCE_MS.

const MAX_AGE_MS = 2_000;
const TOLERANCE_MS = 1_000;
const TOKEN_LIFETIME_S = 12;
/** The automatic token margin for 12 s tokens: min(60 s, lifetime / 10). */
const AUTO_MARGIN_MS = 1_200;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterAll(async () => {
  await standIns?.close();
});

type Options = Parameters<typeof createEntraKnexConfig>[2];

/** A Knex instance for `app`, and the sessions it opened according to the server. */
function openKnex(v: KnexVersion, tokenMode: TokenMode, label: string, options: Options) {
  const app = registerApp(standIns, label);
  const tokenSource = appTokenSource(standIns, app);
  const { events, onEvent } = recorder();
  const loginsBefore = standIns.sql.logins.length;
  const db = v.create({
    ...createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 4 }), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
      ...options,
    }),
    acquireConnectionTimeout: 10_000,
  });
  const sessionIds = () =>
    standIns.sql.logins
      .slice(loginsBefore)
      .filter((login) => login.ok && login.principal?.appId === app.clientId)
      .map((login) => login.sessionId);
  const open = () => standIns.sql.sessions.filter((s) => sessionIds().includes(s.id));
  const closed = () => standIns.sql.closedSessions.filter((s) => sessionIds().includes(s.id));
  const close = async () => {
    await db.destroy();
    tokenSource.close();
  };
  return { db, events, sessionIds, open, closed, close };
}

const retiredEvents = (events: EntraKnexEvent[]) => ofType(events, "connection-retired");

const livedMs = (session: ClosedSessionInfo) => session.closedAt.getTime() - session.loginAt.getTime();

/** Starts the queries now (Knex builders run when awaited) and waits for all of them. */
const runAll = (queries: PromiseLike<unknown>[]) => Promise.all(queries.map((q) => Promise.resolve(q)));

describe.each(versionModes(OLDEST_AND_NEWEST))("max age, %s", (_, v, tokenMode) => {
  it("idle connections are closed at max age without any acquire; one in a long transaction only when released", async () => {
    const knex = openKnex(v, tokenMode, `age-${v.version}-${tokenMode}`, {
      maxAgeInMs: MAX_AGE_MS,
      maxAgeJitterRatio: 0,
    });
    try {
      // Four connections at once, then idle.
      await runAll(Array.from({ length: 4 }, (_, i) => knex.db.raw("select ? as n", [i])));
      // Four acquires waited at once: four logins (one connection may have run two of the queries).
      expect(await eventually(() => knex.open().length === 4, 10_000)).toBe(true);

      // Inside the transaction only what the server shows is collected; the checks come after it (an
      // assertion error thrown through Knex's transaction crashes vitest's worker channel).
      const seen = {
        heldId: -1,
        heldLoginAt: 0,
        idleIds: [] as number[],
        idleGone: false,
        heldPastMaxAge: false,
        openAfterMaxAge: [] as number[],
        rows: undefined as unknown,
      };
      await knex.db.transaction(async (trx) => {
        await trx.raw("select 1 as one");
        const held = knex.open().find((s) => s.inTransaction);
        seen.heldId = held?.id ?? -1;
        seen.heldLoginAt = held?.loginAt.getTime() ?? 0;
        // Idle in the pool from now on: nothing acquires or releases a connection until the commit.
        seen.idleIds = knex
          .open()
          .map((s) => s.id)
          .filter((id) => id !== seen.heldId);
        // The idle ones go by themselves.
        seen.idleGone = await eventually(
          () => !knex.open().some((s) => seen.idleIds.includes(s.id)),
          3 * MAX_AGE_MS,
        );
        // The held one is past its max age, still open, and still works.
        seen.heldPastMaxAge = await eventually(
          () => Date.now() - seen.heldLoginAt > MAX_AGE_MS + 200,
          3 * MAX_AGE_MS,
        );
        seen.openAfterMaxAge = knex.open().map((s) => s.id);
        seen.rows = await trx.raw("select 2 as two");
      });

      expect(seen.heldId).toBeGreaterThan(0);
      expect(seen.idleIds.length).toBeGreaterThanOrEqual(2);
      expect(seen.idleGone).toBe(true);
      expect(knex.closed().filter((s) => seen.idleIds.includes(s.id))).toHaveLength(seen.idleIds.length);
      // No session but the held one lived past its max age (a loaded machine may have retired one at the
      // transaction's acquire already: that one is closed too).
      for (const session of knex.closed().filter((s) => s.id !== seen.heldId)) {
        expect(session.closeReason).toBe("client");
        expect(livedMs(session)).toBeLessThanOrEqual(MAX_AGE_MS + TOLERANCE_MS);
      }
      const idleRetired = retiredEvents(knex.events).filter((e) => e.at === "idle");
      expect(idleRetired.length).toBeGreaterThanOrEqual(seen.idleIds.length);
      for (const event of idleRetired) expect(event.reason).toBe("max-age");
      expect(seen.heldPastMaxAge).toBe(true);
      expect(seen.openAfterMaxAge).toEqual([seen.heldId]);
      expect(seen.rows).toEqual([{ two: 2 }]);

      // Released after the commit: closed at once, past its max age.
      expect(await eventually(() => knex.open().length === 0, 3 * MAX_AGE_MS)).toBe(true);
      const heldClosed = knex.closed().find((s) => s.id === seen.heldId);
      expect(heldClosed?.closeReason).toBe("client");
      expect(livedMs(heldClosed as ClosedSessionInfo)).toBeGreaterThan(MAX_AGE_MS);
      expect(retiredEvents(knex.events).filter((e) => e.at === "release")).toHaveLength(1);
      expect(retiredEvents(knex.events).filter((e) => e.at === "statement")).toEqual([]);
    } finally {
      await knex.close();
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

  for (const [name, v, tokenMode] of versionModes(OLDEST_AND_NEWEST)) {
    it(`${name}: an idle connection is closed at token expiry minus the automatic margin, before expiry`, async ({
      expect,
    }) => {
      const knex = openKnex(v, tokenMode, `token-${v.version}-${tokenMode}`, { maxAgeInMs: null });
      try {
        await runAll(Array.from({ length: 2 }, (_, i) => knex.db.raw("select ? as n", [i])));
        expect(await eventually(() => knex.open().length === 2, 10_000)).toBe(true);
        const sessions = knex.open();
        const expiresAt = Math.max(...sessions.map((s) => s.tokenExpiresAt?.getTime() ?? 0));
        expect(expiresAt - Date.now()).toBeGreaterThan(AUTO_MARGIN_MS + 3_000);

        expect(
          await eventually(() => knex.open().length === 0, expiresAt - Date.now() + 2 * TOLERANCE_MS),
        ).toBe(true);
        for (const session of knex.closed()) {
          const tokenExpiresAt = session.tokenExpiresAt?.getTime() ?? 0;
          const retireAt = tokenExpiresAt - AUTO_MARGIN_MS;
          // Not before its retire time (a larger margin would close it earlier), soon after it, and
          // before the server would hold its token expired.
          expect(session.closedAt.getTime()).toBeGreaterThanOrEqual(retireAt - 100);
          expect(session.closedAt.getTime()).toBeLessThanOrEqual(retireAt + TOLERANCE_MS);
          expect(session.closedAt.getTime()).toBeLessThan(tokenExpiresAt);
        }
        const retired = retiredEvents(knex.events);
        expect(retired.length).toBe(knex.closed().length);
        for (const event of retired) expect(event).toMatchObject({ reason: "token-expiry", at: "idle" });
      } finally {
        await knex.close();
      }
    });
  }
});
