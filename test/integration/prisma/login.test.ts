import { inspect } from "node:util";
import { createTokenSource, isInvalidOptionError, isUnknownSqlHostError } from "@entra-sql/core";
import { entraPrismaMssql, isTokenLoginRejectedError, TokenLoginRejectedError } from "@entra-sql/prisma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { tokenLeaks } from "../mssql/defect-fixtures.js";
import { recording } from "../mssql/stale-sessions.js";
import { expectValidTokenLogins } from "../typeorm/helpers.js";
import {
  createTables,
  demoApp,
  demoAppTokenSource,
  failureOf,
  identityRequests,
  ofType,
  prismaClient,
  prismaConfig,
  SQL_SCOPE,
  TOKEN_MODES,
} from "./helpers.js";

// A real PrismaClient (Prisma 7.10, the query compiler, @prisma/adapter-mssql on mssql 12 / tedious 19)
// whose adapter is entraPrismaMssql(...), against the local Entra ID and the SQL stand-in, in both token
// modes: CRUD with a relation, interactive and batch $transaction (committed and rolled back), concurrent
// queries over logins with valid tokens and one identity request; a refused login (18456) retried once
// with a fresh token; a second refusal reaching the app as our TokenLoginRejectedError, with no token.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(TOKEN_MODES)("tokenMode %s", (tokenMode, authMode) => {
  it("CRUD with a relation, $transaction committed and rolled back, concurrent queries: valid logins, one identity request", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, { pool: { min: 0, max: 4 } });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    try {
      await createTables(prisma);
      const ada = await prisma.author.create({
        data: { name: "Ada", books: { create: [{ title: "Notes" }, { title: "Sketches" }] } },
        include: { books: true },
      });
      expect(ada.books.map((b) => b.title).sort()).toEqual(["Notes", "Sketches"]);
      await prisma.author.createMany({ data: [{ name: "Grace" }, { name: "Edsger" }] });
      const grace = await prisma.author.findFirstOrThrow({ where: { name: "Grace" } });
      await prisma.book.create({ data: { title: "Compilers", author: { connect: { id: grace.id } } } });
      expect(
        await prisma.book.update({
          where: { id: ada.books[0]?.id ?? -1 },
          data: { title: "Notes, 2nd ed." },
        }),
      ).toMatchObject({ title: "Notes, 2nd ed." });
      expect(await prisma.author.deleteMany({ where: { name: "Edsger" } })).toEqual({ count: 1 });

      const authors = await prisma.author.findMany({
        include: { books: { orderBy: { id: "asc" } } },
        orderBy: { name: "asc" },
      });
      expect(authors.map((a) => [a.name, a.books.map((b) => b.title)])).toEqual([
        ["Ada", ["Notes, 2nd ed.", "Sketches"]],
        ["Grace", ["Compilers"]],
      ]);
      expect(
        await prisma.book.findMany({ where: { author: { name: "Grace" } }, select: { title: true } }),
      ).toEqual([{ title: "Compilers" }]);

      // Interactive $transaction: committed ...
      const moved = await prisma.$transaction(async (tx) => {
        const book = await tx.book.create({ data: { title: "Drafts", authorId: ada.id } });
        await tx.book.update({ where: { id: book.id }, data: { authorId: grace.id } });
        return tx.book.count({ where: { authorId: grace.id } });
      });
      expect(moved).toBe(2);
      // ... and rolled back by a throw: nothing of it is visible.
      const undo = await failureOf(
        prisma.$transaction(async (tx) => {
          await tx.author.create({ data: { name: "Rolled back", books: { create: { title: "Gone" } } } });
          throw new Error("undo");
        }),
      );
      expect((undo as Error).message).toBe("undo");
      // Batch $transaction (one transaction, statements in order).
      const [count, deleted] = await prisma.$transaction([
        prisma.book.count(),
        prisma.book.deleteMany({ where: { title: "Drafts" } }),
      ]);
      expect([count, deleted.count]).toEqual([4, 1]);
      expect(await prisma.author.count({ where: { name: "Rolled back" } })).toBe(0);
      expect(await prisma.book.count()).toBe(3);

      // Concurrent queries: the pool opens several connections, all with the one cached token.
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          i % 3 === 0
            ? prisma.author.count()
            : i % 3 === 1
              ? prisma.book.findMany({ take: 2, orderBy: { id: "asc" } }).then((rows) => rows.length)
              : prisma
                  .$queryRawUnsafe<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM [Book]")
                  .then((rows) => rows[0]?.n),
        ),
      );
      expect(results).toEqual(Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 2 : i % 3 === 1 ? 2 : 3)));

      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      // The pool's (at most 4) and mssql's test connection of connect(), logged in and closed first.
      expect(logins.length).toBeGreaterThanOrEqual(3);
      expect(logins.length).toBeLessThanOrEqual(5);
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(4);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      const opened = ofType(events, "connection-opened");
      expect(opened).toHaveLength(logins.length);
      for (const event of opened) {
        expect(event).toMatchObject({ tokenMode, scope: SQL_SCOPE, attempt: 1 });
        expect(event.retireAt).toBeLessThanOrEqual((event.tokenExpiresOnTimestamp ?? 0) - 60_000);
      }
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  });

  it("a refused login (18456) invalidates the token and is retried once with a fresh one", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    await tokenSource.getToken(SQL_SCOPE); // a cached token the first login will use
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, { pool: { min: 0, max: 1 } });
    standIns.sql.revokePrincipal(app.objectId);
    // Access comes back while the client fetches a fresh token (an admin re-enabled the identity).
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    const requestsBefore = identityRequests(standIns);
    const loginsBefore = standIns.sql.logins.length;
    try {
      expect(await prisma.$queryRawUnsafe("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      const logins = standIns.sql.logins.slice(loginsBefore);
      // mssql's ConnectionPool.connect() (Prisma's connect()) logs a test connection in and closes it; the
      // query then opens the pool's connection. The test connection was refused with the cached token and
      // retried with a fresh one, which the query's login used too.
      expect(logins.map((l) => [l.ok, l.failure, l.errorNumber, l.authMode])).toEqual([
        [false, "revoked", 18456, authMode],
        [true, undefined, undefined, authMode],
        [true, undefined, undefined, authMode],
      ]);
      expect(logins[1]?.tokenId).not.toBe(logins[0]?.tokenId);
      expect(logins[2]?.tokenId).toBe(logins[1]?.tokenId);
      expect(ofType(events, "login-retried")).toEqual([
        { type: "login-retried", verdict: "rejected", scope: SQL_SCOPE },
      ]);
      expect(ofType(events, "connection-opened").map((e) => e.attempt)).toEqual([2, 1]);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await prisma.$disconnect();
      tokenSource.close();
    }
  });

  it("a second refusal reaches the app as TokenLoginRejectedError with the CREATE USER fix, and no token", async () => {
    const newcomer = standIns.entra.registerApp({
      displayName: `prisma-job-${tokenMode}`,
      clientSecret: true,
    });
    // Not a database user. `tokens`: every token the adapter was handed.
    const { tokenSource, tokens } = recording(
      createTokenSource({
        credential: {
          type: "service-principal",
          tenantId: standIns.entra.tenantId,
          clientId: newcomer.clientId,
          clientSecret: newcomer.clientSecret ?? "",
        },
        identityOptions: standIns.entra.credentialOptions(),
      }),
    );
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode);
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await failureOf(prisma.author.findMany());
      // Prisma hands the adapter's connect() error to the app unchanged (it adds `clientVersion`).
      expect(error).toBeInstanceOf(TokenLoginRejectedError);
      expect(isTokenLoginRejectedError(error)).toBe(true);
      if (!isTokenLoginRejectedError(error)) return;
      expect(error.principal).toMatchObject({ kind: "service-principal", objectId: newcomer.objectId });
      expect(error.message).toContain("Login failed for user '<token-identified principal>'");
      expect(error.createUserStatement).toContain("FROM EXTERNAL PROVIDER");
      expect(error.message).toContain(error.createUserStatement);
      expect(standIns.sql.logins.slice(loginsBefore).map((l) => [l.failure, l.authMode])).toEqual([
        ["unknown-principal", authMode],
        ["unknown-principal", authMode],
      ]);
      // Two tokens were fetched (the second after the refusal); neither is in what the app sees.
      expect(tokens.size).toBe(2);
      const printed = [
        error.message,
        error.stack,
        inspect(error, { depth: 8, showHidden: true }),
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
      ].join("\n");
      expect(tokenLeaks(printed, [...tokens])).toEqual([]);
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  });
});

describe("the node-mssql config", () => {
  it("is checked when the adapter is created, not at the first query: named under @entra-sql/prisma, no secret shown", () => {
    const tokenSource = demoAppTokenSource(standIns);
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const base = prismaConfig(standIns);
    const created = (config: object, options: Record<string, unknown> = { tokenMode: "token-credential" }) =>
      failureOf(Promise.resolve().then(() => entraPrismaMssql(config as never, { tokenSource, ...options })));
    return Promise.all([
      created({ ...base, authentication: { type: "default" } }),
      created({ ...base, user: "sa", password: "hunter2-Secret" }),
      created({ ...base, pool: { max: 4, maxx: 5 } }),
      created({ ...base, server: undefined }),
      created(base, { tokenMode: "inline" }), // 127.0.0.1 names no cloud and there is no scope
    ])
      .then(([authentication, password, pool, server, scope]) => {
        expect(isInvalidOptionError(authentication)).toBe(true);
        expect(authentication).toMatchObject({ option: "config.authentication" });
        expect((password as Error).message).toMatch(/^@entra-sql\/prisma: option "config\.user" is set/);
        expect((password as Error).message).not.toContain("hunter2");
        expect(pool).toMatchObject({ option: "config.pool.maxx" });
        expect((pool as Error).message).toMatch(/^@entra-sql\/prisma: /);
        expect(server).toMatchObject({ option: "config.server" });
        expect(isUnknownSqlHostError(scope)).toBe(true);
        // Nothing was attempted: no login at the server, no token fetched.
        expect(standIns.sql.logins.length).toBe(loginsBefore);
        expect(identityRequests(standIns)).toBe(requestsBefore);
      })
      .finally(() => tokenSource.close());
  });
});
