import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  createTables,
  demoApp,
  demoAppTokenSource,
  identityRequests,
  ofType,
  prismaClient,
  sleep,
  TOKEN_MODES,
} from "./helpers.js";

// A token revoked at the server in the middle of a run, through a real PrismaClient under concurrent load:
// the server revalidates its open sessions (their statements are refused with 37396) and refuses logins
// with the revoked token (18456). Access comes back when the app asks for a fresh token (an admin
// re-enabled the identity; Entra ID then issues a token the server accepts). Expected: zero failed
// queries (refused statements run again on fresh connections; mssql's default `SELECT 1` check on acquire
// retires the others), and ONE forced refresh: one invalidation, one identity request.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(TOKEN_MODES)("revocation mid-run, tokenMode %s", (tokenMode, authMode) => {
  it("recovers with one forced refresh and no failed query", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, { pool: { min: 0, max: 4 } });
    const invalidations: string[] = [];
    const off = tokenSource.on("token-invalidated", (event) => {
      invalidations.push(event.type);
      standIns.sql.restorePrincipal(app.objectId);
    });
    try {
      await createTables(prisma);
      await prisma.author.create({ data: { name: "kept", books: { create: { title: "kept" } } } });
      const load = () =>
        Promise.allSettled([
          prisma.book.count(),
          prisma.book.findMany({ take: 5 }),
          prisma.author.findFirst({ where: { name: "kept" }, include: { books: true } }),
          prisma.$queryRawUnsafe("SELECT COUNT(*) AS n FROM [Book]"),
        ]);
      await load(); // the pool has open connections now, all logged in with the first token

      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequests(standIns);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      standIns.sql.revokePrincipal(app.objectId);
      standIns.sql.revalidate();
      const failures: unknown[] = [];
      let queries = 0;
      for (let round = 0; round < 10; round++) {
        const results = await load();
        queries += results.length;
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
        await sleep(50);
      }

      expect(failures).toEqual([]);
      expect(queries).toBe(40);
      // The open sessions were refused (37396: mssql's check on acquire, or a statement that then ran
      // again) and retired ...
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBeGreaterThanOrEqual(1);
      expect(ofType(events, "connection-retired").some((e) => e.reason === "session-token-expired")).toBe(
        true,
      );
      // ... whose first login with the revoked token was refused, then succeeded with a fresh one.
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.find((l) => !l.ok)).toMatchObject({ failure: "revoked", errorNumber: 18456 });
      expect(logins.some((l) => l.ok && l.authMode === authMode)).toBe(true);
      expect(ofType(events, "login-retried").some((e) => e.verdict === "rejected")).toBe(true);
      // One forced refresh: one invalidation, one identity request.
      expect(invalidations).toEqual(["token-invalidated"]);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      // The client is still usable, on the fresh token.
      expect(await prisma.book.count()).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await prisma.$disconnect();
      tokenSource.close();
    }
  }, 30_000);
});
