import { inspect } from "node:util";
import { createTokenSource, isInvalidOptionError } from "@entra-sql/core";
import { createEntraKnexConfig, isConnectionFailedError, isTokenLoginRejectedError } from "@entra-sql/knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { startSqlStandIn } from "../../support/tds/index.js";
import {
  demoApp,
  demoAppTokenSource,
  identityRequests,
  KNEX_VERSIONS,
  knexConfig,
  modeOptions,
  ofType,
  recorder,
  SQL_SCOPE,
  versionModes,
} from "./helpers.js";

// The built @entra-sql/knex with real Knex 3.1, 3.2 and 3.3 (real tedious) against the SQL stand-in and
// the local Entra ID: every login carries a valid token (the stand-in verifies each), a busy pool asks
// the identity endpoint once, a refused login is retried once with a fresh token and then named, the
// config is checked when it is created, and no token shows in errors, events or util.inspect.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("runs 30 concurrent queries through a pool of 4 with one identity request and a valid token per login", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const config = createEntraKnexConfig(v.knex, knexConfig(standIns), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const db = v.create(config);
    try {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => db.raw("select ? as n", [i]) as Promise<Array<{ n: number }>>),
      );
      expect(results.map((rows) => rows[0]?.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.length).toBeGreaterThanOrEqual(1);
      expect(logins.length).toBeLessThanOrEqual(4);
      const authMode = tokenMode === "inline" ? "fedauth-inline" : "fedauth-credential";
      for (const login of logins) {
        expect(login).toMatchObject({
          ok: true,
          authMode,
          principal: { databaseUser: "entra-sql-demo-app" },
        });
      }
      const opened = ofType(events, "connection-opened");
      expect(opened).toHaveLength(logins.length);
      for (const event of opened) {
        expect(event).toMatchObject({ tokenMode, scope: SQL_SCOPE, attempt: 1 });
        expect(event.retireAt).toBeLessThanOrEqual((event.tokenExpiresOnTimestamp ?? 0) - 60_000);
      }

      // No token in events, in the config, in the Knex client, in a connection.
      const token = await tokenSource.getAccessToken(SQL_SCOPE);
      const connection = await db.client.acquireConnection();
      const printed = [
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
        inspect(config, { depth: 8 }),
        JSON.stringify(config),
        inspect(db.client, { depth: 6 }),
        inspect(connection, { depth: 6 }),
      ].join("\n");
      await db.client.releaseConnection(connection);
      for (const segment of token.split(".").slice(1)) expect(printed).not.toContain(segment);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("a refused login invalidates the token and retries once with a fresh one", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    await tokenSource.getToken(SQL_SCOPE); // a cached token the first login will use
    const { events, onEvent } = recorder();
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns), {
        tokenSource,
        ...modeOptions(tokenMode),
        onEvent,
      }),
    );
    standIns.sql.revokePrincipal(app.objectId);
    // Access comes back while the client fetches a fresh token (an admin re-enabled the identity).
    const off = tokenSource.on("token-invalidated", () => standIns.sql.restorePrincipal(app.objectId));
    const requestsBefore = identityRequests(standIns);
    const loginsBefore = standIns.sql.logins.length;
    try {
      expect(await db.raw("select 1 as one")).toEqual([{ one: 1 }]);
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.map((l) => [l.ok, l.failure, l.errorNumber])).toEqual([
        [false, "revoked", 18456],
        [true, undefined, undefined],
      ]);
      expect(ofType(events, "login-retried")).toEqual([
        { type: "login-retried", verdict: "rejected", scope: SQL_SCOPE },
      ]);
      expect(ofType(events, "connection-opened")[0]).toMatchObject({ attempt: 2 });
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await db.destroy();
      tokenSource.close();
    }
  });

  it("a second refusal is a TokenLoginRejectedError naming the principal and the CREATE USER fix", async () => {
    const newcomer = standIns.entra.registerApp({
      displayName: `knex-job-${v.version}-${tokenMode}`,
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
    const logged: string[] = [];
    const log = (message: unknown) => logged.push(String(message));
    const db = v.create(
      createEntraKnexConfig(
        v.knex,
        { ...knexConfig(standIns), log: { warn: log, error: log, deprecate: log, debug: log } },
        { tokenSource, ...modeOptions(tokenMode), onEvent },
      ),
    );
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await db.raw("select 1 as one").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTokenLoginRejectedError(error)).toBe(true);
      if (!isTokenLoginRejectedError(error)) return;
      expect(error.principal).toMatchObject({ kind: "service-principal", objectId: newcomer.objectId });
      expect(error.message).toMatch(/^@entra-sql\/knex: /);
      expect(error.message).toContain(newcomer.objectId);
      expect(error.message).toContain("Login failed for user '<token-identified principal>'");
      expect(error.createUserStatement).toContain("FROM EXTERNAL PROVIDER");
      expect(error.message).toContain(error.createUserStatement);
      expect(error.cause).toBeInstanceOf(Error);
      expect(standIns.sql.logins.slice(loginsBefore).map((l) => l.failure)).toEqual([
        "unknown-principal",
        "unknown-principal",
      ]);
      const token = await tokenSource.getAccessToken(SQL_SCOPE);
      // Knex 3.3 logs the failed acquire with its stack; neither that nor the error holds the token.
      if (v.version === "3.3") expect(logged.join("\n")).toContain("TokenLoginRejectedError");
      const printed = [
        error.message,
        error.stack,
        inspect(error, { depth: 8 }),
        JSON.stringify(events),
        ...logged,
      ].join("\n");
      for (const segment of token.split(".").slice(1)) expect(printed).not.toContain(segment);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});

describe.each(KNEX_VERSIONS)("Knex $version: the config", (v) => {
  it("passes the user's other settings through unchanged and supplies the client", () => {
    const tokenSource = demoAppTokenSource(standIns);
    const afterCreate = (_connection: unknown, done: (error: Error | null) => void) => done(null);
    const user = {
      ...knexConfig(standIns, { min: 0, max: 7, afterCreate, idleTimeoutMillis: 1234 }),
      acquireConnectionTimeout: 4321,
      useNullAsDefault: true,
      asyncStackTraces: true,
    };
    const config = createEntraKnexConfig(v.knex, user, { tokenSource, scope: SQL_SCOPE, maxAgeInMs: 60_000 });
    expect(typeof config.client).toBe("function");
    expect(config.connection).toEqual(user.connection);
    expect(config.acquireConnectionTimeout).toBe(4321);
    expect(config.useNullAsDefault).toBe(true);
    expect(config.tokenSource).toBe(tokenSource);
    expect(Object.keys(config)).not.toContain("tokenSource");
    // The same pool settings on every Knex: the age cap is this package's, not Knex 3.2's own.
    expect(config.pool).toEqual({ min: 0, max: 7, afterCreate, idleTimeoutMillis: 1234 });
    const db = v.create(config);
    expect(db.client.constructor.name).toBe("EntraMssqlClient");
    expect(db.client.dialect).toBe("mssql");
    tokenSource.close();
    return db.destroy();
  });

  it("rejects bad options and competing settings at creation, naming the option, the value and the fix", () => {
    const tokenSource = demoAppTokenSource(standIns);
    const base = knexConfig(standIns);
    const invalid = (create: () => unknown, option: string, text?: RegExp) => {
      let error: unknown;
      try {
        create();
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), `${option}: ${String(error)}`).toBe(true);
      expect(error).toMatchObject({ option });
      expect(String(error)).toMatch(/^InvalidOptionError: @entra-sql\/knex: option "/);
      if (text) expect(String(error)).toMatch(text);
    };
    const opts = { tokenSource, scope: SQL_SCOPE };
    invalid(() => createEntraKnexConfig(v.knex, base, { ...opts, maxAgeInMs: 0 }), "maxAgeInMs", /is 0;/);
    invalid(
      () => createEntraKnexConfig(v.knex, base, { ...opts, maxAgeJitterRatio: 0.7 }),
      "maxAgeJitterRatio",
    );
    invalid(
      () => createEntraKnexConfig(v.knex, base, { ...opts, tokenExpiryMarginInMs: -1 }),
      "tokenExpiryMarginInMs",
    );
    invalid(() => createEntraKnexConfig(v.knex, base, { ...opts, maxAge: 5 } as never), "maxAge", /one of/);
    invalid(
      () => createEntraKnexConfig(v.knex, base, { ...opts, tokenMode: "password" as never }),
      "tokenMode",
    );
    invalid(() => createEntraKnexConfig(v.knex, base, { tokenSource, credential: "cli" }), "credential");
    invalid(
      () => createEntraKnexConfig(v.knex, base, { credential: "nope" as never, scope: SQL_SCOPE }),
      "credential",
    );
    invalid(
      () => createEntraKnexConfig(v.knex, { ...base, client: "pg" } as never, opts),
      "config.client",
      /"pg"/,
    );
    const secret = "p4ss-w0rd";
    invalid(
      () =>
        createEntraKnexConfig(
          v.knex,
          { ...base, connection: { ...base.connection, password: secret } },
          opts,
        ),
      "config.connection.password",
      /value not shown/,
    );
    invalid(
      () =>
        createEntraKnexConfig(
          v.knex,
          { ...base, connection: { ...base.connection, authentication: { type: "default" } } } as never,
          opts,
        ),
      "config.connection.authentication",
    );
    invalid(
      () =>
        createEntraKnexConfig(
          v.knex,
          { ...base, pool: { max: 2, maxConnectionLifetimeMillis: 1000 } } as never,
          opts,
        ),
      "config.pool.maxConnectionLifetimeMillis",
      /maxAgeInMs/,
    );
    invalid(() => createEntraKnexConfig({} as never, base, opts), "knex");
    if (!v.tokenCredential) {
      invalid(
        () => createEntraKnexConfig(v.knex, base, { tokenSource, tokenMode: "token-credential" }),
        "tokenMode",
        /from version 3\.3/,
      );
    }
    // Inline mode without `scope`: 127.0.0.1 names no cloud; a known Azure SQL host does.
    expect(() => createEntraKnexConfig(v.knex, base, { tokenSource })).toThrow(/cannot tell the token scope/);
    expect(() =>
      createEntraKnexConfig(
        v.knex,
        { ...base, connection: { ...base.connection, server: "myserver.database.windows.net" } },
        { tokenSource },
      ),
    ).not.toThrow();
    tokenSource.close();
  });
});

describe.each(KNEX_VERSIONS)("Knex $version: a connection provider function", (v) => {
  it("is called by Knex as usual; what it returns is checked at each login", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { connection } = knexConfig(standIns);
    let calls = 0;
    let withPassword = false;
    const provider = async () => {
      calls++;
      return withPassword ? { ...connection, password: "p4ss" } : { ...connection };
    };
    const db = v.create(
      createEntraKnexConfig(
        v.knex,
        { connection: provider, pool: { min: 0, max: 1 } },
        { tokenSource, scope: SQL_SCOPE, maxAgeInMs: null },
      ),
    );
    try {
      expect(await db.raw("select 1 as one")).toEqual([{ one: 1 }]);
      expect(calls).toBe(1);
    } finally {
      await db.destroy();
    }
    withPassword = true;
    const refused = v.create(
      createEntraKnexConfig(
        v.knex,
        {
          connection: provider,
          pool: { min: 0, max: 1 },
          log: { warn: () => {}, error: () => {}, deprecate: () => {}, debug: () => {} },
        },
        { tokenSource, scope: SQL_SCOPE },
      ),
    );
    try {
      const error = await refused.raw("select 1 as one").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isInvalidOptionError(error)).toBe(true);
      expect(error).toMatchObject({ option: "connection.password" });
      expect(String(error)).not.toContain("p4ss");
    } finally {
      await refused.destroy();
      tokenSource.close();
    }
  });
});

describe("connect errors", () => {
  it("a server asking for a Graph token gets none, and the empty driver message is replaced by ours (Knex 3.3)", async () => {
    const v = KNEX_VERSIONS.find((k) => k.tokenCredential);
    if (v === undefined) throw new Error("no Knex version with token-credential support");
    const tokenSource = demoAppTokenSource(standIns);
    const server = await startSqlStandIn({
      engine: null,
      fedAuthInfo: { spn: "https://graph.microsoft.com/" },
      tokenVerification: {
        jwksUri: standIns.entra.jwksUri,
        caPem: standIns.entra.caPem,
        tenantId: standIns.entra.tenantId,
      },
    });
    const db = v.create(
      createEntraKnexConfig(
        v.knex,
        {
          connection: {
            server: server.host,
            port: server.port,
            database: server.database,
            options: server.tlsOptions(),
          },
          log: { warn: () => {}, error: () => {}, deprecate: () => {}, debug: () => {} },
        },
        { tokenSource, tokenMode: "token-credential" },
      ),
    );
    const before = identityRequests(standIns);
    try {
      const error = await db.raw("select 1 as one").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isConnectionFailedError(error)).toBe(true);
      expect(String(error)).toContain("not an allowed SQL audience");
      expect(String(error)).toContain("https://graph.microsoft.com/.default");
      expect(identityRequests(standIns)).toBe(before);
    } finally {
      await db.destroy();
      await server.close();
      tokenSource.close();
    }
  });
});
