import { createEntraKnexConfig, isSessionTokenExpiredError } from "@entra-sql/knex";
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
import { expireOpenSessions, resetClocks } from "../mssql/stale-sessions.js";
import { knexConfig, modeOptions, OLDEST_AND_NEWEST, ofType, recorder, versionModes } from "./helpers.js";

// Error 37396 inside `db.transaction(async (trx) => ...)` (the oldest and the newest supported Knex): the
// server refused a statement because the session's token expired. Knex then rolls the transaction back
// (its mssql Transaction calls tedious' rollbackTransaction); that ROLLBACK must never reach the refused
// session: the connection is closed instead, which ends the transaction at the server. Checked from the
// server's request records.
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

describe.each(versionModes(OLDEST_AND_NEWEST))("%s", (_, v, tokenMode) => {
  it("a statement refused inside db.transaction(): SessionTokenExpiredError, no ROLLBACK on that session, nothing visible", async () => {
    const app = registerApp(standIns, `knex-rollback-${v.version}-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const { events, onEvent } = recorder();
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 2 }), {
        tokenSource,
        ...modeOptions(tokenMode),
        onEvent,
      }),
    );
    const table = `knex_no_rollback_${v.version.replace(".", "")}_${tokenMode.replace("-", "_")}`;
    try {
      await db.raw(`CREATE TABLE ${table} (id INT)`);
      let sessionId = -1;
      // Only the server's state is read inside the handler; the checks come after it.
      const error = await failureOf(
        db.transaction(async (trx) => {
          await trx(table).insert({ id: 1 });
          sessionId =
            standIns.sql.sessions.find((s) => s.principal.appId === app.clientId && s.inTransaction)?.id ??
            -1;
          expireOpenSessions(standIns);
          await trx(table).insert({ id: 2 });
        }),
      );

      expect(sessionId).toBeGreaterThan(0);
      expect(isSessionTokenExpiredError(error)).toBe(true);
      if (!isSessionTokenExpiredError(error)) return;
      expect(error.during).toBe("transaction");
      expect(error.number).toBe(37396);
      expect(String((error.cause as Error).message)).toMatch(/access token is expired/);

      expect(await eventually(() => !standIns.sql.sessions.some((s) => s.id === sessionId), 5_000)).toBe(
        true,
      );
      const { refused, after } = requestsAfterRefusal(recorded.events, sessionId);
      expect(refused).toBe(true);
      expect(after.filter(isRollback)).toEqual([]);
      expect(standIns.sql.closedSessions.find((s) => s.id === sessionId)?.closeReason).toBe("client");
      expect(ofType(events, "statement-retried")).toEqual([]);

      // Nothing of the transaction is visible, and the pool goes on.
      expect(await db(table).select("id")).toEqual([]);
      await db.transaction(async (trx) => {
        await trx(table).insert({ id: 3 });
      });
      expect(await db(table).select("id")).toEqual([{ id: 3 }]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});
