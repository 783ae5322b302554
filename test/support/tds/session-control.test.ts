import { once } from "node:events";
import type { Connection, ConnectionAuthentication } from "tedious";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredUser } from "../entra/index.js";
import type { StandInEvent } from "./events.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { FakeEngine } from "./test-helpers/fake-engine.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import { sessionBaseline } from "./test-helpers/session-baseline.js";
import { close, connect, query, withTimeout } from "./test-helpers/tedious-client.js";

// The control API tests drive at runtime: kills, sessions made to log in again, revalidation after
// "failover", latency, attention/cancel, and users created through T-SQL.

const EXPIRED_QUERY_TEXT =
  "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.";
const HOUR_MS = 3_600_000;

describe("session control", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let alice: RegisteredUser;
  let engine: FakeEngine;
  const events: StandInEvent[] = [];
  const open: Connection[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    alice = identity.entra.registerUser({ upn: "alice@contoso.test" });
    engine = new FakeEngine();
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      engine,
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      resolvePrincipalName: (name) => {
        const principal = identity.entra.findPrincipalByName(name);
        if (!principal) return undefined;
        return principal.kind === "user" ? { objectId: principal.objectId } : { appId: principal.clientId };
      },
      onEvent: (event) => events.push(event),
    });
  });

  afterEach(async () => {
    standIn.latencyMs = 0;
    standIn.clockOffsetMs = 0;
    await Promise.all(open.splice(0).map((c) => close(c).catch(() => undefined)));
  });

  afterAll(async () => {
    await standIn?.close();
    await identity?.close();
  });

  const auth = (
    principal: RegisteredUser | { objectId: string },
    lifetimeSeconds = 3600,
  ): ConnectionAuthentication => ({
    type: "azure-active-directory-access-token",
    options: { token: identity.entra.mintAccessToken({ principal, lifetimeSeconds }).token },
  });

  async function login(
    authentication: ConnectionAuthentication,
    encrypt: boolean | "strict" = true,
    options: Record<string, unknown> = {},
  ): Promise<{ connection: Connection; sessionId: number }> {
    const connection = await connect(standIn.connectionConfig({ authentication, encrypt, options }));
    open.push(connection);
    const sessionId = standIn.logins.at(-1)?.sessionId ?? -1;
    return { connection, sessionId };
  }

  describe("killSession", () => {
    it("drops the connection abruptly; the client sees it end", async () => {
      const { connection, sessionId } = await login(auth(alice));
      const ended = once(connection, "end");
      expect(standIn.killSession(sessionId)).toBe(true);
      await withTimeout(ended, 5000, "client notices the kill");
      await expect.poll(() => standIn.sessions.some((s) => s.id === sessionId)).toBe(false);
      expect(events).toContainEqual({ type: "session-closed", sessionId, reason: "killed" });
      expect(standIn.killSession(sessionId)).toBe(false);
    });

    it("fails a request in flight, and killAllSessions ends every session", async () => {
      const baseline = sessionBaseline(standIn);
      const first = await login(auth(alice));
      const second = await login(auth(alice), "strict");
      standIn.latencyMs = 2000;
      const pending = query(first.connection, "SELECT 1 AS one");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(baseline.opened().map((s) => s.id)).toEqual([first.sessionId, second.sessionId]);
      // Every session goes, this test's and any an earlier test has not finished closing.
      const open = standIn.sessions.length;
      expect(standIn.killAllSessions()).toBe(open);
      await expect(pending).rejects.toThrow(/Connection lost|socket hang up|ECONNRESET|closed/i);
      await withTimeout(once(second.connection, "end"), 5000, "second session ends");
      await expect.poll(() => standIn.sessions.length).toBe(0);
    });
  });

  describe("requireReauthentication", () => {
    it("that session's statements fail with 37396 though its token is valid", async () => {
      const marked = await login(auth(alice));
      const other = await login(auth(alice), false);
      expect(standIn.requireReauthentication(marked.sessionId)).toBe(true);
      expect(standIn.requireReauthentication(99_999)).toBe(false);
      // Not a revalidation: the session's token is valid, and no other session is touched.
      expect(standIn.sessions.find((s) => s.id === marked.sessionId)).toMatchObject({ revalidated: false });

      const executedBefore = engine.executed.length;
      for (const batch of [true, false]) {
        await expect(
          query(marked.connection, "INSERT INTO audit VALUES ('marked')", { batch }),
        ).rejects.toMatchObject({ number: 37396, message: EXPIRED_QUERY_TEXT });
      }
      expect(engine.executed.length).toBe(executedBefore);
      expect(engine.audit).not.toContain("marked");
      expect(events.filter((e) => e.type === "request-rejected").slice(-2)).toEqual([
        {
          type: "request-rejected",
          sessionId: marked.sessionId,
          errorNumber: 37396,
          reason: "reauthentication-required",
        },
        {
          type: "request-rejected",
          sessionId: marked.sessionId,
          errorNumber: 37396,
          reason: "reauthentication-required",
        },
      ]);

      // Other sessions and new logins carry on.
      expect((await query(other.connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      const fresh = await login(auth(alice));
      expect((await query(fresh.connection, "SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    });
  });

  describe("revalidate", () => {
    it("fails statements of a session whose token expired with 37396, without executing them", async () => {
      const shortLived = await login(auth(alice, 3600));
      const longLived = await login(auth(alice, 3 * 3600), false);
      standIn.clockOffsetMs = 2 * HOUR_MS;

      // Before revalidation a session outlives its token, as on Azure.
      await query(shortLived.connection, "INSERT INTO audit VALUES ('before')", { batch: true });
      expect(engine.audit).toContain("before");

      expect(standIn.revalidate()).toBe(2);
      const executedBefore = engine.executed.length;
      const rejectedBefore = standIn.counters.statementsRejected;
      for (const batch of [true, false]) {
        const error = await query(shortLived.connection, "INSERT INTO audit VALUES ('after')", {
          batch,
        }).then(
          () => undefined,
          (reason: Error & { number?: number; class?: number; state?: number }) => reason,
        );
        expect(error).toMatchObject({ number: 37396, class: 16, state: 1, message: EXPIRED_QUERY_TEXT });
      }
      expect(engine.executed.length).toBe(executedBefore);
      expect(standIn.counters.statementsExecuted).toBeGreaterThan(0);
      expect(engine.audit).not.toContain("after");
      expect(standIn.counters.statementsRejected).toBe(rejectedBefore + 2);
      expect(standIn.sessions.find((s) => s.id === shortLived.sessionId)).toMatchObject({
        revalidated: true,
      });

      // The session whose token is still valid carries on, and so does a fresh login.
      expect((await query(longLived.connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      const fresh = await login(auth(alice, 3 * 3600));
      expect((await query(fresh.connection, "SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    });

    it("revoked or dropped principals fail with 37396 after revalidate()", async () => {
      const dave = identity.entra.registerUser({ upn: "dave@contoso.test" });
      const erin = identity.entra.registerUser({ upn: "erin@contoso.test" });
      standIn.createUser({ name: "dave@contoso.test", objectId: dave.objectId });
      standIn.createUser({ name: "erin@contoso.test", objectId: erin.objectId });
      const daveSession = await login(auth(dave));
      const erinSession = await login(auth(erin));
      standIn.revokePrincipal(dave.objectId);
      expect(standIn.dropUser("erin@contoso.test")).toBe(true);
      // Still fine until revalidation.
      await query(daveSession.connection, "SELECT 1 AS one");
      await query(erinSession.connection, "SELECT 1 AS one");
      standIn.revalidate();
      for (const session of [daveSession, erinSession]) {
        await expect(query(session.connection, "SELECT 1 AS one")).rejects.toMatchObject({ number: 37396 });
      }
      expect(events.filter((e) => e.type === "request-rejected").slice(-2)).toEqual([
        expect.objectContaining({ reason: "revoked" }),
        expect.objectContaining({ reason: "dropped" }),
      ]);
      standIn.restorePrincipal(dave.objectId);
    });

    it("revoked for tokens issued before a time: only sessions that logged in with an older token get 37396", async () => {
      const gina = identity.entra.registerUser({ upn: "gina@contoso.test" });
      standIn.createUser({ name: "gina@contoso.test", objectId: gina.objectId });
      const now = Math.floor(Date.now() / 1000);
      const token = (issuedAt: number): ConnectionAuthentication => ({
        type: "azure-active-directory-access-token",
        options: { token: identity.entra.mintAccessToken({ principal: gina, issuedAt }).token },
      });
      const older = await login(token(now - 10));
      const newer = await login(token(now + 1));
      standIn.revokePrincipal(gina.objectId, { tokensIssuedBefore: new Date(now * 1000) });
      try {
        standIn.revalidate();
        await expect(query(older.connection, "SELECT 1 AS one")).rejects.toMatchObject({ number: 37396 });
        expect((await query(newer.connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      } finally {
        standIn.restorePrincipal(gina.objectId);
      }
    });
  });

  describe("closedSessions", () => {
    it("keeps each ended session with its login time, close time and reason", async () => {
      const byClient = await login(auth(alice));
      const killed = await login(auth(alice));
      const started = Date.now();
      await close(byClient.connection);
      expect(standIn.killSession(killed.sessionId)).toBe(true);
      await expect
        .poll(() =>
          standIn.closedSessions.filter((s) => [byClient.sessionId, killed.sessionId].includes(s.id)),
        )
        .toHaveLength(2);
      const closed = standIn.closedSessions;
      expect(closed.find((s) => s.id === byClient.sessionId)).toMatchObject({
        closeReason: "client",
        principal: { objectId: alice.objectId },
      });
      expect(closed.find((s) => s.id === killed.sessionId)).toMatchObject({ closeReason: "killed" });
      for (const session of closed.filter((s) => [byClient.sessionId, killed.sessionId].includes(s.id))) {
        expect(session.closedAt.getTime()).toBeGreaterThanOrEqual(started);
        expect(session.loginAt.getTime()).toBeLessThanOrEqual(session.closedAt.getTime());
      }
    });
  });

  describe("latency and attention", () => {
    it("delays each response by latencyMs", async () => {
      const { connection } = await login(auth(alice));
      standIn.latencyMs = 150;
      const started = performance.now();
      await query(connection, "SELECT 1 AS one");
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });

    it("cancel during the wait: ECANCEL, the statement never runs, the connection stays usable", async () => {
      const { connection, sessionId } = await login(auth(alice));
      standIn.latencyMs = 1000;
      const pending = query(connection, "INSERT INTO audit VALUES ('canceled')", { batch: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      connection.cancel();
      await expect(pending).rejects.toMatchObject({ code: "ECANCEL" });
      expect(engine.audit).not.toContain("canceled");
      expect(events).toContainEqual({ type: "attention", sessionId, canceledRequest: true });
      standIn.latencyMs = 0;
      expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    });

    it("cancel while the engine runs (strict TLS): the reply is replaced by the attention acknowledgement", async () => {
      const { connection } = await login(auth(alice), "strict");
      const pending = query(connection, "WAITFOR DELAY '00:00:01'", { batch: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      connection.cancel();
      await expect(pending).rejects.toMatchObject({ code: "ECANCEL" });
      expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    });

    it("a request timeout sends attention and the client gets ETIMEOUT", async () => {
      const { connection } = await login(auth(alice), true, { requestTimeout: 200 });
      standIn.latencyMs = 1000;
      await expect(query(connection, "SELECT 1 AS one")).rejects.toMatchObject({ code: "ETIMEOUT" });
      standIn.latencyMs = 0;
      expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    });
  });

  describe("users through T-SQL", () => {
    it("CREATE USER ... FROM EXTERNAL PROVIDER resolves the name; the principal can then log in", async () => {
      const frank = identity.entra.registerUser({ upn: "frank@contoso.test" });
      const app = identity.entra.registerApp({ displayName: "billing-job" });
      const before = await login(auth(frank)).then(
        () => "logged in",
        (error: Error) => error.message,
      );
      expect(before).toBe("Login failed for user '<token-identified principal>'.");

      const admin = await login(auth(alice));
      await query(
        admin.connection,
        "CREATE USER [frank@contoso.test] FROM EXTERNAL PROVIDER; CREATE USER [billing-job] FROM EXTERNAL PROVIDER; ALTER USER [billing-job] WITH DEFAULT_SCHEMA=[dbo]; ALTER ROLE db_datareader ADD MEMBER [billing-job]",
        { batch: true },
      );
      expect(standIn.users().find((u) => u.name === "billing-job")).toMatchObject({
        appId: app.clientId,
        roles: ["db_datareader"],
        defaultSchema: "dbo",
      });
      const frankSession = await login(auth(frank));
      expect((await query(frankSession.connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      const appToken = identity.entra.mintAccessToken({ principal: app }).token;
      await login({ type: "azure-active-directory-access-token", options: { token: appToken } });
      expect(standIn.logins.at(-1)).toMatchObject({
        ok: true,
        principal: { kind: "app", databaseUser: "billing-job" },
      });

      await expect(
        query(admin.connection, "CREATE USER [nobody@contoso.test] FROM EXTERNAL PROVIDER", { batch: true }),
      ).rejects.toMatchObject({
        number: 33130,
        message:
          "Principal 'nobody@contoso.test' could not be found or this principal type is not supported.",
      });
      await expect(
        query(admin.connection, "CREATE USER [frank@contoso.test] FROM EXTERNAL PROVIDER", { batch: true }),
      ).rejects.toMatchObject({ number: 15023 });
      await expect(
        query(admin.connection, "ALTER USER [nobody@contoso.test] WITH DEFAULT_SCHEMA=[dbo]", {
          batch: true,
        }),
      ).rejects.toMatchObject({ number: 15151 });
      await query(admin.connection, "DROP USER [frank@contoso.test]", { batch: true });
      expect(standIn.users().some((u) => u.name === "frank@contoso.test")).toBe(false);
    });

    it("exec() is the administrator path for the same statements", async () => {
      identity.entra.registerUser({ upn: "grace@contoso.test" });
      const outcome = await standIn.exec("CREATE USER [grace@contoso.test] FROM EXTERNAL PROVIDER");
      expect(outcome.statements).toEqual([{ kind: "done" }]);
      expect(standIn.users().some((u) => u.name === "grace@contoso.test")).toBe(true);
    });
  });
});
