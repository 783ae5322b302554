import type { EntraPrismaEvent } from "@entra-sql/prisma";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import { expectValidTokenLogins } from "../typeorm/helpers.js";
import {
  createTables,
  demoAppTokenSource,
  identityRequests,
  prismaClient,
  sleep,
  TOKEN_MODES,
} from "./helpers.js";

// Time-compressed token rotation through a real PrismaClient (the rotation invariants of the TypeORM and
// Knex suites): 6 s tokens and 2.5 s connections under concurrent load (model queries, interactive
// $transaction, raw SQL) while the server keeps revalidating open sessions.
// - zero failed queries, zero statements refused with 37396;
// - every login presents a valid token; identity-endpoint requests are one per token fetched, about one
//   per (lifetime - refresh window), however many connections log in;
// - no statement starts on a connection older than max age, or past its login token (the stand-in's
//   records: each request's session, its login time and its token's expiry);
// - an interactive $transaction that spans the max-age boundary completes, and its connection retires
//   afterwards.

const TOKEN_LIFETIME_SECONDS = 6;
const REFRESH_WINDOW_MS = 1_500;
const MAX_AGE_MS = 2_500;
const JITTER_RATIO = 0.025;
/** A statement's start is taken from the stand-in's request event (end - duration): allow scheduling slop. */
const SLOP_MS = 250;

let standIns: StandIns;
let onServerEvent: ((event: StandInEvent) => void) | undefined;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: (event) => onServerEvent?.(event) } });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => {
  onServerEvent = undefined;
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

/** For each statement the server ran: the age of its session and its login token's time left, at start. */
function watchStatements() {
  const seen = { statements: 0, oldestSessionAgeMs: 0, leastTokenLeftMs: Number.POSITIVE_INFINITY };
  onServerEvent = (event) => {
    if (event.type !== "request") return;
    const session = standIns.sql.sessions.find((s) => s.id === event.sessionId);
    if (session === undefined) return;
    const startedAt = Date.now() - event.durationMs;
    seen.statements += 1;
    seen.oldestSessionAgeMs = Math.max(seen.oldestSessionAgeMs, startedAt - session.loginAt.getTime());
    const expiresAt = session.tokenExpiresAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    seen.leastTokenLeftMs = Math.min(seen.leastTokenLeftMs, expiresAt - startedAt);
  };
  return seen;
}

describe.each(TOKEN_MODES)("rotation, tokenMode %s", (tokenMode, authMode) => {
  function rotatingClient() {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_SECONDS;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: REFRESH_WINDOW_MS,
      minimumValidityInMs: 1_000,
    });
    const client = prismaClient(standIns, tokenSource, tokenMode, {
      maxAgeInMs: MAX_AGE_MS,
      maxAgeJitterRatio: JITTER_RATIO,
      tokenExpiryMarginInMs: 800,
      pool: { min: 0, max: 4 },
    });
    return { ...client, tokenSource };
  }

  it("three tokens under load: no failure, valid logins, one identity request per token, no old connection used", async () => {
    const { prisma, events, tokenSource } = rotatingClient();
    const tokensFetched: number[] = [];
    tokenSource.on("token-acquired", (event) => {
      if (event.type === "token-acquired") tokensFetched.push(event.expiresOnTimestamp);
    });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const started = Date.now();
    let queries = 0;
    const failures: unknown[] = [];
    try {
      await createTables(prisma);
      const author = await prisma.author.create({
        data: { name: "Ada", books: { create: { title: "kept" } } },
      });
      const seen = watchStatements();
      const tokensUsed = () =>
        new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
      // Bounded: three tokens take about 2 x 4.5 s; a loaded machine gets up to 40 s.
      const deadline = Date.now() + 40_000;
      let nextRevalidation = Date.now() + 1_000;
      while (tokensUsed() < 3 && Date.now() < deadline) {
        const results = await Promise.allSettled([
          prisma.book.count(),
          prisma.author.findMany({ take: 5, include: { books: true } }),
          prisma.$transaction(async (tx) => {
            await tx.book.updateMany({ where: { authorId: author.id }, data: { title: "kept" } });
            return tx.book.count();
          }),
          prisma.$queryRawUnsafe("SELECT COUNT(*) AS n FROM [Book]"),
        ]);
        queries += results.length;
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
        if (Date.now() >= nextRevalidation) {
          standIns.sql.revalidate(); // as Azure SQL does after maintenance: expired sessions get 37396
          nextRevalidation = Date.now() + 1_000;
        }
        await sleep(100);
      }
      const elapsedMs = Date.now() - started;

      expect(failures).toEqual([]);
      expect(queries).toBeGreaterThan(20);
      expect(standIns.sql.counters.statementsRejected).toBe(0);
      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(new Set(logins.map((l) => l.tokenExpiresAt?.getTime())).size).toBeGreaterThanOrEqual(3);
      for (const login of logins) {
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime() + 800);
      }

      // One identity request per token, and no more tokens than the refresh cadence allows.
      const requests = identityRequests(standIns) - requestsBefore;
      expect(requests).toBe(tokensFetched.length);
      const cadenceMs = TOKEN_LIFETIME_SECONDS * 1000 - REFRESH_WINDOW_MS;
      expect(requests).toBeLessThanOrEqual(Math.ceil(elapsedMs / cadenceMs) + 1);
      // ... however many connections logged in.
      expect(logins.length).toBeGreaterThanOrEqual(2 * requests);

      expect(seen.statements).toBeGreaterThan(queries);
      expect(seen.oldestSessionAgeMs).toBeLessThanOrEqual(MAX_AGE_MS + SLOP_MS);
      expect(seen.leastTokenLeftMs).toBeGreaterThan(0);
      expect(events.some((e) => e.type === "connection-retired" && e.reason === "max-age")).toBe(true);
    } finally {
      onServerEvent = undefined;
      await prisma.$disconnect();
      tokenSource.close();
    }
  }, 60_000);

  it("an interactive $transaction that spans the max-age boundary completes, then its connection retires", async () => {
    const { prisma, events, tokenSource } = rotatingClient();
    try {
      await createTables(prisma);
      const author = await prisma.author.create({ data: { name: "Ada" } });
      const loginsBefore = standIns.sql.logins.length;
      await prisma.$transaction(
        async (tx) => {
          await tx.book.create({ data: { title: "before the boundary", authorId: author.id } });
          await sleep(MAX_AGE_MS + 200);
          await tx.book.create({ data: { title: "after the boundary", authorId: author.id } });
        },
        { timeout: 10_000 },
      );
      expect((await prisma.book.findMany({ orderBy: { id: "asc" } })).map((b) => b.title)).toEqual([
        "before the boundary",
        "after the boundary",
      ]);
      expect(
        events.some(
          (e: EntraPrismaEvent) =>
            e.type === "connection-retired" && e.ageInMs >= MAX_AGE_MS * (1 - JITTER_RATIO),
        ),
      ).toBe(true);
      // The query after the transaction needed a new login: the old connection was not handed out again.
      expect(standIns.sql.logins.length).toBeGreaterThan(loginsBefore);
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  }, 30_000);
});
