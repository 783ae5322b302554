import { createEntraMssql, type EntraMssqlEvent, isTokenLoginRejectedError } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoApp,
  demoAppTokenSource,
  identityRequests,
  mssqlConfig,
  recorder,
  SQL_SCOPE,
  sleep,
} from "./helpers.js";

// Connections retire by age (never while in use), and a refused token login
// is retried once with a fresh token; the second refusal names the principal and the fix.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

const retired = (events: EntraMssqlEvent[], reason: string) =>
  events.filter((e) => e.type === "connection-retired" && e.reason === reason);

describe.each(["inline", "token-credential"] as const)("lifetime, tokenMode %s", (tokenMode) => {
  const modeOptions = tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };

  it("retires connections past their max age on acquire and release, never in use", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const sql = createEntraMssql(mssql, {
      tokenSource,
      ...modeOptions,
      maxAgeInMs: 1000,
      maxAgeJitterRatio: 0,
      onEvent,
    });
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { max: 2 })).connect();
    const loginsBefore = standIns.sql.logins.length;
    try {
      // A transaction longer than the max age keeps its connection: retirement waits for the release.
      const transaction = new sql.Transaction(pool);
      await transaction.begin();
      await sleep(1400);
      await transaction.request().query("SELECT 1 AS one");
      await transaction.commit();
      // The transaction outlived its connection's max age and completed (the query and the COMMIT ran on
      // it): the connection retired at its release. Another (mssql's first) retires idle, or on acquire
      // when its login took most of the second (a connection's age counts its login).
      const at = retired(events, "max-age").map((e) => e.type === "connection-retired" && e.at);
      expect(at).toContain("release");
      for (let i = 0; i < 6; i++) {
        await pool.query("SELECT 1 AS one");
        await sleep(300);
      }
      expect(retired(events, "max-age").length).toBeGreaterThanOrEqual(2);
      expect(standIns.sql.logins.length - loginsBefore).toBeGreaterThanOrEqual(3);
      // A retired connection is closed: no more sessions than the pool may hold.
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(2);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});

describe.each(["inline", "token-credential"] as const)("refused token logins, tokenMode %s", (tokenMode) => {
  const modeOptions = tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };

  it("invalidates the token and retries the login once with a fresh one", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    await tokenSource.getToken(SQL_SCOPE); // a cached token the next login will use first
    const { events, onEvent } = recorder();
    const sql = createEntraMssql(mssql, { tokenSource, ...modeOptions, onEvent });
    standIns.sql.revokePrincipal(app.objectId);
    // Access comes back while the pool fetches a fresh token (an admin re-enabled the identity).
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    const requestsBefore = identityRequests(standIns);
    const loginsBefore = standIns.sql.logins.length;
    try {
      const pool = await new sql.ConnectionPool(mssqlConfig(standIns)).connect();
      await pool.query("SELECT 1 AS one");
      await pool.close();
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.slice(0, 2).map((l) => [l.ok, l.failure, l.errorNumber])).toEqual([
        [false, "revoked", 18456],
        [true, undefined, undefined],
      ]);
      expect(events.find((e) => e.type === "login-retried")).toMatchObject({
        verdict: "rejected",
        scope: SQL_SCOPE,
      });
      expect(events.find((e) => e.type === "connection-opened")).toMatchObject({ attempt: 2 });
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      tokenSource.close();
    }
  });

  it("a second refusal fails with a named error naming the principal and the CREATE USER fix", async () => {
    const newcomer = standIns.entra.registerApp({
      displayName: `report-job-${tokenMode}`,
      clientSecret: true,
    });
    const tokenSource = demoAppTokenSource(standIns);
    const { createTokenSource } = await import("@entra-sql/core");
    const newcomerSource = createTokenSource({
      credential: {
        type: "service-principal",
        tenantId: standIns.entra.tenantId,
        clientId: newcomer.clientId,
        clientSecret: newcomer.clientSecret ?? "",
      },
      identityOptions: standIns.entra.credentialOptions(),
    });
    const sql = createEntraMssql(mssql, { tokenSource: newcomerSource, ...modeOptions });
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await new sql.ConnectionPool(mssqlConfig(standIns)).connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTokenLoginRejectedError(error)).toBe(true);
      if (!isTokenLoginRejectedError(error)) return;
      expect(error.principal).toMatchObject({ kind: "service-principal", objectId: newcomer.objectId });
      expect(error.message).toContain(newcomer.objectId);
      expect(error.message).toContain("Login failed for user '<token-identified principal>'");
      expect(error.message).toContain("CREATE USER");
      expect(error.createUserStatement).toContain("FROM EXTERNAL PROVIDER");
      expect(error.cause).toBeInstanceOf(Error);
      expect(standIns.sql.logins.slice(loginsBefore).map((l) => l.failure)).toEqual([
        "unknown-principal",
        "unknown-principal",
      ]);
      const token = await newcomerSource.getAccessToken();
      for (const segment of token.split(".").slice(1))
        expect(`${error.message}${error.stack}`).not.toContain(segment);
    } finally {
      newcomerSource.close();
      tokenSource.close();
    }
  });
});
