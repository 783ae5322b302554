import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSqlEngine } from "./index.js";
import type { BatchOutcome, SqlEngine, SqlServerError, SqlSession, SqlValue } from "./types.js";

// Transactions (SQL text and the TDS transaction-manager API), @@TRANCOUNT, savepoints, statement-level
// rollback inside transactions, and the engine lock between sessions.

let engine: SqlEngine;
const open: SqlSession[] = [];

function session(name = "user"): SqlSession {
  const s = engine.openSession({ principalName: name });
  open.push(s);
  return s;
}

beforeAll(async () => {
  engine = await createSqlEngine({ databaseName: "txdb", lockTimeoutMs: 1000 });
  await engine.exec("CREATE TABLE items (id int IDENTITY PRIMARY KEY, name nvarchar(20) NOT NULL UNIQUE)");
}, 60_000);

beforeEach(async () => {
  await engine.exec("DELETE FROM items");
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await engine?.close();
});

function errors(outcome: BatchOutcome): number[] {
  return outcome.statements.flatMap((o) => (o.kind === "error" ? [o.error.number] : []));
}

async function ok(s: SqlSession, sql: string): Promise<BatchOutcome> {
  const outcome = await s.execute(sql);
  expect(errors(outcome), sql).toEqual([]);
  return outcome;
}

async function value(s: SqlSession, sql: string): Promise<SqlValue> {
  const outcome = await ok(s, sql);
  const rows = outcome.statements.filter((o) => o.kind === "rows").pop();
  if (rows?.kind !== "rows") throw new Error(`no rows from ${sql}`);
  return rows.resultSet.rows[0]?.[0] ?? null;
}

const names = async (s: SqlSession) => {
  const outcome = await ok(s, "SELECT name FROM items ORDER BY name");
  const rows = outcome.statements[0];
  return rows?.kind === "rows" ? rows.resultSet.rows.map((r) => r[0]) : [];
};

describe("SQL transaction statements", () => {
  it("nested BEGIN counts @@TRANCOUNT; only the outermost COMMIT commits", async () => {
    const s = session();
    await ok(s, "BEGIN TRAN; BEGIN TRANSACTION; INSERT INTO items (name) VALUES ('a')");
    expect(s.transactionCount).toBe(2);
    expect(await value(s, "SELECT @@TRANCOUNT")).toBe(2);
    await ok(s, "COMMIT");
    expect(s.transactionCount).toBe(1);
    await ok(s, "ROLLBACK");
    expect(s.transactionCount).toBe(0);
    expect(await names(s)).toEqual([]);
    await ok(
      s,
      "BEGIN TRAN t1; INSERT INTO items (name) VALUES ('b'); BEGIN TRAN; COMMIT TRAN; COMMIT TRANSACTION t1",
    );
    expect(await names(s)).toEqual(["b"]);
  });

  it("SAVE TRANSACTION and ROLLBACK TRANSACTION name roll back to the savepoint (TypeORM nesting)", async () => {
    const s = session();
    await ok(s, "BEGIN TRANSACTION");
    await ok(s, "INSERT INTO items (name) VALUES ('kept')");
    await ok(s, "SAVE TRANSACTION typeorm_1");
    await ok(s, "INSERT INTO items (name) VALUES ('undone')");
    await ok(s, "ROLLBACK TRANSACTION typeorm_1");
    expect(s.transactionCount).toBe(1);
    await ok(s, "INSERT INTO items (name) VALUES ('after')");
    await ok(s, "COMMIT");
    expect(await names(s)).toEqual(["after", "kept"]);
  });

  it("ROLLBACK with the outer transaction's name rolls back everything; an unknown name is 6401", async () => {
    const s = session();
    await ok(s, "BEGIN TRAN outer_tx; BEGIN TRAN inner_tx; INSERT INTO items (name) VALUES ('x')");
    const wrong = await s.execute("ROLLBACK TRAN inner_tx");
    expect(errors(wrong)).toEqual([6401]);
    expect(s.transactionCount).toBe(2);
    await ok(s, "ROLLBACK TRAN outer_tx");
    expect(s.transactionCount).toBe(0);
    expect(await names(s)).toEqual([]);
  });

  it("a failing statement inside a transaction does not abort it (XACT_ABORT OFF)", async () => {
    const s = session();
    const outcome = await s.execute(
      "BEGIN TRAN; INSERT INTO items (name) VALUES ('one'); INSERT INTO items (name) VALUES ('one'); INSERT INTO items (name) VALUES ('two')",
    );
    expect(outcome.statements.map((o) => (o.kind === "error" ? o.error.number : o.kind))).toEqual([
      "done",
      "done",
      2627,
      "done",
    ]);
    expect(await value(s, "SELECT @@TRANCOUNT")).toBe(1);
    const failed = await s.execute("SELECT * FROM missing_table");
    expect(errors(failed)).toEqual([208]);
    await ok(s, "INSERT INTO items (name) VALUES ('three'); COMMIT");
    expect(await names(s)).toEqual(["one", "three", "two"]);
  });

  it("SET XACT_ABORT ON rolls the transaction back on error", async () => {
    const s = session();
    const outcome = await s.execute(
      "SET XACT_ABORT ON; BEGIN TRAN; INSERT INTO items (name) VALUES ('gone'); INSERT INTO items (name) VALUES (NULL); INSERT INTO items (name) VALUES ('never')",
    );
    expect(errors(outcome)).toEqual([515]);
    expect(s.transactionCount).toBe(0);
    await ok(s, "SET XACT_ABORT OFF");
    expect(await names(s)).toEqual([]);
  });

  it("DDL rolled back with the transaction is gone from the catalog", async () => {
    const s = session();
    await ok(s, "BEGIN TRAN; CREATE TABLE temp_ddl (a int); INSERT INTO temp_ddl VALUES (1)");
    expect(await value(s, "SELECT COUNT(*) FROM temp_ddl")).toBe(1);
    await ok(s, "ROLLBACK");
    expect(errors(await s.execute("SELECT * FROM temp_ddl"))).toEqual([208]);
  });
});

describe("transaction-manager API", () => {
  it("begin/commit/rollback, nested begins and savepoints by name (Knex)", async () => {
    const s = session();
    await s.beginTransaction();
    await ok(s, "INSERT INTO items (name) VALUES ('tm1')");
    await s.saveTransaction("trx2");
    await ok(s, "INSERT INTO items (name) VALUES ('tm2')");
    await s.rollbackTransaction("trx2");
    expect(s.transactionCount).toBe(1);
    await s.beginTransaction("nested");
    expect(s.transactionCount).toBe(2);
    await s.commitTransaction();
    await s.commitTransaction();
    expect(s.transactionCount).toBe(0);
    expect(await names(s)).toEqual(["tm1"]);
    await s.beginTransaction("named");
    await ok(s, "INSERT INTO items (name) VALUES ('tm3')");
    await s.rollbackTransaction("named");
    expect(s.transactionCount).toBe(0);
    expect(await names(s)).toEqual(["tm1"]);
  });

  it("commit/rollback/save without a transaction reject with 3902/3903/628", async () => {
    const s = session();
    await expect(s.commitTransaction()).rejects.toMatchObject({ number: 3902 });
    await expect(s.rollbackTransaction()).rejects.toMatchObject({ number: 3903 });
    await expect(s.saveTransaction("x")).rejects.toMatchObject({ number: 628 });
  });
});

describe("sessions and the engine lock", () => {
  it("statements outside transactions from several sessions are serialized and all run", async () => {
    const sessions = [session("a"), session("b"), session("c")];
    await Promise.all(
      sessions.flatMap((s, i) =>
        [0, 1, 2].map((j) => ok(s, `INSERT INTO items (name) VALUES ('s${i}-${j}')`)),
      ),
    );
    expect(await names(sessions[0] as SqlSession)).toHaveLength(9);
  });

  it("a session in a transaction holds the engine; another waits, then runs after COMMIT", async () => {
    const a = session("a");
    const b = session("b");
    await a.beginTransaction();
    await ok(a, "INSERT INTO items (name) VALUES ('from-a')");
    const order: string[] = [];
    const waiting = b.execute("SELECT COUNT(*) FROM items").then((outcome) => {
      order.push("b");
      return outcome;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push("a-commit");
    await a.commitTransaction();
    const outcome = await waiting;
    expect(order).toEqual(["a-commit", "b"]);
    expect(outcome.statements[0]).toMatchObject({ kind: "rows", resultSet: { rows: [[1]] } });
  });

  it("a waiter gives up after the lock timeout with 1222, and the holder is unaffected", async () => {
    const a = session("a");
    const b = session("b");
    await ok(a, "BEGIN TRAN; INSERT INTO items (name) VALUES ('held')");
    const started = Date.now();
    const outcome = await b.execute("SELECT 1");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(outcome.statements).toEqual([
      {
        kind: "error",
        error: expect.objectContaining({ number: 1222, message: "Lock request time out period exceeded." }),
      },
    ]);
    await expect(b.beginTransaction()).rejects.toMatchObject({ number: 1222 });
    await ok(a, "COMMIT");
    expect(await names(b)).toEqual(["held"]);
  });

  it("SET LOCK_TIMEOUT changes how long this session waits", async () => {
    const a = session("a");
    const b = session("b");
    await ok(b, "SET LOCK_TIMEOUT 20");
    await a.beginTransaction();
    const started = Date.now();
    const e = (await b.execute("SELECT 1")).statements[0] as { error: SqlServerError };
    expect(e.error.number).toBe(1222);
    expect(Date.now() - started).toBeLessThan(500);
    await a.rollbackTransaction();
  });

  it("close() rolls back an open transaction and lets the others in", async () => {
    const a = session("a");
    const b = session("b");
    await ok(a, "BEGIN TRAN; INSERT INTO items (name) VALUES ('uncommitted')");
    const waiting = b.execute("SELECT COUNT(*) FROM items");
    await a.close();
    expect((await waiting).statements[0]).toMatchObject({ resultSet: { rows: [[0]] } });
    await expect(a.execute("SELECT 1")).rejects.toThrow(/closed/);
    await a.close();
  });
});
