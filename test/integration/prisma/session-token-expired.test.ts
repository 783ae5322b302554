import { inspect } from "node:util";
import { isSessionTokenExpiredError, SessionTokenExpiredError } from "@entra-sql/prisma";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { isRollback, requestsAfterRefusal, standInEvents, tokenLeaks } from "../mssql/defect-fixtures.js";
import { expireOpenSessions, recording, resetClocks, sessionsGone } from "../mssql/stale-sessions.js";
import {
  createTables,
  demoAppTokenSource,
  failureOf,
  ofType,
  type PrismaClient,
  prismaClient,
  TOKEN_MODES,
} from "./helpers.js";

// Error 37396 through a real PrismaClient: after the server revalidates open sessions, a statement on a
// session whose login token expired is refused (not run). Outside a transaction the statement runs once
// more on a freshly logged-in connection (the app sees nothing); inside an interactive `$transaction` the
// app gets our SessionTokenExpiredError (during "transaction", cause: the server's 37396), no ROLLBACK is
// sent on the refused session (closing it ends the transaction at the server), nothing of the transaction
// is visible, and the client goes on.
//
// What Prisma does with it: @prisma/adapter-mssql turns a driver error into a DriverAdapterError only when
// it has a string `code` and a numeric `number` (its isDriverError); SessionTokenExpiredError has no
// `code`, so the adapter rethrows it unchanged and Prisma's client hands that same object to the app
// (adding `clientVersion`): `instanceof SessionTokenExpiredError` and `isSessionTokenExpiredError` hold.
//
// How sessions go stale: ../mssql/stale-sessions.ts (both clocks jump two hours past the one-hour tokens,
// the server revalidates; a new login's cached token is refused "Token is expired" and retried with a fresh
// one). `validateConnection: "socket"` (mssql's option) makes the statement itself meet the refusal rather
// than mssql's `SELECT 1` check on acquire, which retires the connection without a retry (also covered:
// rotation.test.ts and revocation.test.ts run with mssql's default check).

const recorded = standInEvents();
let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: recorded.onEvent } });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => resetClocks(standIns));

afterAll(async () => {
  await standIns?.close();
});

/** Runs rounds of concurrent queries until the pool holds at least two connections (bounded). */
async function openSeveralConnections(prisma: PrismaClient): Promise<void> {
  for (let round = 0; round < 10 && standIns.sql.sessions.length < 2; round++) {
    await Promise.all(Array.from({ length: 8 }, () => prisma.$queryRawUnsafe("SELECT 1 AS one")));
  }
}

describe.each(TOKEN_MODES)("tokenMode %s", (tokenMode) => {
  it("outside a transaction: each refused statement runs once more on a fresh connection, none fails, each runs once", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, {
      pool: { min: 0, max: 4 },
      config: { validateConnection: "socket" },
    });
    try {
      await createTables(prisma);
      const author = await prisma.author.create({ data: { name: "Ada" } });
      await openSeveralConnections(prisma);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const eventsBefore = recorded.events.length;
      const stale = expireOpenSessions(standIns);
      expect(stale.length).toBeGreaterThanOrEqual(2);

      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          i % 2 === 0
            ? prisma.book.create({ data: { title: `b${i}`, authorId: author.id } })
            : prisma.$executeRawUnsafe(
                "INSERT INTO [Book] ([title], [authorId]) VALUES (@P1, @P2)",
                `b${i}`,
                author.id,
              ),
        ),
      );
      expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);

      // Prisma runs a create as its own transaction (BEGIN, INSERT ... OUTPUT, SELECT, COMMIT): a refused
      // BEGIN ran nothing and runs once more on a fresh connection, like a refused $executeRaw.
      // Every statement the server refused ran once more. (A connection whose login was still in flight
      // when the server revalidated can also have tedious' login batch, `set ansi_nulls on ...`, refused;
      // that is no statement of the app's and is not retried: its connection's first statement is.)
      const refused = recorded.events
        .slice(eventsBefore)
        .filter((e) => e.type === "request" && e.errorNumbers.includes(37396));
      expect(refused.length).toBe(standIns.sql.counters.statementsRejected - rejectedBefore);
      const statements = refused.filter(
        (e) => e.type === "request" && !e.summary.startsWith("set ansi_nulls"),
      );
      expect(statements.length).toBeGreaterThan(0);
      expect(ofType(events, "statement-retried")).toHaveLength(statements.length);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.reason === "session-token-expired" && e.at === "statement",
        ).length,
      ).toBeGreaterThan(0);
      // The pool still trusted those tokens (one hour on its clock); the server did not.
      expect(ofType(events, "connection-retired").filter((e) => e.reason === "token-expiry")).toEqual([]);

      // Each INSERT ran exactly once: the refused ones were not executed, their retries were.
      const titles = (await prisma.book.findMany({ select: { title: true } })).map((b) => b.title);
      expect(titles.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `b${i}`).sort());
      expect(await sessionsGone(standIns, stale)).toBe(true);
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(4);
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  }, 20_000);

  it("inside an interactive $transaction: the app gets SessionTokenExpiredError, no ROLLBACK on that session, nothing committed", async () => {
    const { tokenSource, tokens } = recording(demoAppTokenSource(standIns));
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, {
      pool: { min: 0, max: 2 },
      config: { validateConnection: "socket" },
    });
    try {
      await createTables(prisma);
      const author = await prisma.author.create({ data: { name: "Ada" } });
      let sessionId = -1;
      const error = await failureOf(
        prisma.$transaction(async (tx) => {
          await tx.book.create({ data: { title: "first", authorId: author.id } });
          sessionId = standIns.sql.sessions.find((s) => s.inTransaction)?.id ?? -1;
          expireOpenSessions(standIns);
          await tx.book.create({ data: { title: "second", authorId: author.id } });
        }),
      );

      // The app sees our error, not a Prisma wrapper.
      expect(error).toBeInstanceOf(SessionTokenExpiredError);
      expect(isSessionTokenExpiredError(error)).toBe(true);
      const named = error as SessionTokenExpiredError & { clientVersion?: string };
      expect(named.during).toBe("transaction");
      expect(named.number).toBe(37396);
      expect(named.message).toMatch(/error 37396/);
      expect(named.message).toMatch(/the transaction was NOT committed/);
      expect(String((named.cause as Error).message)).toMatch(/access token is expired/);
      expect(named.clientVersion).toMatch(/^7\./);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expect(
        ofType(events, "connection-retired").filter((e) => e.reason === "session-token-expired").length,
      ).toBeGreaterThan(0);

      // The refused session got no ROLLBACK (Prisma rolled back through mssql's Transaction): it was closed.
      expect(sessionId).toBeGreaterThan(0);
      expect(await sessionsGone(standIns, [sessionId])).toBe(true);
      const { refused, after } = requestsAfterRefusal(recorded.events, sessionId);
      expect(refused).toBe(true);
      expect(after.filter(isRollback)).toEqual([]);
      expect(standIns.sql.closedSessions.find((s) => s.id === sessionId)?.closeReason).toBe("client");

      // Nothing of the transaction is visible, and the client goes on with fresh connections.
      expect(await prisma.book.count()).toBe(0);
      await prisma.$transaction(async (tx) => {
        await tx.book.create({ data: { title: "again", authorId: author.id } });
      });
      expect((await prisma.book.findMany()).map((b) => b.title)).toEqual(["again"]);

      // No token in what the app sees.
      const printed = [
        named.message,
        named.stack,
        inspect(named, { depth: 8, showHidden: true }),
        JSON.stringify(events),
      ].join("\n");
      expect(tokenLeaks(printed, [...tokens])).toEqual([]);
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  }, 20_000);
});
