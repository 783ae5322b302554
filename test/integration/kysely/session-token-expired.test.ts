import { isSessionTokenExpiredError } from "@entra-sql/kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import {
  type AnyKysely,
  demoAppTokenSource,
  entraKysely,
  KYSELY_VERSIONS,
  type KyselyVersion,
  modeOptions,
  ofType,
  recorder,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Error 37396 through real Kysely: a statement on a session the server refuses (requireReauthentication:
// every later statement on that session gets 37396, not executed). Outside a transaction the statement
// runs once more on a freshly logged-in connection and the caller sees its result; inside one the caller
// gets our SessionTokenExpiredError, nothing is committed and no ROLLBACK reaches the refused session
// (the connection is closed instead). A refused BEGIN is named "begin"; a refused stream before its first
// row runs once more. A pool of one does not wait on itself.

let standIns: StandIns;
let onServerEvent: ((event: StandInEvent) => void) | undefined;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: (event) => onServerEvent?.(event) } });
  await standIns.sql.engine();
});

afterEach(() => {
  onServerEvent = undefined;
});

afterAll(async () => {
  await standIns?.close();
});

/** The one session `db` holds open (pool of one). */
async function onlySessionOf(db: AnyKysely, v: KyselyVersion, before: number[]): Promise<number> {
  await v.sql`select 1 as one`.execute(db);
  const ids = standIns.sql.sessions.map((s) => s.id).filter((id) => !before.includes(id));
  expect(ids).toHaveLength(1);
  return ids[0] as number;
}

function requestsOn(sessionId: number) {
  const seen: string[] = [];
  onServerEvent = (event) => {
    if (event.type === "request" && event.sessionId === sessionId) seen.push(event.summary);
  };
  return seen;
}

async function closed(sessionId: number) {
  const gone = await until(
    () => standIns.sql.closedSessions.some((s) => s.id === sessionId),
    () => sleep(20),
    5_000,
  );
  expect(gone).toBe(true);
  return standIns.sql.closedSessions.find((s) => s.id === sessionId);
}

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  const table = `k37396_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  function setUp(extra: object = {}) {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      { tokenSource, ...modeOptions(tokenMode), onEvent },
      { pool: { min: 0, max: 1 }, ...extra },
    );
    return { db, events, tokenSource };
  }

  it("outside a transaction: a refused statement runs once more on a fresh connection (held connection, pool of one)", async () => {
    const { db, events, tokenSource } = setUp();
    const before = standIns.sql.sessions.map((s) => s.id);
    const rejectedBefore = standIns.sql.counters.statementsRejected;
    try {
      await v.sql`create table ${v.sql.table(table)} (id int primary key, name nvarchar(50))`.execute(db);
      // db.connection() holds one connection for several statements: Kysely's validation runs before
      // the first only, so the refusal reaches the statement.
      const result = await db.connection().execute(async (conn) => {
        const sessionId = await onlySessionOf(conn as AnyKysely, v, before);
        standIns.sql.requireReauthentication(sessionId);
        await conn.insertInto(table).values({ id: 1, name: "once" }).execute();
        const rows = await conn.selectFrom(table).select("id").execute();
        return { sessionId, rows };
      });
      expect(result.rows).toEqual([{ id: 1 }]);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toHaveLength(1);
      expect(ofType(events, "connection-retired")[0]).toMatchObject({ reason: "session-token-expired" });
      expect((await closed(result.sessionId))?.closeReason).toBe("client");
      // Inserted once (the refused statement did not run), and the pool still works.
      expect(await db.selectFrom(table).selectAll().execute()).toEqual([{ id: 1, name: "once" }]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("inside a transaction: SessionTokenExpiredError, nothing committed, no ROLLBACK on the refused session", async () => {
    const { db, events, tokenSource } = setUp();
    const before = standIns.sql.sessions.map((s) => s.id);
    try {
      await v.sql`create table ${v.sql.table(`${table}_t`)} (id int primary key, name nvarchar(50))`.execute(
        db,
      );
      let refusedSession = -1;
      let seen: string[] = [];
      const outcome = db.transaction().execute(async (trx) => {
        await trx.insertInto(`${table}_t`).values({ id: 1, name: "lost" }).execute();
        refusedSession = standIns.sql.sessions.map((s) => s.id).filter((id) => !before.includes(id))[0] ?? -1;
        standIns.sql.requireReauthentication(refusedSession);
        seen = requestsOn(refusedSession);
        await trx.insertInto(`${table}_t`).values({ id: 2, name: "refused" }).execute();
      });
      const error = await outcome.catch((e: unknown) => e);
      expect(isSessionTokenExpiredError(error)).toBe(true);
      expect(error).toMatchObject({ during: "transaction", number: 37396 });
      expect(String((error as Error).message)).toMatch(/^@entra-sql\/kysely: /);
      expect((await closed(refusedSession))?.closeReason).toBe("client");
      expect(seen.some((s) => /rollback/i.test(s))).toBe(false);
      expect(ofType(events, "statement-retried")).toHaveLength(0);
      expect(await db.selectFrom(`${table}_t`).selectAll().execute()).toEqual([]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("a refused BEGIN is named 'begin'; a refused stream before its first row runs once more", async () => {
    const { db, events, tokenSource } = setUp({
      ...(v.version === "0.29.9" ? { validateConnections: false } : {}),
    });
    const before = standIns.sql.sessions.map((s) => s.id);
    try {
      const error = await db
        .connection()
        .execute(async (conn) => {
          const sessionId = await onlySessionOf(conn as AnyKysely, v, before);
          standIns.sql.requireReauthentication(sessionId);
          await conn.transaction().execute(async () => {});
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "SessionTokenExpiredError", during: "begin" });

      const ids = standIns.sql.sessions.map((s) => s.id);
      const rows = await db.connection().execute(async (conn) => {
        await v.sql`select 1 as one`.execute(conn);
        const sessionId = standIns.sql.sessions.map((s) => s.id).find((id) => !ids.includes(id));
        standIns.sql.requireReauthentication(sessionId as number);
        const chunks: unknown[] = [];
        for await (const row of conn.selectNoFrom(v.sql<number>`8`.as("n")).stream(10)) chunks.push(row);
        return { chunks };
      });
      expect(rows.chunks).toEqual([{ n: 8 }]);
      expect(ofType(events, "statement-retried").length).toBeGreaterThanOrEqual(1);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});

// Kysely 0.28+ can switch its select 1 check off: the refusal then reaches a plain query on a pooled connection.
describe.each(KYSELY_VERSIONS.filter((k) => k.version === "0.29.9"))(
  "Kysely $version, plain queries",
  (v) => {
    it("validateConnections: false, a refused statement on a pooled connection runs once more", async () => {
      const tokenSource = demoAppTokenSource(standIns);
      const { events, onEvent } = recorder();
      const { db } = entraKysely(
        v,
        standIns,
        { tokenSource, ...modeOptions("inline"), onEvent },
        { pool: { min: 0, max: 1 }, validateConnections: false },
      );
      try {
        const before = standIns.sql.sessions.map((s) => s.id);
        const sessionId = await onlySessionOf(db, v, before);
        standIns.sql.requireReauthentication(sessionId);
        const results = await Promise.all(
          [1, 2, 3].map((n) => v.sql<{ n: number }>`select ${n} as n`.execute(db)),
        );
        expect(results.map((r) => r.rows)).toEqual([[{ n: 1 }], [{ n: 2 }], [{ n: 3 }]]);
        expect(ofType(events, "statement-retried")).toHaveLength(1);
      } finally {
        await db.destroy();
        tokenSource.close();
      }
    });
  },
);
