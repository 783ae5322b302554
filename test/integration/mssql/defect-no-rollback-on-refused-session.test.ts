import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  appTokenSource,
  eventually,
  failureOf,
  isRollback,
  registerApp,
  requestsAfterRefusal,
  standInEvents,
} from "./defect-fixtures.js";
import { mssqlConfig, SQL_SCOPE } from "./helpers.js";
import { expectNamed, expireOpenSessions, resetClocks } from "./stale-sessions.js";

// Error 37396 inside a transaction: the server refused a statement because the session's token expired.
// Nothing more may be sent on that session: not even the ROLLBACK the caller asks for (the server would
// refuse it too, and a driver that sees its ROLLBACK fail keeps the connection in a broken state). The
// client closes the connection instead, which ends the transaction at the server. Checked from the
// server's request records: after the 37396, no transaction-manager rollback and no ROLLBACK SQL
// arrived on that session, and the session was closed by the client.
//
// How the session goes stale: stale-sessions.ts (both clocks jump two hours, the server revalidates).

const server = standInEvents();
let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: server.onEvent } });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => resetClocks(standIns));

afterAll(async () => {
  await standIns?.close();
});

describe.each(["inline", "token-credential"] as const)("tokenMode %s", (tokenMode) => {
  it("a statement refused inside a transaction, then the caller's rollback(): no ROLLBACK on that session, closed, nothing visible", async () => {
    const app = registerApp(standIns, `rollback-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const events: EntraMssqlEvent[] = [];
    const sql = createEntraMssql(mssql, {
      tokenSource,
      tokenMode,
      ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
      onEvent: (event) => events.push(event),
    });
    const table = `no_rollback_${tokenMode.replace("-", "_")}`;
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { min: 0, max: 2 })).connect();
    try {
      await pool.query(`CREATE TABLE ${table} (id INT)`);
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await transaction.request().query(`INSERT INTO ${table} (id) VALUES (1)`);
      const session = standIns.sql.sessions.find(
        (s) => s.principal.appId === app.clientId && s.inTransaction,
      );
      expect(session).toBeDefined();
      const sessionId = session?.id ?? -1;
      expireOpenSessions(standIns);

      const error = await failureOf(transaction.request().query(`INSERT INTO ${table} (id) VALUES (2)`));
      expectNamed(error, "transaction");
      await transaction.rollback();

      // The server's records: the refusal, then nothing that rolls back on that session; the client
      // closed it.
      expect(await eventually(() => !standIns.sql.sessions.some((s) => s.id === sessionId), 5_000)).toBe(
        true,
      );
      const { refused, after } = requestsAfterRefusal(server.events, sessionId);
      expect(refused).toBe(true);
      expect(after.filter(isRollback)).toEqual([]);
      expect(standIns.sql.closedSessions.find((s) => s.id === sessionId)?.closeReason).toBe("client");
      expect(events.filter((e) => e.type === "statement-retried")).toEqual([]);

      // Nothing of the transaction is visible, and the pool goes on (logging in with a fresh token).
      expect((await pool.query(`SELECT id FROM ${table}`)).recordset).toEqual([]);
      const again = new sql.Transaction(pool);
      await again.begin();
      await again.request().query(`INSERT INTO ${table} (id) VALUES (3)`);
      await again.commit();
      expect((await pool.query<{ id: number }>(`SELECT id FROM ${table}`)).recordset).toEqual([{ id: 3 }]);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});
