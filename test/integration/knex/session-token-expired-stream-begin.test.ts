import { Writable } from "node:stream";
import {
  createEntraKnexConfig,
  isSessionTokenExpiredError,
  type SessionTokenExpiredError,
} from "@entra-sql/knex";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { expireOpenSessions, resetClocks, sessionsGone } from "../mssql/stale-sessions.js";
import {
  type AnyKnex,
  demoAppTokenSource,
  knexConfig,
  modeOptions,
  OLDEST_AND_NEWEST,
  ofType,
  recorder,
  versionModes,
} from "./helpers.js";

// Error 37396 on the two paths the client's `_query` does not see, through real Knex 3.1 and 3.3, real
// tedious and the SQL stand-in: `.stream()` / `.pipe()` queries (Knex's mssql `_stream`) and the BEGIN
// TRANSACTION of `db.transaction(...)` (tedious' beginTransaction, called by Knex's mssql Transaction).
//
// Sessions go stale without waiting, as in the mssql suite (stale-sessions.ts): the stand-in's and the
// local Entra ID's clocks jump two hours past the one-hour tokens the pool logged in with, and the
// stand-in revalidates its sessions; their next request is refused with 37396 while the pool (whose
// clock did not move) still trusts them. A pool of one makes the next query get that stale connection.
// The stand-in refuses a request before its first row; a refusal after rows is made by handing Knex one
// row from the request before it goes out (the refusal itself is the server's).

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => resetClocks(standIns));

afterAll(async () => {
  await standIns?.close();
});

interface Streamed {
  rows: unknown[];
  errors: unknown[];
  ended: boolean;
}

/** Reads a Knex stream until its 'end' or its first 'error'. */
function read(stream: NodeJS.ReadableStream): Promise<Streamed> {
  const result: Streamed = { rows: [], errors: [], ended: false };
  return new Promise((resolve) => {
    stream.on("data", (row: unknown) => result.rows.push(row));
    stream.on("error", (error: unknown) => {
      result.errors.push(error);
      resolve(result);
    });
    stream.on("end", () => {
      result.ended = true;
      resolve(result);
    });
  });
}

function expectNamed(error: unknown, during: SessionTokenExpiredError["during"]): void {
  expect(isSessionTokenExpiredError(error)).toBe(true);
  const named = error as SessionTokenExpiredError;
  expect(named.during).toBe(during);
  expect(named.number).toBe(37396);
  expect(named.message).toMatch(/error 37396/);
  expect(String((named.cause as Error).message)).toMatch(/access token is expired/);
}

interface TestConnection {
  execSql(request: { emit(event: string, ...args: unknown[]): boolean }): void;
}

describe.each(versionModes(OLDEST_AND_NEWEST))("%s", (_, v, tokenMode) => {
  const table = `sb_${v.version.replace(".", "")}_${tokenMode.replace("-", "_")}`;

  async function withDb(test: (db: AnyKnex, events: ReturnType<typeof recorder>["events"]) => Promise<void>) {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 1 }), {
        tokenSource,
        ...modeOptions(tokenMode),
        onEvent,
      }),
    );
    try {
      await test(db, events);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  }

  async function filled(db: AnyKnex, name: string): Promise<void> {
    await db.raw(`CREATE TABLE ${name} (id INT)`);
    await db(name).insert([1, 2, 3, 4, 5].map((id) => ({ id })));
  }

  const ids = (rows: unknown[]) => rows.map((r) => (r as { id: number }).id);

  it(".stream() refused before any row runs once more on a fresh connection: only its rows, a normal end", async () => {
    await withDb(async (db, events) => {
      const name = `${table}_stream`;
      await filled(db, name);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions(standIns);

      const streamed = await read(db(name).select("id").orderBy("id").stream());
      expect(streamed.errors).toEqual([]);
      expect(streamed.ended).toBe(true);
      expect(ids(streamed.rows)).toEqual([1, 2, 3, 4, 5]);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toHaveLength(1);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.reason === "session-token-expired" && e.at === "statement",
        ),
      ).toHaveLength(1);
      expect(await sessionsGone(standIns, stale)).toBe(true);
      // The pool goes on.
      expect(ids(await db(name).select("id").orderBy("id"))).toEqual([1, 2, 3, 4, 5]);
    });
  }, 20_000);

  it(".pipe() and .stream(handler) go the same way", async () => {
    await withDb(async (db, events) => {
      const name = `${table}_pipe`;
      await filled(db, name);
      const stale = expireOpenSessions(standIns);
      const piped: unknown[] = [];
      // `.pipe()` does not forward the source's 'error' to the sink: without a finish, the deadline ends it.
      const finished = await new Promise<boolean>((resolve) => {
        const sink = new Writable({
          objectMode: true,
          write(row, _, done) {
            piped.push(row);
            done();
          },
        });
        const deadline = setTimeout(() => resolve(false), 10_000);
        sink.on("finish", () => {
          clearTimeout(deadline);
          resolve(true);
        });
        db(name).select("id").orderBy("id").pipe(sink);
      });
      expect(finished).toBe(true);
      expect(ids(piped)).toEqual([1, 2, 3, 4, 5]);
      expect(await sessionsGone(standIns, stale)).toBe(true);

      // A second jump, as seen by the handler form.
      const staleAgain = expireOpenSessions(standIns);
      let handled: Promise<Streamed> | undefined;
      await db(name)
        .select("id")
        .orderBy("id")
        .stream((stream: NodeJS.ReadableStream) => {
          handled = read(stream);
        });
      const streamed = await (handled as Promise<Streamed>);
      expect(streamed.errors).toEqual([]);
      expect(ids(streamed.rows)).toEqual([1, 2, 3, 4, 5]);
      expect(ofType(events, "statement-retried")).toHaveLength(2);
      expect(await sessionsGone(standIns, staleAgain)).toBe(true);
    });
  }, 20_000);

  it("a stream refused after it emitted rows gets a SessionTokenExpiredError (during 'stream'), not run again", async () => {
    await withDb(async (db, events) => {
      const name = `${table}_rows`;
      await filled(db, name);
      // The pool's one connection hands Knex a row of its next request before sending it.
      const connection = (await db.client.acquireConnection()) as TestConnection;
      const execSql = connection.execSql.bind(connection);
      connection.execSql = (request) => {
        connection.execSql = execSql;
        request.emit("row", [{ metadata: { colName: "id" }, value: -1 }]);
        execSql(request);
      };
      await db.client.releaseConnection(connection);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions(standIns);

      const streamed = await read(db(name).select("id").orderBy("id").stream());
      expect(ids(streamed.rows)).toEqual([-1]);
      expect(streamed.ended).toBe(false);
      expect(streamed.errors).toHaveLength(1);
      expectNamed(streamed.errors[0], "stream");
      expect((streamed.errors[0] as Error).message).toMatch(
        /already delivered results.*run the query again/s,
      );
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expect(await sessionsGone(standIns, stale)).toBe(true);
      expect(ids(await db(name).select("id").orderBy("id"))).toEqual([1, 2, 3, 4, 5]);
    });
  }, 20_000);

  it("a stream inside a transaction gets a SessionTokenExpiredError (during 'transaction'); nothing committed", async () => {
    await withDb(async (db, events) => {
      const name = `${table}_trx_stream`;
      await filled(db, name);
      let stale: number[] = [];
      let streamed: Streamed | undefined;
      const error = await db
        .transaction(async (trx) => {
          await trx(name).insert({ id: 6 });
          stale = expireOpenSessions(standIns);
          streamed = await read(trx(name).select("id").stream());
          throw streamed.errors[0];
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(streamed?.rows).toEqual([]);
      expect(streamed?.errors).toHaveLength(1);
      expectNamed(streamed?.errors[0], "transaction");
      expect(error).toBe(streamed?.errors[0]);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expect(await sessionsGone(standIns, stale)).toBe(true);
      expect(ids(await db(name).select("id").orderBy("id"))).toEqual([1, 2, 3, 4, 5]);
    });
  }, 20_000);

  it("a refused BEGIN runs the transaction once more on a fresh connection; its handler is called once", async () => {
    await withDb(async (db, events) => {
      const name = `${table}_begin`;
      await db.raw(`CREATE TABLE ${name} (id INT)`);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions(standIns);
      let calls = 0;
      const result = await db.transaction(async (trx) => {
        calls++;
        await trx(name).insert({ id: 1 });
        return "committed";
      });
      expect(result).toBe("committed");
      expect(calls).toBe(1);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toHaveLength(1);
      expect(await sessionsGone(standIns, stale)).toBe(true);

      // The handler-less form (`await db.transaction()`), after a second jump.
      const staleAgain = expireOpenSessions(standIns);
      const trx = await db.transaction();
      await trx(name).insert({ id: 2 });
      await trx.commit();
      expect(ofType(events, "statement-retried")).toHaveLength(2);
      expect(await sessionsGone(standIns, staleAgain)).toBe(true);

      // A handler that fails after a retried BEGIN rolls back as usual.
      expireOpenSessions(standIns);
      const failure = await db
        .transaction(async (t) => {
          await t(name).insert({ id: 3 });
          throw new Error("handler failed");
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((failure as Error).message).toBe("handler failed");
      expect(ids(await db(name).select("id").orderBy("id"))).toEqual([1, 2]);
    });
  }, 20_000);

  it("a transaction given its connection is not moved: a refused BEGIN rejects (during 'begin'), handler not called", async () => {
    await withDb(async (db, events) => {
      const connection = await db.client.acquireConnection();
      const stale = expireOpenSessions(standIns);
      let calls = 0;
      try {
        const error = await db
          .transaction(
            async () => {
              calls++;
            },
            { connection },
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expectNamed(error, "begin");
        expect(calls).toBe(0);
        expect(ofType(events, "statement-retried")).toEqual([]);
      } finally {
        await db.client.releaseConnection(connection);
      }
      expect(await sessionsGone(standIns, stale)).toBe(true);
      expect(await db.raw("select 1 as one")).toBeDefined();
    });
  }, 20_000);
});
