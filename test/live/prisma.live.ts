import { createTokenSource } from "@entra-sql/core";
import { type EntraPrismaEvent, entraPrismaMssql } from "@entra-sql/prisma";
import { afterAll, describe, expect, it } from "vitest";
// Any generated client runs raw SQL; the Prisma example's (built by `pnpm build`) is at hand.
import { PrismaClient } from "../../examples/prisma-app/dist/generated/prisma/client.js";
import { readLiveSettings } from "./live-settings.js";

// @entra-sql/prisma against the real server: a PrismaClient on entraPrismaMssql logs in and queries in
// both token modes, max age retires a connection, and raw CRUD with an interactive $transaction that
// commits and one that rolls back works in a scratch table that is dropped afterwards.

const settings = readLiveSettings();
const tokenSource = createTokenSource({ credential: settings.credential });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(() => tokenSource.close());

function connect(
  tokenMode: "inline" | "token-credential",
  extra: { maxAgeInMs?: number; onEvent?: (event: EntraPrismaEvent) => void } = {},
): PrismaClient {
  const adapter = entraPrismaMssql(
    {
      server: settings.server,
      port: settings.port,
      database: settings.database,
      options: { encrypt: true, trustServerCertificate: false },
      pool: { min: 0, max: 2 },
    },
    // The server names the scope in token-credential mode; inline derives it from the host unless given.
    { tokenSource, tokenMode, ...(tokenMode === "inline" ? { scope: settings.scope } : {}), ...extra },
  );
  return new PrismaClient({ adapter });
}

describe.each(["inline", "token-credential"] as const)("prisma, tokenMode %s", (tokenMode) => {
  it("logs in with a token, queries, and retires a connection past its max age", async () => {
    const events: EntraPrismaEvent[] = [];
    const prisma = connect(tokenMode, { maxAgeInMs: 1_500, onEvent: (e) => events.push(e) });
    try {
      expect(await prisma.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      await sleep(2_000);
      expect(await prisma.$queryRaw`SELECT 2 AS two`).toEqual([{ two: 2 }]);
      expect(events.filter((e) => e.type === "connection-opened").length).toBeGreaterThanOrEqual(2);
      expect(events.some((e) => e.type === "connection-retired" && e.reason === "max-age")).toBe(true);
    } finally {
      await prisma.$disconnect();
    }
  });
});

describe("prisma CRUD and interactive transactions in a scratch table", () => {
  it("inserts, commits, rolls back, reads, and drops the table", async () => {
    const prisma = connect("inline");
    const table = `entra_sql_live_prisma_${process.pid}_${Date.now()}`;
    try {
      await prisma.$executeRawUnsafe(
        `CREATE TABLE ${table} (id int NOT NULL PRIMARY KEY, body nvarchar(50) NOT NULL)`,
      );
      expect(
        await prisma.$executeRawUnsafe(`INSERT INTO ${table} (id, body) VALUES (@P1, @P2)`, 1, "first"),
      ).toBe(1);
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, body) VALUES (2, N'committed')`);
      });
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, body) VALUES (3, N'rolled back')`);
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(await prisma.$queryRawUnsafe(`SELECT id, body FROM ${table} ORDER BY id`)).toEqual([
        { id: 1, body: "first" },
        { id: 2, body: "committed" },
      ]);
    } finally {
      await prisma.$executeRawUnsafe(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await prisma.$disconnect();
    }
  });
});
