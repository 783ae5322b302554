import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredApp, RegisteredUser } from "../entra/index.js";
import type { StandInEvent } from "./events.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { FakeEngine } from "./test-helpers/fake-engine.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import { sessionBaseline } from "./test-helpers/session-baseline.js";
import { close, connect, query, RecordingCredential } from "./test-helpers/tedious-client.js";

// Successful logins with real tedious: both FEDAUTH workflows and SQL authentication, over every
// encryption mode tedious offers.

const ENCRYPTION = [
  { encrypt: false, recorded: "off" },
  { encrypt: true, recorded: "tls" },
  { encrypt: "strict", recorded: "strict" },
] as const;

describe("logins", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let user: RegisteredUser;
  let app: RegisteredApp;
  const engine = new FakeEngine();
  let engineFactoryCalls = 0;
  const events: StandInEvent[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    user = identity.entra.registerUser({ upn: "alice@contoso.test" });
    app = identity.entra.registerApp({ displayName: "orders-api" });
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      engine: () => {
        engineFactoryCalls++;
        return engine;
      },
      users: [
        { name: "alice@contoso.test", objectId: user.objectId },
        { name: "orders-api", appId: app.clientId },
      ],
      sqlLogins: [{ userName: "report_reader", password: "S3cret!pass" }],
      onEvent: (event) => events.push(event),
    });
  });

  afterAll(async () => {
    await standIn?.close();
    await identity?.close();
  });

  it("answers tedious' post-login SET batch without starting the engine", async () => {
    const baseline = sessionBaseline(standIn);
    const token = identity.entra.mintAccessToken({ principal: user }).token;
    const connection = await connect(
      standIn.connectionConfig({
        authentication: { type: "azure-active-directory-access-token", options: { token } },
      }),
    );
    expect(engineFactoryCalls).toBe(0);
    expect(baseline.opened()).toHaveLength(1);
    await query(connection, "SELECT 1 AS one");
    expect(engineFactoryCalls).toBe(1);
    await close(connection);
  });

  for (const { encrypt, recorded } of ENCRYPTION) {
    describe(`encrypt: ${String(encrypt)}`, () => {
      it("logs in with an access token (FEDAUTH library 1, token inline)", async () => {
        const minted = identity.entra.mintAccessToken({ principal: user });
        const connection = await connect(
          standIn.connectionConfig({
            authentication: { type: "azure-active-directory-access-token", options: { token: minted.token } },
            encrypt,
          }),
        );
        const { rows } = await query(connection, "SELECT 1 AS one");
        expect(rows).toEqual([{ one: 1 }]);
        const login = standIn.logins.at(-1);
        expect(login).toMatchObject({
          ok: true,
          authMode: "fedauth-inline",
          encryption: recorded,
          principal: {
            kind: "user",
            name: "alice@contoso.test",
            objectId: user.objectId,
            databaseUser: "alice@contoso.test",
          },
        });
        expect(login?.tokenExpiresAt?.getTime()).toBe(minted.expiresOnTimestamp);
        const session = standIn.sessions.find((s) => s.id === login?.sessionId);
        expect(session).toMatchObject({ encryption: recorded, inTransaction: false, revalidated: false });
        expect(engine.executed.at(-1)).toMatchObject({
          sql: "SELECT 1 AS one",
          principalName: "alice@contoso.test",
        });
        await close(connection);
      });

      it("logs in with a token credential (FEDAUTH library 2: FEDAUTHINFO, then FEDAUTH_TOKEN)", async () => {
        const credential = new RecordingCredential(
          () => identity.entra.mintAccessToken({ principal: app }).token,
        );
        const connection = await connect(
          standIn.connectionConfig({
            authentication: { type: "token-credential", options: { credential } },
            encrypt,
          }),
        );
        expect(credential.scopes).toEqual(["https://database.windows.net/.default"]);
        const { rows } = await query(connection, "SELECT 2 AS two");
        expect(rows).toEqual([{ two: 2 }]);
        expect(standIn.logins.at(-1)).toMatchObject({
          ok: true,
          authMode: "fedauth-credential",
          encryption: recorded,
          announcedSpn: "https://database.windows.net/",
          principal: { kind: "app", name: app.clientId, appId: app.clientId, databaseUser: "orders-api" },
        });
        await close(connection);
      });

      it("logs in with SQL authentication", async () => {
        const connection = await connect(
          standIn.connectionConfig({
            authentication: {
              type: "default",
              options: { userName: "report_reader", password: "S3cret!pass" },
            },
            encrypt,
          }),
        );
        expect((await query(connection, "SELECT 3 AS three", { batch: true })).rows).toEqual([{ three: 3 }]);
        expect(standIn.logins.at(-1)).toMatchObject({
          ok: true,
          authMode: "sql",
          encryption: recorded,
          principal: { kind: "sql", name: "report_reader" },
        });
        await close(connection);
      });
    });
  }

  it("negotiates TLS 1.2 inside PRELOGIN and TLS with ALPN tds/8.0 in strict mode", () => {
    const encrypted = events.filter((e) => e.type === "encrypted");
    expect(encrypted.some((e) => e.mode === "tls" && e.protocol === "TLSv1.2")).toBe(true);
    expect(encrypted.some((e) => e.mode === "strict" && e.alpn === "tds/8.0")).toBe(true);
  });

  it("caches the JWKS and refetches it once when a token names an unknown kid (key rotation)", async () => {
    const login = async () =>
      close(
        await connect(
          standIn.connectionConfig({
            authentication: {
              type: "azure-active-directory-access-token",
              options: { token: identity.entra.mintAccessToken({ principal: user }).token },
            },
          }),
        ),
      );
    await login();
    const fetches = standIn.jwksFetchCount;
    await login();
    expect(standIn.jwksFetchCount).toBe(fetches);
    await identity.entra.rotateSigningKey();
    await login();
    expect(standIn.jwksFetchCount).toBe(fetches + 1);
    expect(standIn.logins.at(-1)).toMatchObject({ ok: true });
  });

  it("announces a custom SPN in FEDAUTHINFO and the client derives its scope from it", async () => {
    const other = await startSqlStandIn({
      tokenVerification: identity.tokenVerification({ audiences: ["https://sql.contoso.test/"] }),
      fedAuthInfo: { spn: "https://sql.contoso.test/" },
      users: [{ name: "orders-api", appId: app.clientId }],
      engine,
    });
    try {
      identity.entra.addResource("https://sql.contoso.test/");
      const credential = new RecordingCredential(
        () => identity.entra.mintAccessToken({ principal: app, resource: "https://sql.contoso.test/" }).token,
      );
      const connection = await connect(
        other.connectionConfig({ authentication: { type: "token-credential", options: { credential } } }),
      );
      expect(credential.scopes).toEqual(["https://sql.contoso.test/.default"]);
      await close(connection);
    } finally {
      await other.close();
    }
  });
});
