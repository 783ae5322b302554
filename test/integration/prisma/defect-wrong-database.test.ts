import { isLoginRefusedError, LoginRefusedError } from "@entra-sql/prisma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { appTokenSource, failureOf, identityRequestsOf, registerApp } from "../mssql/defect-fixtures.js";
import { ofType, prismaClient, TOKEN_MODES } from "./helpers.js";

// A wrong database name is reported as such, through Prisma (the mssql suite's defect-wrong-database
// scenario). Azure SQL answers a login to a database that does not exist with ERROR 4060 and THEN ERROR
// 18456, which reads like a refused token; the adapter names the database (LoginRefusedError, number
// 4060) and does not retry with a fresh token. Prisma hands the adapter's connect() error to the app
// unchanged (it adds `clientVersion`): @prisma/adapter-mssql's own 4060 mapping (DatabaseDoesNotExist)
// applies to statement errors only.

const SERVER_4060 = 'Cannot open database "otherdb" requested by the login. The login failed.';

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(TOKEN_MODES)("tokenMode %s", (tokenMode) => {
  it('database "otherdb": the query fails with LoginRefusedError 4060 naming the database, one login, one token', async () => {
    const app = registerApp(standIns, `prisma-database-${tokenMode}`);
    const tokenSource = appTokenSource(standIns, app);
    const { prisma, events } = prismaClient(standIns, tokenSource, tokenMode, {
      config: { database: "otherdb" },
    });
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await failureOf(prisma.author.count());

      expect(error).toBeInstanceOf(LoginRefusedError);
      expect(isLoginRefusedError(error)).toBe(true);
      if (!isLoginRefusedError(error)) return;
      expect(error.number).toBe(4060);
      expect(error.serverMessage).toBe(SERVER_4060);
      expect(error.message).toContain('database "otherdb"');
      expect(error.message).toMatch(/the "database" setting/);
      expect(error.message).not.toMatch(/CREATE USER/);

      // One login at the server, refused for the database (the token itself was accepted), one token.
      expect(standIns.sql.logins.slice(loginsBefore)).toEqual([
        expect.objectContaining({ ok: false, failure: "wrong-database", errorNumber: 4060 }),
      ]);
      expect(identityRequestsOf(standIns, app)).toBe(1);
      expect(ofType(events, "login-retried")).toEqual([]);
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
  });
});
