import { randomUUID } from "node:crypto";
import { Connection, type ConnectionAuthentication } from "tedious";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredUser } from "../entra/index.js";
import type { StandInEvent } from "./events.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { FakeEngine } from "./test-helpers/fake-engine.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import { sessionBaseline } from "./test-helpers/session-baseline.js";
import {
  close,
  connect,
  OPERATION_TIMEOUT_MS,
  query,
  RecordingCredential,
  withTimeout,
} from "./test-helpers/tedious-client.js";

// Refused logins: each check Azure SQL makes at login, the exact texts clients see, and the reason
// the stand-in records. tedious reports login errors as ConnectionError code ELOGIN.

const TOKEN_LOGIN_FAILED = "Login failed for user '<token-identified principal>'.";

describe("login failures", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let alice: RegisteredUser;
  const events: StandInEvent[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    alice = identity.entra.registerUser({ upn: "alice@contoso.test" });
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      engine: new FakeEngine(),
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      sqlLogins: [{ userName: "report_reader", password: "S3cret!pass" }],
      onEvent: (event) => events.push(event),
    });
  });

  afterAll(async () => {
    await standIn?.close();
    await identity?.close();
  });

  const tokenAuth = (token: string): ConnectionAuthentication => ({
    type: "azure-active-directory-access-token",
    options: { token },
  });

  async function failLogin(
    authentication: ConnectionAuthentication,
    extra: { encrypt?: boolean | "strict"; options?: Record<string, unknown> } = {},
  ): Promise<Error & { code?: string }> {
    const error = await connect(
      standIn.connectionConfig({ authentication, encrypt: extra.encrypt ?? true, options: extra.options }),
    ).then(
      async (connection) => {
        await close(connection);
        throw new Error("login unexpectedly succeeded");
      },
      (reason: Error & { code?: string }) => reason,
    );
    return error;
  }

  it("expired token: 18456 with Azure's 'Token is expired.' text", async () => {
    const token = identity.entra.mintAccessToken({ principal: alice, lifetimeSeconds: -60 }).token;
    const error = await failLogin(tokenAuth(token));
    expect(error.code).toBe("ELOGIN");
    expect(error.message).toBe(`${TOKEN_LOGIN_FAILED} Token is expired.`);
    expect(standIn.logins.at(-1)).toMatchObject({
      ok: false,
      failure: "expired",
      errorNumber: 18456,
      authMode: "fedauth-inline",
      principal: { objectId: alice.objectId },
    });
  });

  it("expired token through a token credential: same text", async () => {
    const credential = new RecordingCredential(
      () => identity.entra.mintAccessToken({ principal: alice, lifetimeSeconds: -60 }).token,
    );
    const error = await failLogin(
      { type: "token-credential", options: { credential } },
      { encrypt: "strict" },
    );
    expect(error.message).toBe(`${TOKEN_LOGIN_FAILED} Token is expired.`);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "expired", authMode: "fedauth-credential" });
  });

  it("an expiry within the clock skew is still accepted", async () => {
    const token = identity.entra.mintAccessToken({ principal: alice, lifetimeSeconds: -2 }).token; // skew is 5 s
    await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(token) })));
    expect(standIn.logins.at(-1)).toMatchObject({ ok: true });
  });

  it("token signed by a key the JWKS does not publish", async () => {
    const kid = identity.entra.jwks().keys[0]?.kid ?? "";
    const forged = identity.entra.mintAccessToken({ principal: alice, signWith: "untrusted", kid }).token;
    const error = await failLogin(tokenAuth(forged));
    expect(error.message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "bad-signature" });

    const unknownKid = identity.entra.mintAccessToken({
      principal: alice,
      signWith: "untrusted",
      kid: "nope",
    }).token;
    expect((await failLogin(tokenAuth(unknownKid))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "unknown-key" });
  });

  it("tampered payload fails the signature check", async () => {
    const [header, payload, signature] = identity.entra
      .mintAccessToken({ principal: alice })
      .token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    claims.exp = Math.floor(Date.now() / 1000) + 86_400;
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
    expect((await failLogin(tokenAuth(tampered))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "bad-signature" });
  });

  it("token for another audience", async () => {
    const token = identity.entra.mintAccessToken({
      principal: alice,
      resource: "https://management.azure.com/",
    }).token;
    expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "wrong-audience" });
  });

  it("token from another tenant's issuer", async () => {
    const issuer = `https://sts.windows.net/${randomUUID()}/`;
    const token = identity.entra.mintAccessToken({ principal: alice, issuer }).token;
    expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "wrong-issuer" });
  });

  it("token not valid yet (nbf beyond the skew)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = identity.entra.mintAccessToken({
      principal: alice,
      notBefore: now + 600,
      expiresAt: now + 3600,
    }).token;
    expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "not-yet-valid" });
  });

  it("a valid token for a principal that is not a database user", async () => {
    const bob = identity.entra.registerUser({ upn: "bob@contoso.test" });
    const token = identity.entra.mintAccessToken({ principal: bob }).token;
    expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({
      failure: "unknown-principal",
      principal: { name: "bob@contoso.test", objectId: bob.objectId },
    });
  });

  it("a revoked principal", async () => {
    const carol = identity.entra.registerUser({ upn: "carol@contoso.test" });
    standIn.createUser({ name: "carol@contoso.test", objectId: carol.objectId });
    standIn.revokePrincipal(carol.objectId);
    const token = identity.entra.mintAccessToken({ principal: carol }).token;
    expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "revoked" });
  });

  it("refuseLogins(true) refuses everyone until switched off", async () => {
    standIn.refuseLogins(true);
    try {
      const token = identity.entra.mintAccessToken({ principal: alice }).token;
      expect((await failLogin(tokenAuth(token))).message).toBe(TOKEN_LOGIN_FAILED);
      expect(standIn.logins.at(-1)).toMatchObject({ failure: "refused" });
      const sql = await failLogin({
        type: "default",
        options: { userName: "report_reader", password: "S3cret!pass" },
      });
      expect(sql.message).toBe("Login failed for user 'report_reader'.");
    } finally {
      standIn.refuseLogins(false);
    }
    const token = identity.entra.mintAccessToken({ principal: alice }).token;
    await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(token) })));
  });

  it("SQL authentication with a wrong password or an unknown login", async () => {
    const wrong = await failLogin({
      type: "default",
      options: { userName: "report_reader", password: "nope" },
    });
    expect(wrong).toMatchObject({ code: "ELOGIN", message: "Login failed for user 'report_reader'." });
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "bad-password", authMode: "sql" });
    const unknown = await failLogin({ type: "default", options: { userName: "mallory", password: "x" } });
    expect(unknown.message).toBe("Login failed for user 'mallory'.");
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "unknown-login" });
  });

  it("firewall rules: a client address not allowed gets Azure's 40615 naming its IP, before any token check", async () => {
    standIn.setFirewall({ allowedAddresses: ["10.1.2.3"] });
    try {
      const token = identity.entra.mintAccessToken({ principal: alice }).token;
      const error = await failLogin(tokenAuth(token));
      expect(error.message).toBe(
        "Cannot open server 'entra-sql-stand-in' requested by the login. Client with IP address '127.0.0.1' is not allowed to access the server.  " +
          "To enable access, use the Azure Management Portal or run sp_set_firewall_rule on the master database to create a firewall rule for this IP address or address range.  " +
          "It may take up to five minutes for this change to take effect.",
      );
      expect(standIn.logins.at(-1)).toMatchObject({ ok: false, failure: "firewall", errorNumber: 40615 });
      standIn.setFirewall({ allowedAddresses: ["10.1.2.3", "127.0.0.1"] });
      await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(token) })));
      expect(() => standIn.setFirewall({ allowedAddresses: [""] })).toThrow(/allowedAddresses/);
    } finally {
      standIn.setFirewall(undefined);
    }
    const token = identity.entra.mintAccessToken({ principal: alice }).token;
    await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(token) })));
  });

  it("a database other than the stand-in's: 4060, then 18456, as Azure SQL sends them", async () => {
    for (const mode of ["inline", "token-credential"] as const) {
      const mint = () => identity.entra.mintAccessToken({ principal: alice }).token;
      const credential = new RecordingCredential(mint);
      const authentication: ConnectionAuthentication =
        mode === "inline" ? tokenAuth(mint()) : { type: "token-credential", options: { credential } };
      const connection = new Connection(
        standIn.connectionConfig({ authentication, options: { database: "other_db" } }),
      );
      const messages: Array<{ number: number; message: string }> = [];
      connection.on("errorMessage", (token: { number: number; message: string }) =>
        messages.push({ number: token.number, message: token.message }),
      );
      const loginsBefore = standIn.logins.length;
      // No maxRetriesOnTransientErrors here: 4060 is on tedious' transient list, but tedious keys its
      // retry on the LAST message, the 18456, so it does not retry.
      const error = await withTimeout(
        new Promise<Error & { code?: string }>((resolve, reject) =>
          connection.connect((e) => (e ? resolve(e) : reject(new Error("login unexpectedly succeeded")))),
        ),
        OPERATION_TIMEOUT_MS,
        "connect",
      ).finally(() => connection.close());
      expect(messages).toEqual([
        {
          number: 4060,
          message: 'Cannot open database "other_db" requested by the login. The login failed.',
        },
        { number: 18456, message: TOKEN_LOGIN_FAILED },
      ]);
      expect(error).toMatchObject({ code: "ELOGIN", message: TOKEN_LOGIN_FAILED });
      // One attempt, authenticated first (the token was checked, a token credential was asked once).
      expect(standIn.logins.slice(loginsBefore)).toEqual([
        expect.objectContaining({
          ok: false,
          failure: "wrong-database",
          errorNumber: 4060,
          principal: expect.objectContaining({ objectId: alice.objectId }),
        }),
      ]);
      if (mode === "token-credential") expect(credential.scopes).toHaveLength(1);
    }
  });

  it("SQL authentication to a database other than the stand-in's: 4060, then 18456 naming the login", async () => {
    const messages: number[] = [];
    const connection = new Connection(
      standIn.connectionConfig({
        authentication: { type: "default", options: { userName: "report_reader", password: "S3cret!pass" } },
        options: { database: "other_db" },
      }),
    );
    connection.on("errorMessage", (token: { number: number }) => messages.push(token.number));
    const error = await withTimeout(
      new Promise<Error>((resolve, reject) =>
        connection.connect((e) => (e ? resolve(e) : reject(new Error("login unexpectedly succeeded")))),
      ),
      OPERATION_TIMEOUT_MS,
      "connect",
    ).finally(() => connection.close());
    expect(messages).toEqual([4060, 18456]);
    expect(error.message).toBe("Login failed for user 'report_reader'.");
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "wrong-database", authMode: "sql" });
  });

  it("a wrong password to a database other than the stand-in's: 18456 only (authentication comes first)", async () => {
    const error = await failLogin(
      { type: "default", options: { userName: "report_reader", password: "nope" } },
      { options: { database: "other_db" } },
    );
    expect(error.message).toBe("Login failed for user 'report_reader'.");
    expect(standIn.logins.at(-1)).toMatchObject({ failure: "bad-password", errorNumber: 18456 });
  });

  it("revoked for tokens issued before a time: older tokens refused, a newer one logs in", async () => {
    const dave = identity.entra.registerUser({ upn: "dave@contoso.test" });
    standIn.createUser({ name: "dave@contoso.test", objectId: dave.objectId });
    const now = Math.floor(Date.now() / 1000);
    const older = identity.entra.mintAccessToken({ principal: dave, issuedAt: now - 10 }).token;
    const newer = identity.entra.mintAccessToken({ principal: dave, issuedAt: now + 1 }).token;
    standIn.revokePrincipal(dave.objectId, { tokensIssuedBefore: new Date(now * 1000) });
    try {
      expect((await failLogin(tokenAuth(older))).message).toBe(TOKEN_LOGIN_FAILED);
      expect(standIn.logins.at(-1)).toMatchObject({
        failure: "revoked",
        tokenIssuedAt: new Date((now - 10) * 1000),
      });
      await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(newer) })));
      expect(standIn.logins.at(-1)).toMatchObject({ ok: true, tokenIssuedAt: new Date((now + 1) * 1000) });
      // A revocation without a time refuses every token again.
      standIn.revokePrincipal(dave.objectId);
      expect((await failLogin(tokenAuth(newer))).message).toBe(TOKEN_LOGIN_FAILED);
    } finally {
      standIn.restorePrincipal(dave.objectId);
    }
  });

  it("records the token's issue time and its uti claim, never the token", async () => {
    const minted = identity.entra.mintAccessToken({ principal: alice });
    await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(minted.token) })));
    const record = standIn.logins.at(-1);
    expect(record).toMatchObject({
      ok: true,
      tokenIssuedAt: new Date(minted.claims.iat * 1000),
      tokenId: minted.claims.uti,
    });
    expect(JSON.stringify(record)).not.toContain(minted.token.split(".")[1]);
  });

  it("holdLogins() keeps token logins waiting until release()", async () => {
    const hold = standIn.holdLogins();
    let pending: Promise<unknown> | undefined;
    try {
      const loginsBefore = standIn.logins.length;
      const token = identity.entra.mintAccessToken({ principal: alice }).token;
      pending = connect(standIn.connectionConfig({ authentication: tokenAuth(token) }));
      await expect.poll(() => hold.waiting).toBe(1);
      expect(standIn.logins.length).toBe(loginsBefore);
      expect(() => standIn.holdLogins()).toThrow(/already held/);
    } finally {
      hold.release();
    }
    const connection = (await pending) as Connection;
    expect(standIn.logins.at(-1)).toMatchObject({ ok: true });
    await close(connection);
  });

  it("counts logins", async () => {
    const before = standIn.counters;
    const token = identity.entra.mintAccessToken({ principal: alice }).token;
    await close(await connect(standIn.connectionConfig({ authentication: tokenAuth(token) })));
    await failLogin({ type: "default", options: { userName: "report_reader", password: "nope" } });
    expect(standIn.counters).toMatchObject({
      loginsOk: before.loginsOk + 1,
      loginsFailed: before.loginsFailed + 1,
      connectionsAccepted: before.connectionsAccepted + 2,
    });
  });

  it("closes the connection after a failed login", async () => {
    const baseline = sessionBaseline(standIn);
    const before = events.filter((e) => e.type === "session-closed" && e.reason === "login-failed").length;
    const token = identity.entra.mintAccessToken({ principal: alice, lifetimeSeconds: -60 }).token;
    await failLogin(tokenAuth(token));
    await expect
      .poll(() => events.filter((e) => e.type === "session-closed" && e.reason === "login-failed").length)
      .toBeGreaterThan(before);
    expect(baseline.opened()).toEqual([]);
  });

  describe("transient errors", () => {
    it("tedious retries 40613 and then logs in", async () => {
      standIn.injectLoginErrors({ number: 40613, count: 2 });
      const credential = new RecordingCredential(
        () => identity.entra.mintAccessToken({ principal: alice }).token,
      );
      const connection = await connect(
        standIn.connectionConfig({
          authentication: { type: "token-credential", options: { credential } },
          options: { connectionRetryInterval: 20 },
        }),
      );
      const last3 = standIn.logins.slice(-3);
      expect(last3.map((l) => [l.ok, l.errorNumber])).toEqual([
        [false, 40613],
        [false, 40613],
        [true, undefined],
      ]);
      // A token credential is asked for a token on every attempt.
      expect(credential.scopes).toHaveLength(3);
      expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      await close(connection);
    });

    it("gives up after maxRetriesOnTransientErrors with Azure's 40613 text", async () => {
      standIn.injectLoginErrors({ number: 40613, count: 5 });
      try {
        const token = identity.entra.mintAccessToken({ principal: alice }).token;
        const error = await failLogin(tokenAuth(token), {
          options: { connectionRetryInterval: 20, maxRetriesOnTransientErrors: 1 },
        });
        expect(error.message).toMatch(
          /^Database 'entra_sql_demo' on server 'entra-sql-stand-in' is not currently available\. Please retry the connection later\./,
        );
        expect(standIn.logins.slice(-2).map((l) => l.errorNumber)).toEqual([40613, 40613]);
      } finally {
        standIn.injectLoginErrors({ number: 40613, count: 0 });
      }
    });
  });

  describe("encryption", () => {
    it("a client that does not trust the CA refuses the certificate (TLS and strict)", async () => {
      const token = identity.entra.mintAccessToken({ principal: alice }).token;
      for (const encrypt of [true, "strict"] as const) {
        const error = await failLogin(tokenAuth(token), {
          encrypt,
          options: { cryptoCredentialsDetails: {} },
        });
        expect(error.message).toMatch(/self[- ]signed|unable to verify|local issuer/i);
      }
    });

    it("requireEncryption refuses a client that does not encrypt, like Azure SQL", async () => {
      const strictServer = await startSqlStandIn({
        tokenVerification: identity.tokenVerification(),
        requireEncryption: true,
        users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      });
      try {
        const token = identity.entra.mintAccessToken({ principal: alice }).token;
        const error = await connect(
          strictServer.connectionConfig({ authentication: tokenAuth(token), encrypt: false }),
        ).then(
          () => new Error("connected"),
          (reason: Error & { code?: string }) => reason,
        );
        expect(error).toMatchObject({ code: "EENCRYPT" });
        expect(strictServer.logins).toEqual([]);
        await close(
          await connect(strictServer.connectionConfig({ authentication: tokenAuth(token), encrypt: true })),
        );
        expect(strictServer.logins.at(-1)).toMatchObject({ ok: true, encryption: "tls" });
      } finally {
        await strictServer.close();
      }
    });
  });
});
