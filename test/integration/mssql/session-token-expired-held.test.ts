import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, mssqlConfig, SQL_SCOPE } from "./helpers.js";
import {
  expectNamed,
  expectNoTokenIn,
  expireOpenSessions as expireStale,
  ofType,
  recording,
  resetClocks,
  sessionsGone as sessionsClosed,
} from "./stale-sessions.js";

// Error 37396 where a connection is held and the statement cannot move to another one: a transaction's
// COMMIT, and prepared statements (held from prepare() to unprepare(), their handle living in that
// session only). The caller gets a SessionTokenExpiredError, the connection is destroyed, and the
// calls that end the holding (rollback(), unprepare()) resolve on the dead connection. A refused
// prepare() held nothing yet and runs once more, like BEGIN.
//
// How the sessions go stale without waiting: stale-sessions.ts.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => resetClocks(standIns));

afterAll(async () => {
  await standIns?.close();
});

const expireOpenSessions = () => expireStale(standIns);
const sessionsGone = (ids: number[]) => sessionsClosed(standIns, ids);

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A pool with one idle connection and a table holding 1, 2, 3. */
async function setUp(table: string) {
  const { tokenSource, tokens } = recording(demoAppTokenSource(standIns));
  const events: EntraMssqlEvent[] = [];
  /** `hook` is called with each event after it is recorded. */
  const fixture = { hook: undefined as ((event: EntraMssqlEvent) => void) | undefined };
  const sql = createEntraMssql(mssql, {
    tokenSource,
    scope: SQL_SCOPE,
    onEvent: (event) => {
      events.push(event);
      fixture.hook?.(event);
    },
  });
  const config = { ...mssqlConfig(standIns, { max: 2 }), validateConnection: "socket" };
  const pool = await new sql.ConnectionPool(config as unknown as mssql.config).connect();
  await pool.query(`CREATE TABLE ${table} (id INT)`);
  await pool.query(`INSERT INTO ${table} (id) VALUES (1), (2), (3)`);
  const ids = async () =>
    (await pool.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).recordset.map((r) => r.id);
  const close = async () => {
    await pool.close();
    tokenSource.close();
  };
  return { fixture, events, tokens, sql, pool, ids, close };
}

describe("a transaction's COMMIT", () => {
  it("refused: a named error, the connection destroyed, nothing of the transaction visible", async () => {
    const { sql, pool, events, tokens, ids, close } = await setUp("commit_refused");
    try {
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await transaction.request().query("INSERT INTO commit_refused (id) VALUES (4)");
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();

      const error = await failure(transaction.commit());
      const named = expectNamed(error, "transaction");
      expect(named.message).toMatch(/NOT committed/);
      expect(named.message).toMatch(/Run the whole transaction again/);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expectNoTokenIn([error], tokens);

      // mssql released the connection after the COMMIT; the pool closed it instead of keeping it.
      expect(await sessionsGone(stale)).toBe(true);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.at === "statement" && e.reason === "session-token-expired",
        ),
      ).toHaveLength(1);
      // mssql released the connection after the failed COMMIT: a rollback is mssql's "not begun".
      await expect(transaction.rollback()).rejects.toMatchObject({ code: "ENOTBEGUN" });

      // The session ended without a commit: the insert is not there. The pool goes on with a fresh
      // connection, and the same transaction can run again.
      expect(await ids()).toEqual([1, 2, 3]);
      const again = new sql.Transaction(pool);
      await again.begin();
      await again.request().query("INSERT INTO commit_refused (id) VALUES (4)");
      await again.commit();
      expect(await ids()).toEqual([1, 2, 3, 4]);
    } finally {
      await close();
    }
  });
});

describe("sql.PreparedStatement", () => {
  async function prepared(
    sql: typeof mssql,
    parent: mssql.ConnectionPool | mssql.Transaction,
    table: string,
  ) {
    const statement = new sql.PreparedStatement(parent as mssql.ConnectionPool);
    statement.input("id", sql.Int);
    await statement.prepare(`INSERT INTO ${table} (id) VALUES (@id)`);
    return statement;
  }

  it("execute() refused: a named error; unprepare() resolves, the connection is destroyed; prepare again works", async () => {
    const { sql, pool, events, tokens, ids, close } = await setUp("ps_execute");
    try {
      const statement = await prepared(sql, pool, "ps_execute");
      await statement.execute({ id: 4 });
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();

      const error = await failure(statement.execute({ id: 5 }));
      const named = expectNamed(error, "prepared-statement");
      expect(named.message).toMatch(/its prepared handle died with the session/);
      expect(named.message).toMatch(/unprepare\(\) \(it resolves without a round trip\)/);
      expect(named.message).toMatch(/prepare\(\) and execute again/);
      expect(ofType(events, "statement-retried")).toEqual([]);
      expectNoTokenIn([error], tokens);

      // No sp_unprepare is sent on the refused session (mssql would keep the connection for good when it
      // fails): unprepare() resolves, and the connection goes back to the pool, which closes it.
      await statement.unprepare();
      expect(statement.prepared).toBe(false);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(await sessionsGone(stale)).toBe(true);

      // Prepared again (same object), on a fresh connection.
      await statement.prepare();
      await statement.execute({ id: 6 });
      await statement.unprepare();
      expect(await ids()).toEqual([1, 2, 3, 4, 6]);
    } finally {
      await close();
    }
  });

  it("a streamed execute() refused: the request's 'error' event carries the named error", async () => {
    const { sql, pool, tokens, ids, close } = await setUp("ps_stream");
    try {
      const statement = await prepared(sql, pool, "ps_stream");
      statement.stream = true;
      const stale = expireOpenSessions();

      const request = statement.execute({ id: 5 }) as unknown as mssql.Request;
      const errors: unknown[] = [];
      request.on("error", (e) => errors.push(e));
      await new Promise((resolve) => request.on("done", resolve));
      expect(errors).toHaveLength(1);
      expectNamed(errors[0], "prepared-statement");
      expectNoTokenIn(errors, tokens);

      await statement.unprepare();
      expect(await sessionsGone(stale)).toBe(true);
      expect(await ids()).toEqual([1, 2, 3]);
    } finally {
      await close();
    }
  });

  it("prepare() refused on the pool: it held nothing yet, and runs once more on a fresh connection", async () => {
    const { sql, pool, events, ids, close } = await setUp("ps_prepare");
    try {
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();
      const statement = await prepared(sql, pool, "ps_prepare");
      expect(statement.prepared).toBe(true);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["prepare"]);
      expect(await sessionsGone(stale)).toBe(true);
      await statement.execute({ id: 4 });
      await statement.unprepare();
      expect(await ids()).toEqual([1, 2, 3, 4]);
    } finally {
      await close();
    }
  });

  it("prepare() refused again after its retry: SessionTokenExpiredError (retry), nothing held", async () => {
    const { sql, pool, fixture, events, tokens, close } = await setUp("ps_prepare_twice");
    try {
      let retrying = false;
      let retryStale: number[] = [];
      // The fresh connection goes stale as soon as it is opened, before sp_prepare is sent on it.
      fixture.hook = (event) => {
        if (event.type === "statement-retried") retrying = true;
        if (event.type === "connection-opened" && retrying) {
          retrying = false;
          retryStale = expireOpenSessions();
        }
      };
      const stale = expireOpenSessions();
      const statement = new sql.PreparedStatement(pool);
      statement.input("id", sql.Int);
      const error = await failure(statement.prepare("INSERT INTO ps_prepare_twice (id) VALUES (@id)"));
      expectNamed(error, "retry");
      expectNoTokenIn([error], tokens);
      expect(statement.prepared).toBe(false);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["prepare"]);
      expect(retryStale.length).toBeGreaterThan(0);
      expect(await sessionsGone([...stale, ...retryStale])).toBe(true);
    } finally {
      await close();
    }
  });

  it("inside a transaction: execute() named, unprepare() and rollback() resolve, nothing committed", async () => {
    const { sql, pool, tokens, ids, close } = await setUp("ps_in_tx");
    try {
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      const statement = await prepared(sql, transaction, "ps_in_tx");
      await statement.execute({ id: 4 });
      const stale = expireOpenSessions();

      const error = await failure(statement.execute({ id: 5 }));
      const named = expectNamed(error, "prepared-statement");
      expect(named.message).toMatch(/inside a transaction, roll the transaction back/);
      expectNoTokenIn([error], tokens);
      await statement.unprepare();
      await transaction.rollback();
      expect(await sessionsGone(stale)).toBe(true);
      expect(await ids()).toEqual([1, 2, 3]);
    } finally {
      await close();
    }
  });
});
