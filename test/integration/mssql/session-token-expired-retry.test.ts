import { createEntraMssql, type EntraMssqlEvent, isSessionTokenExpiredError } from "@entra-sql/mssql";
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

// Error 37396 on statements that run once more on a fresh connection (outside transactions): streamed
// requests, bulk loads, batches, and what a second refusal gives. (session-token-expired.test.ts covers
// plain queries; session-token-expired-held.test.ts transactions' COMMIT and prepared statements.)
//
// How the sessions go stale without waiting: stale-sessions.ts. The pools use
// `validateConnection: "socket"` so that the statement itself, not mssql's SELECT 1 on acquire, meets
// the refusal.

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
/** A pool with one idle connection, ready to go stale. */
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
  const close = async () => {
    await pool.close();
    tokenSource.close();
  };
  return { fixture, events, tokens, sql, pool, close };
}

/**
 * The fresh connection a retry logs in on goes stale as soon as it is opened (the pool reports it
 * before handing it out): the retry is refused too. `onStale` gets the sessions made stale then.
 */
function refuseTheRetry(
  fixture: { hook: ((event: EntraMssqlEvent) => void) | undefined },
  onStale: (ids: number[]) => void = () => {},
): void {
  let retrying = false;
  fixture.hook = (event) => {
    if (event.type === "statement-retried") retrying = true;
    if (event.type === "connection-opened" && retrying) {
      retrying = false;
      onStale(expireOpenSessions());
    }
  };
}

interface Streamed {
  rows: unknown[];
  errors: unknown[];
  done: number;
}

/** Runs a streamed query (`stream: true`, events) and resolves at its 'done', which ends every request. */
function streamQuery(request: mssql.Request, command: string): Promise<Streamed> {
  const outcome: Streamed = { rows: [], errors: [], done: 0 };
  request.stream = true;
  request.on("row", (row) => outcome.rows.push(row));
  request.on("error", (error) => outcome.errors.push(error));
  return new Promise((resolve, reject) => {
    request.on("done", () => {
      outcome.done++;
      resolve(outcome);
    });
    request.query(command).catch(reject);
  });
}

describe("streamed requests", () => {
  it("stream: true: a refused query runs once more, and the caller sees only its rows and one 'done'", async () => {
    const { pool, events, close } = await setUp("streamed");
    try {
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();
      expect(stale.length).toBeGreaterThan(0);

      const outcome = await streamQuery(pool.request(), "SELECT id FROM streamed ORDER BY id");
      expect(outcome.errors).toEqual([]);
      expect(outcome.rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried")).toEqual([
        { type: "statement-retried", reason: "session-token-expired", method: "query" },
      ]);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.at === "statement" && e.reason === "session-token-expired",
        ),
      ).toHaveLength(1);
      expect(await sessionsGone(stale)).toBe(true);
      expect(outcome.done).toBe(1);
    } finally {
      await close();
    }
  });

  it("toReadableStream(): the stream reads the retry's rows and ends without an error", async () => {
    const { pool, events, close } = await setUp("readable");
    try {
      const stale = expireOpenSessions();
      const request = pool.request();
      const stream = request.toReadableStream();
      const started = request.query("SELECT id FROM readable ORDER BY id");
      const rows: unknown[] = [];
      for await (const row of stream) rows.push(row);
      await started;
      expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["query"]);
      expect(await sessionsGone(stale)).toBe(true);
    } finally {
      await close();
    }
  });

  it("refused again after the retry: one 'error' event, a SessionTokenExpiredError (retry), then 'done'", async () => {
    const { pool, events, tokens, fixture, close } = await setUp("streamed_twice");
    try {
      refuseTheRetry(fixture);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      expireOpenSessions();
      const outcome = await streamQuery(pool.request(), "SELECT id FROM streamed_twice");
      expect(outcome.rows).toEqual([]);
      expect(outcome.errors).toHaveLength(1);
      expectNamed(outcome.errors[0], "retry");
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(2);
      expect(ofType(events, "statement-retried")).toHaveLength(1);
      expectNoTokenIn(outcome.errors, tokens);
      expect(outcome.done).toBe(1);
    } finally {
      await close();
    }
  });

  it("inside a transaction: the 'error' event carries a SessionTokenExpiredError (transaction)", async () => {
    const { pool, sql, events, tokens, close } = await setUp("streamed_tx");
    try {
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await transaction.request().query("INSERT INTO streamed_tx (id) VALUES (4)");
      const stale = expireOpenSessions();
      const outcome = await streamQuery(transaction.request(), "SELECT id FROM streamed_tx");
      expect(outcome.errors).toHaveLength(1);
      expectNamed(outcome.errors[0], "transaction");
      expect(ofType(events, "statement-retried")).toEqual([]);
      expectNoTokenIn(outcome.errors, tokens);
      await transaction.rollback();
      expect(await sessionsGone(stale)).toBe(true);
      const { recordset } = await pool.query<{ id: number }>("SELECT id FROM streamed_tx ORDER BY id");
      expect(recordset.map((r) => r.id)).toEqual([1, 2, 3]);
    } finally {
      await close();
    }
  });
});

describe("batches and second refusals", () => {
  it("batch(): a refused batch runs once more (once, not once per wrapper)", async () => {
    const { pool, events, close } = await setUp("batched");
    try {
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      expireOpenSessions();
      await pool.batch("INSERT INTO batched (id) VALUES (4)");
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["batch"]);
      const { recordset } = await pool.query<{ id: number }>("SELECT id FROM batched ORDER BY id");
      expect(recordset.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    } finally {
      await close();
    }
  });

  it.each(["query", "batch", "execute"] as const)(
    "%s refused again on the fresh connection: SessionTokenExpiredError (retry) after exactly two attempts",
    async (method) => {
      const { pool, events, tokens, fixture, close } = await setUp(`twice_${method}`);
      try {
        let retryStale: number[] = [];
        refuseTheRetry(fixture, (ids) => {
          retryStale = ids;
        });
        const rejectedBefore = standIns.sql.counters.statementsRejected;
        const stale = expireOpenSessions();
        const request = pool.request();
        // The procedure need not exist: both attempts are refused before the server looks at it.
        const run =
          method === "execute"
            ? request.input("id", mssql.Int, 9).execute("add_row")
            : request[method](`INSERT INTO twice_${method} (id) VALUES (9)`);
        const error = await run.then(
          () => undefined,
          (e: unknown) => e,
        );
        const named = expectNamed(error, "retry");
        expect(named.message).toMatch(/refused it again after one retry/);
        expect(named.message).toMatch(/Check the token source/);
        expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(2);
        expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual([method]);
        expectNoTokenIn([error], tokens);

        // Both refused connections are closed; the pool goes on (the clocks stay where they are).
        fixture.hook = undefined;
        expect(retryStale.length).toBeGreaterThan(0);
        expect(await sessionsGone([...stale, ...retryStale])).toBe(true);
        const { recordset } = await pool.query<{ id: number }>(`SELECT id FROM twice_${method} ORDER BY id`);
        expect(recordset.map((r) => r.id)).toEqual([1, 2, 3]);
      } finally {
        await close();
      }
    },
  );
});

// The TDS stand-in cannot load in bulk: tedious sends `insert bulk ...` as a SQL batch before the bulk
// data, and the stand-in answers it with error 156 ("Incorrect syntax near the keyword 'bulk'") on a
// healthy session. On a revalidated session the refusal comes first, so these tests see the refusal,
// the retry, and then the stand-in's own answer to a bulk load, which proves the retry reached a live
// session; they cannot show rows loaded.
describe("bulk()", () => {
  function bulkTable(sql: typeof mssql, name: string): mssql.Table {
    const table = new sql.Table(name);
    table.columns.add("id", sql.Int, { nullable: true });
    table.rows.add(7);
    return table;
  }
  const bulkError = (request: mssql.Request, table: mssql.Table) =>
    request.bulk(table).then(
      () => undefined,
      (e: unknown) => e,
    );

  it("a refused bulk load runs once more on a fresh connection, the refused one is closed", async () => {
    const { pool, sql, events, close } = await setUp("bulked");
    try {
      // What the stand-in says to a bulk load on a healthy session.
      const healthy = (await bulkError(pool.request(), bulkTable(sql, "bulked"))) as mssql.RequestError;
      expect(healthy.number).toBe(156);

      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();
      const error = (await bulkError(pool.request(), bulkTable(sql, "bulked"))) as mssql.RequestError;
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["bulk"]);
      expect(isSessionTokenExpiredError(error)).toBe(false);
      expect(error.number).toBe(156);
      expect(
        ofType(events, "connection-retired").filter(
          (e) => e.at === "statement" && e.reason === "session-token-expired",
        ),
      ).toHaveLength(1);
      expect(await sessionsGone(stale)).toBe(true);
    } finally {
      await close();
    }
  });

  it("streamed: the refusal is held back; the caller sees the retry's outcome (the stand-in's 156) and one 'done'", async () => {
    const { pool, sql, events, close } = await setUp("bulked_streamed");
    try {
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();
      const request = pool.request();
      request.stream = true;
      const errors: unknown[] = [];
      request.on("error", (e) => errors.push(e));
      let done = 0;
      await new Promise((resolve) => {
        request.on("done", () => {
          done++;
          resolve(undefined);
        });
        request.bulk(bulkTable(sql, "bulked_streamed"));
      });
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(1);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["bulk"]);
      expect(errors.map((e) => (e as mssql.RequestError).number)).toEqual([156]);
      expect(await sessionsGone(stale)).toBe(true);
      expect(done).toBe(1);
    } finally {
      await close();
    }
  });

  it("refused again after the retry: SessionTokenExpiredError (retry), both connections closed", async () => {
    const { pool, sql, events, tokens, fixture, close } = await setUp("bulked_twice");
    try {
      let retryStale: number[] = [];
      refuseTheRetry(fixture, (ids) => {
        retryStale = ids;
      });
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      const stale = expireOpenSessions();
      const error = await bulkError(pool.request(), bulkTable(sql, "bulked_twice"));
      expectNamed(error, "retry");
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(2);
      expect(ofType(events, "statement-retried").map((e) => e.method)).toEqual(["bulk"]);
      expectNoTokenIn([error], tokens);
      expect(await sessionsGone([...stale, ...retryStale])).toBe(true);
    } finally {
      await close();
    }
  });
});
