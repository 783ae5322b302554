import { inspect } from "node:util";
import { createTokenSource } from "@entra-sql/core";
import { isLoginRefusedError, isTokenLoginRejectedError, withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoApp,
  demoAppTokenSource,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  SQL_SCOPE,
  sequelizeOptions,
  versionModes,
} from "./helpers.js";

// Refused logins through real Sequelize: an 18456 refusal drops the token and the login is retried once
// with a token fetched after the refusal (one identity request); a second refusal is a
// TokenLoginRejectedError with the CREATE USER fix. No token in events, errors, the instance or a connection.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("a refused login invalidates the token and retries once with a fresh one; no token printed anywhere", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    await tokenSource.getToken(SQL_SCOPE); // a cached token the first login will use
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns)), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    standIns.sql.revokePrincipal(app.objectId);
    // Access comes back while the client fetches a fresh token (an admin re-enabled the identity).
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    const requestsBefore = identityRequests(standIns);
    const loginsBefore = standIns.sql.logins.length;
    try {
      const [rows] = await sequelize.query("SELECT 1 AS one");
      expect(rows).toEqual([{ one: 1 }]);
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.map((l) => [l.ok, l.failure, l.errorNumber])).toEqual([
        [false, "revoked", 18456],
        [true, undefined, undefined],
      ]);
      expect(ofType(events, "login-retried")).toEqual([
        { type: "login-retried", verdict: "rejected", scope: SQL_SCOPE },
      ]);
      expect(ofType(events, "connection-opened")[0]).toMatchObject({ attempt: 2, tokenMode });
      expect(identityRequests(standIns) - requestsBefore).toBe(1);

      // No token in events, in the instance, in a pooled connection.
      const token = await tokenSource.getAccessToken(SQL_SCOPE);
      const connection = await sequelize.connectionManager.getConnection({ type: "write" });
      const printed = [
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
        inspect(sequelize, { depth: 6 }),
        inspect(connection, { depth: 6 }),
      ].join("\n");
      sequelize.connectionManager.releaseConnection(connection);
      for (const segment of token.split(".").slice(1)) expect(printed).not.toContain(segment);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await sequelize.close();
      tokenSource.close();
    }
  });

  it("a second refusal is a TokenLoginRejectedError naming the principal and the CREATE USER fix", async () => {
    const newcomer = standIns.entra.registerApp({
      displayName: `sequelize-job-${v.version}-${tokenMode}`,
      clientSecret: true,
    });
    const tokenSource = createTokenSource({
      credential: {
        type: "service-principal",
        tenantId: standIns.entra.tenantId,
        clientId: newcomer.clientId,
        clientSecret: newcomer.clientSecret ?? "",
      },
      identityOptions: standIns.entra.credentialOptions(),
    });
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns)), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await sequelize.query("SELECT 1 AS one").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTokenLoginRejectedError(error)).toBe(true);
      if (!isTokenLoginRejectedError(error)) return;
      expect(error.principal).toMatchObject({ kind: "service-principal", objectId: newcomer.objectId });
      expect(error.message).toMatch(/^@entra-sql\/sequelize: /);
      expect(error.createUserStatement).toContain("FROM EXTERNAL PROVIDER");
      expect(standIns.sql.logins.slice(loginsBefore).map((l) => l.failure)).toEqual([
        "unknown-principal",
        "unknown-principal",
      ]);
      const token = await tokenSource.getAccessToken(SQL_SCOPE);
      const printed = [error.message, error.stack, inspect(error, { depth: 8 }), JSON.stringify(events)].join(
        "\n",
      );
      for (const segment of token.split(".").slice(1)) expect(printed).not.toContain(segment);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  });

  it("a wrong database is a LoginRefusedError 4060 naming it: one login, no retry with a new token", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(
      v.create({ ...sequelizeOptions(standIns), database: "no_such_database" }),
      { tokenSource, ...modeOptions(tokenMode), onEvent },
    );
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await sequelize.query("SELECT 1 AS one").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLoginRefusedError(error)).toBe(true);
      if (!isLoginRefusedError(error)) return;
      expect(error.number).toBe(4060);
      expect(error.message).toMatch(/^@entra-sql\/sequelize: /);
      expect(error.message).toContain("no_such_database");
      expect(standIns.sql.logins.slice(loginsBefore)).toHaveLength(1);
      expect(ofType(events, "login-retried")).toEqual([]);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  });

  it("without databaseVersion, Sequelize's own version probe logs in with a token too, and is closed", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { databaseVersion: _, ...options } = sequelizeOptions(standIns);
    const sequelize = withEntraTokens(v.create(options), { tokenSource, ...modeOptions(tokenMode), onEvent });
    const loginsBefore = standIns.sql.logins.length;
    try {
      const [rows] = await sequelize.query("SELECT 1 AS one");
      expect(rows).toEqual([{ one: 1 }]);
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.map((l) => l.ok)).toEqual([true, true]);
      expect(ofType(events, "connection-opened")).toHaveLength(2);
      expect(standIns.sql.sessions).toHaveLength(1);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
  });
});
