import type { EntraPrismaEvent } from "@entra-sql/prisma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { ClosedSessionInfo } from "../../support/tds/index.js";
import { appTokenSource, eventually, registerApp } from "../mssql/defect-fixtures.js";
import { createTables, demoAppTokenSource, ofType, prismaClient, type TokenMode } from "./helpers.js";

// Idle pooled connections of a PrismaClient are closed when they pass their retire time, by the pool
// itself (the mssql suite's defect-idle-retirement scenario): a client nobody uses would otherwise keep its
// sessions open past max age and past their token. Never a connection in use: one held by an interactive
// $transaction longer than the max age keeps working, and is closed when it comes back. Checked against
// the SQL stand-in's session records (login and close times), not the client's word.
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
  const tokenSource = demoAppTokenSource(standIns);
  const { prisma } = prismaClient(standIns, tokenSource, "inline");
  try {
    await createTables(prisma);
  } finally {
    await prisma.$disconnect();
    tokenSource.close();
  }
});

afterAll(async () => {
  await standIns?.close();
});

type Options = Parameters<typeof prismaClient>[3];

/** A PrismaClient for an app of its own, connected (mssql's probe login comes and goes); its sessions after. */
async function openClient(tokenMode: TokenMode, label: string, options: Options) {
  const app = registerApp(standIns, label);
  const tokenSource = appTokenSource(standIns, app);
  const client = prismaClient(standIns, tokenSource, tokenMode, { pool: { min: 0, max: 4 }, ...options });
  await client.prisma.$connect();
  const loginsAfterConnect = standIns.sql.logins.length;
  /** Sessions this client opened after $connect(): ids from the server's login records. */
  const sessionIds = () =>
    standIns.sql.logins
      .slice(loginsAfterConnect)
      .filter((login) => login.ok && login.principal?.appId === app.clientId)
      .map((login) => login.sessionId);
  const open = () => standIns.sql.sessions.filter((s) => sessionIds().includes(s.id));
  const closed = () => standIns.sql.closedSessions.filter((s) => sessionIds().includes(s.id));
  const close = async () => {
    await client.prisma.$disconnect();
    tokenSource.close();
  };
  return { ...client, open, closed, close };
}

const retired = (events: EntraPrismaEvent[]) => ofType(events, "connection-retired");
const livedMs = (session: ClosedSessionInfo) => session.closedAt.getTime() - session.loginAt.getTime();

describe.each(MODES)("max age, tokenMode %s", (tokenMode) => {
  it("idle connections are closed at max age without any query; one in a long $transaction only when it ends", async () => {
    const client = await openClient(tokenMode, `prisma-age-${tokenMode}`, {
      maxAgeInMs: MAX_AGE_MS,
      maxAgeJitterRatio: 0,
    });
    const { prisma } = client;
    try {
      // Four connections at once, then idle.
      for (let round = 0; round < 10 && client.open().length < 4; round++) {
        await Promise.all(Array.from({ length: 8 }, (_, i) => prisma.$queryRawUnsafe(`SELECT ${i} AS n`)));
      }
      expect(client.open().length).toBeGreaterThanOrEqual(3);

      let heldId = -1;
      let heldLoginAt = 0;
      const idleIds: number[] = [];
      await prisma.$transaction(
        async (tx) => {
          await tx.$queryRawUnsafe("SELECT 1 AS one");
          const held = client.open().find((s) => s.inTransaction);
          expect(held).toBeDefined();
          heldId = held?.id ?? -1;
          heldLoginAt = held?.loginAt.getTime() ?? 0;
          // Idle in the pool from now on: nothing acquires or releases a connection until the commit.
          idleIds.push(
            ...client
              .open()
              .map((s) => s.id)
              .filter((id) => id !== heldId),
          );
          expect(idleIds.length).toBeGreaterThanOrEqual(2);

          // The idle ones go by themselves: no query, no release happens while we wait.
          expect(
            await eventually(() => !client.open().some((s) => idleIds.includes(s.id)), 3 * MAX_AGE_MS),
          ).toBe(true);
          // The held one is past its max age, still open, and still works.
          expect(await eventually(() => Date.now() - heldLoginAt > MAX_AGE_MS + 200, 3 * MAX_AGE_MS)).toBe(
            true,
          );
          expect(client.open().map((s) => s.id)).toEqual([heldId]);
          expect(await tx.$queryRawUnsafe("SELECT 2 AS two")).toEqual([{ two: 2 }]);
        },
        { maxWait: 10_000, timeout: 20_000 },
      );

      expect(client.closed().filter((s) => idleIds.includes(s.id))).toHaveLength(idleIds.length);
      const idleRetired = retired(client.events).filter((e) => e.at === "idle");
      expect(idleRetired.length).toBeGreaterThanOrEqual(idleIds.length);
      for (const event of idleRetired) expect(event.reason).toBe("max-age");

      // Released: closed at once, past its max age.
      expect(await eventually(() => client.open().length === 0, 3 * MAX_AGE_MS)).toBe(true);
      for (const session of client.closed()) {
        expect(session.closeReason).toBe("client");
        if (session.id !== heldId) expect(livedMs(session)).toBeLessThanOrEqual(MAX_AGE_MS + TOLERANCE_MS);
      }
      const heldClosed = client.closed().find((s) => s.id === heldId);
      expect(livedMs(heldClosed as ClosedSessionInfo)).toBeGreaterThan(MAX_AGE_MS);
      expect(retired(client.events).filter((e) => e.at === "release")).toHaveLength(1);
      expect(retired(client.events).filter((e) => e.at === "statement")).toEqual([]);
    } finally {
      await client.close();
    }
  }, 30_000);
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
      const client = await openClient(tokenMode, `prisma-token-${tokenMode}`, { maxAgeInMs: null });
      try {
        for (let round = 0; round < 10 && client.open().length < 2; round++) {
          await Promise.all(
            Array.from({ length: 4 }, (_, i) => client.prisma.$queryRawUnsafe(`SELECT ${i} AS n`)),
          );
        }
        expect(client.open().length).toBeGreaterThanOrEqual(2);
        const sessions = client.open();
        const expiresAt = Math.max(...sessions.map((s) => s.tokenExpiresAt?.getTime() ?? 0));
        expect(expiresAt - Date.now()).toBeGreaterThan(AUTO_MARGIN_MS + 3_000);

        expect(
          await eventually(() => client.open().length === 0, expiresAt - Date.now() + 2 * TOLERANCE_MS),
        ).toBe(true);
        for (const session of client.closed()) {
          const tokenExpiresAt = session.tokenExpiresAt?.getTime() ?? 0;
          const retireAt = tokenExpiresAt - AUTO_MARGIN_MS;
          // Not before its retire time (a larger margin would close it earlier), soon after it, and
          // before the server would hold its token expired.
          expect(session.closedAt.getTime()).toBeGreaterThanOrEqual(retireAt - 100);
          expect(session.closedAt.getTime()).toBeLessThanOrEqual(retireAt + TOLERANCE_MS);
          expect(session.closedAt.getTime()).toBeLessThan(tokenExpiresAt);
        }
        const retiredEvents = retired(client.events);
        expect(retiredEvents.length).toBe(client.closed().length);
        for (const event of retiredEvents)
          expect(event).toMatchObject({ reason: "token-expiry", at: "idle" });
      } finally {
        await client.close();
      }
    }, 30_000);
  }
});
