import { createEntraMssql, type EntraMssqlEvent, isLoginRefusedError } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { appTokenSource, failureOf, identityRequestsOf, registerApp } from "./defect-fixtures.js";
import { mssqlConfig, SQL_SCOPE } from "./helpers.js";

// A wrong database name is reported as such. Azure SQL answers a login to a database that does not
// exist with ERROR 4060 `Cannot open database "otherdb" requested by the login. The login failed.` and
// THEN ERROR 18456 `Login failed for user '<token-identified principal>'.` (the stand-in does the same).
// tedious' connect error is the last one, 18456, which reads like a refused token; the adapter must
// name the database instead (LoginRefusedError, number 4060, advice about the "database" setting), and
// must not retry with a fresh token: a new token cannot create a database. tedious itself does not
// retry either (4060 is on its transient list, but it keys on the last message, 18456), so no
// maxRetriesOnTransientErrors is set here: a second login in the server's records would be a retry
// by someone.

const SERVER_4060 = 'Cannot open database "otherdb" requested by the login. The login failed.';

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(["inline", "token-credential"] as const)("tokenMode %s", (tokenMode) => {
  it('database "otherdb": LoginRefusedError 4060 naming the database, one login, one token', async () => {
    const app = registerApp(standIns, `database-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const events: EntraMssqlEvent[] = [];
    const sql = createEntraMssql(mssql, {
      tokenSource,
      tokenMode,
      ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
      onEvent: (event) => events.push(event),
    });
    const loginsBefore = standIns.sql.logins.length;
    const pool = new sql.ConnectionPool({ ...mssqlConfig(standIns), database: "otherdb" });
    try {
      const error = await failureOf(pool.connect());

      expect(isLoginRefusedError(error)).toBe(true);
      if (!isLoginRefusedError(error)) return;
      expect(error.number).toBe(4060);
      expect(error.serverMessage).toBe(SERVER_4060);
      expect(error.message).toContain('database "otherdb"');
      expect(error.message).toContain(SERVER_4060);
      expect(error.message).toMatch(/the "database" setting/);
      expect(error.message).not.toMatch(/CREATE USER/);

      // One login at the server, refused for the database (the token itself was accepted), and one
      // token from the IdP: no retry with a fresh token.
      expect(standIns.sql.logins.slice(loginsBefore)).toEqual([
        expect.objectContaining({ ok: false, failure: "wrong-database", errorNumber: 4060 }),
      ]);
      expect(identityRequestsOf(standIns, app)).toBe(1);
      expect(events.filter((e) => e.type === "login-retried")).toEqual([]);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});
