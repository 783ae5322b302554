import { createEntraKnexConfig, isLoginRefusedError } from "@entra-sql/knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { appTokenSource, failureOf, identityRequestsOf, registerApp } from "../mssql/defect-fixtures.js";
import { knexConfig, modeOptions, OLDEST_AND_NEWEST, ofType, recorder, versionModes } from "./helpers.js";

// A wrong database name is reported as such (@entra-sql/knex with the oldest and the newest supported
// Knex; the same scenario as the mssql suite's file). Azure SQL answers a login to a database that does not
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

describe.each(versionModes(OLDEST_AND_NEWEST))("%s", (_, v, tokenMode) => {
  it('database "otherdb": LoginRefusedError 4060 naming the database, one login, one token', async () => {
    const app = registerApp(standIns, `database-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const { events, onEvent } = recorder();
    const config = knexConfig(standIns, { min: 0, max: 2 });
    const loginsBefore = standIns.sql.logins.length;
    const db = v.create(
      createEntraKnexConfig(
        v.knex,
        { ...config, connection: { ...config.connection, database: "otherdb" } },
        { tokenSource, ...modeOptions(tokenMode), onEvent },
      ),
    );
    try {
      const error = await failureOf(db.raw("select 1 as one"));

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
      expect(ofType(events, "login-retried")).toEqual([]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});
