import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource } from "typeorm";
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
} from "../mssql/defect-fixtures.js";
import { SQL_SCOPE } from "../mssql/helpers.js";
import { expectNamed, expireOpenSessions, resetClocks } from "../mssql/stale-sessions.js";
import { server } from "./helpers.js";

// Error 37396 inside TypeORM's `dataSource.transaction(...)`: the server refused a statement because the
// session's token expired. TypeORM then rolls the transaction back (SqlServerQueryRunner
// rollbackTransaction -> mssql Transaction.rollback()); that ROLLBACK must never reach the refused
// session: the connection is closed instead, which ends the transaction at the server. Checked from the
// server's request records. The caller gets TypeORM's QueryFailedError whose driverError is the
// SessionTokenExpiredError (during "transaction").
//
// How the session goes stale: ../mssql/stale-sessions.ts (both clocks jump two hours, the server
// revalidates).

const recorded = standInEvents();
let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: recorded.onEvent } });
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterEach(() => resetClocks(standIns));

afterAll(async () => {
  await standIns?.close();
});

describe.each(["inline", "token-credential"] as const)("tokenMode %s", (tokenMode) => {
  it("a statement refused inside dataSource.transaction(): SessionTokenExpiredError, no ROLLBACK on that session, nothing visible", async () => {
    const app = registerApp(standIns, `typeorm-rollback-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const events: EntraMssqlEvent[] = [];
    const dataSource = new DataSource(
      entraDataSourceOptions({
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
        mssql,
        onEvent: (event: EntraMssqlEvent) => events.push(event),
        ...server(standIns),
        options: standIns.sql.tlsOptions(),
        pool: { min: 0, max: 2 },
        synchronize: false,
      }),
    );
    const table = `typeorm_no_rollback_${tokenMode.replace("-", "_")}`;
    await dataSource.initialize();
    try {
      await dataSource.query(`CREATE TABLE ${table} (id INT)`);
      let sessionId = -1;
      const error = await failureOf(
        dataSource.transaction(async (manager) => {
          await manager.query(`INSERT INTO ${table} (id) VALUES (1)`);
          sessionId =
            standIns.sql.sessions.find((s) => s.principal.appId === app.clientId && s.inTransaction)?.id ??
            -1;
          expireOpenSessions(standIns);
          await manager.query(`INSERT INTO ${table} (id) VALUES (2)`);
        }),
      );

      expect(sessionId).toBeGreaterThan(0);
      expect((error as Error | undefined)?.name).toBe("QueryFailedError");
      expectNamed((error as { driverError?: unknown }).driverError, "transaction");

      expect(await eventually(() => !standIns.sql.sessions.some((s) => s.id === sessionId), 5_000)).toBe(
        true,
      );
      const { refused, after } = requestsAfterRefusal(recorded.events, sessionId);
      expect(refused).toBe(true);
      expect(after.filter(isRollback)).toEqual([]);
      expect(standIns.sql.closedSessions.find((s) => s.id === sessionId)?.closeReason).toBe("client");
      expect(events.filter((e) => e.type === "statement-retried")).toEqual([]);

      // Nothing of the transaction is visible, and the DataSource goes on.
      expect(await dataSource.query(`SELECT id FROM ${table}`)).toEqual([]);
      await dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO ${table} (id) VALUES (3)`);
      });
      expect(await dataSource.query(`SELECT id FROM ${table}`)).toEqual([{ id: 3 }]);
    } finally {
      await dataSource.destroy();
      tokenSource.close();
    }
  });
});
