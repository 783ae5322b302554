import { isInvalidOptionError } from "@entra-sql/core";
import { createEntraConnectionPool, createEntraMssql, isConnectionFailedError } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { startSqlStandIn } from "../../support/tds/index.js";
import {
  demoApp,
  demoAppTokenSource,
  identityRequests,
  mssqlConfig,
  recorder,
  SQL_SCOPE,
} from "./helpers.js";

// The built @entra-sql/mssql with the real mssql 12 / tedious 19 against the SQL stand-in and the
// local Entra ID: both token modes log in, a busy pool asks the identity endpoint once, and pool
// configs are checked when the pool is created.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each([
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const)("tokenMode %s", (tokenMode, authMode) => {
  it("runs 30 concurrent queries through a pool of 10 with one identity-endpoint request", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const sql = createEntraMssql(mssql, {
      tokenSource,
      tokenMode,
      ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
      onEvent,
    });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { max: 10 })).connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => pool.request().input("n", sql.Int, i).query("SELECT @n AS n")),
      );
      expect(results.map((r) => r.recordset[0]?.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      const logins = standIns.sql.logins.slice(loginsBefore);
      // The probe connection mssql opens in connect(), then at most `max` pooled ones.
      expect(logins.length).toBeGreaterThanOrEqual(2);
      expect(logins.length).toBeLessThanOrEqual(11);
      expect(logins.every((l) => l.ok && l.authMode === authMode)).toBe(true);
      expect(new Set(logins.map((l) => l.principal?.databaseUser))).toEqual(new Set(["entra-sql-demo-app"]));
      const opened = events.filter((e) => e.type === "connection-opened");
      expect(opened).toHaveLength(logins.length);
      for (const event of opened) {
        expect(event).toMatchObject({ tokenMode, scope: SQL_SCOPE, attempt: 1 });
        // Retired 60 s (the default margin) before the token expires, well before the 30 min age cap.
        expect(event.retireAt).toBeLessThanOrEqual((event.tokenExpiresOnTimestamp ?? 0) - 60_000);
      }
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});

describe("the module object", () => {
  it("re-exports mssql and replaces only ConnectionPool, Request, Transaction, PreparedStatement (and connect)", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql, { tokenSource, scope: SQL_SCOPE });
    expect(sql.ConnectionPool).not.toBe(mssql.ConnectionPool);
    expect(new sql.ConnectionPool(mssqlConfig(standIns))).toBeInstanceOf(mssql.ConnectionPool);
    expect(sql.Int).toBe(mssql.Int);
    expect(Object.getPrototypeOf(sql.PreparedStatement)).toBe(mssql.PreparedStatement);
    // Subclasses that handle error 37396 (session-token-expired.test.ts), used by the pool too.
    expect(sql.Request).not.toBe(mssql.Request);
    expect(Object.getPrototypeOf(sql.Request)).toBe(mssql.Request);
    expect(Object.getPrototypeOf(sql.Transaction)).toBe(mssql.Transaction);
    expect(sql.tokenSource).toBe(tokenSource);
    const pool = await sql.connect(mssqlConfig(standIns));
    try {
      expect(pool.request()).toBeInstanceOf(sql.Request);
      expect(pool.transaction()).toBeInstanceOf(sql.Transaction);
      expect(new sql.Transaction(pool).request()).toBeInstanceOf(sql.Request);
      // A transaction's request keeps mssql's own overrides: the transaction's and a valid requestTimeout.
      type WithOverrides = { overrides?: object; request(config?: object): WithOverrides };
      const trx = new sql.Transaction(pool) as unknown as WithOverrides;
      trx.overrides = { requestTimeout: 2500 };
      const overridesOf = (config?: object) => trx.request(config).overrides;
      expect(overridesOf()).toEqual({ requestTimeout: 2500 });
      expect(overridesOf({ requestTimeout: 1234 })).toEqual({ requestTimeout: 1234 });
      expect(overridesOf({ requestTimeout: -1 })).toEqual({ requestTimeout: 2500 });
      expect((await pool.request().query("SELECT 1 AS one")).recordset).toEqual([{ one: 1 }]);
      expect((await pool.query`SELECT ${2} AS two`).recordset).toEqual([{ two: 2 }]);
      expect((await pool.batch("SELECT 3 AS three")).recordset).toEqual([{ three: 3 }]);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });

  it("createEntraConnectionPool gives one pool for plain mssql users", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const pool = await createEntraConnectionPool(mssql, mssqlConfig(standIns), {
      tokenSource,
      scope: SQL_SCOPE,
    }).connect();
    try {
      expect((await pool.query("SELECT 2 AS two")).recordset).toEqual([{ two: 2 }]);
      expect(standIns.sql.logins.at(-1)).toMatchObject({ ok: true, authMode: "fedauth-inline" });
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});

describe("config validation at creation", () => {
  const expectInvalid = (create: () => unknown, option: string) => {
    let error: unknown;
    try {
      create();
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ option });
    expect(String(error)).toMatch(/^InvalidOptionError: @entra-sql\/mssql: option "/);
    return error;
  };

  it("rejects an unknown pool key when the pool is created, not at the first login", () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql, { tokenSource, scope: SQL_SCOPE });
    const config = { ...mssqlConfig(standIns), pool: { max: 5, idleTimeoutMilis: 1000 } };
    const error = expectInvalid(
      () => new sql.ConnectionPool(config as never),
      "config.pool.idleTimeoutMilis",
    );
    expect(String(error)).toContain("idleTimeoutMillis");
    expectInvalid(
      () => new sql.ConnectionPool({ ...mssqlConfig(standIns), pool: { min: 5, max: 2 } }),
      "config.pool.min",
    );
    expectInvalid(
      () => new sql.ConnectionPool({ ...mssqlConfig(standIns), pool: { create: () => ({}) } } as never),
      "config.pool.create",
    );
    tokenSource.close();
  });

  it("rejects competing authentication settings and hosts whose scope is unknown", () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql, { tokenSource, scope: SQL_SCOPE });
    expectInvalid(
      () => new sql.ConnectionPool({ ...mssqlConfig(standIns), user: "sa", password: "p4ss" }),
      "config.user",
    );
    expectInvalid(
      () =>
        new sql.ConnectionPool({
          ...mssqlConfig(standIns),
          authentication: { type: "default", options: {} },
        } as never),
      "config.authentication",
    );
    // Inline mode without `scope`: 127.0.0.1 names no cloud.
    const derived = createEntraMssql(mssql, { tokenSource });
    expect(() => new derived.ConnectionPool(mssqlConfig(standIns))).toThrow(
      /UnknownSqlHostError|cannot tell the token scope/,
    );
    expect(
      () => new derived.ConnectionPool({ ...mssqlConfig(standIns), server: "myserver.database.windows.net" }),
    ).not.toThrow();
    tokenSource.close();
  });

  it("composes a user's pool.validate with the lifetime check and mssql's own validation", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql, { tokenSource, scope: SQL_SCOPE });
    let validated = 0;
    const pool = await new sql.ConnectionPool(
      mssqlConfig(standIns, {
        max: 1,
        validate: () => {
          validated++;
          return true;
        },
      }),
    ).connect();
    try {
      await pool.query("SELECT 1 AS one");
      await pool.query("SELECT 1 AS one");
      expect(validated).toBe(2);
    } finally {
      await pool.close();
      tokenSource.close();
    }
    expect(demoApp(standIns).clientId).toBeTruthy();
  });
});

describe("connect errors", () => {
  it("a server asking for a Graph token gets none, and the empty driver message is replaced by ours", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql, { tokenSource, tokenMode: "token-credential" });
    // A server that announces Microsoft Graph as its SPN: tedious would ask for a Graph token.
    const server = await startSqlStandIn({
      engine: null,
      fedAuthInfo: { spn: "https://graph.microsoft.com/" },
      tokenVerification: {
        jwksUri: standIns.entra.jwksUri,
        caPem: standIns.entra.caPem,
        tenantId: standIns.entra.tenantId,
      },
    });
    const before = identityRequests(standIns);
    try {
      const error = await new sql.ConnectionPool({
        server: server.host,
        port: server.port,
        database: server.database,
        options: server.tlsOptions(),
      })
        .connect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toBe("");
      expect(isConnectionFailedError(error)).toBe(true);
      expect(String(error)).toContain("not an allowed SQL audience");
      expect(String(error)).toContain("https://graph.microsoft.com/.default");
      expect((error as Error).cause).toBeDefined();
      expect(identityRequests(standIns)).toBe(before);
    } finally {
      await server.close();
      tokenSource.close();
    }
  });
});
