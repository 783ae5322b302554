import { inspect } from "node:util";
import {
  createTokenSource,
  createUserStatement,
  describeToken,
  isScopeNotAllowedError,
  isTokenAcquisitionError,
  type LogEntry,
  type TokenSource,
  type TokenSourceEvent,
} from "@entra-sql/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { type SqlStandIn, startSqlStandIn } from "../../support/tds/index.js";
import { close, connect, query } from "../../support/tds/test-helpers/tedious-client.js";

// The published @entra-sql/core (its built `dist`, through the package's exports) end to end:
// real @azure/identity credentials against the local Entra ID, real tedious logging in to the SQL
// stand-in. Every event, log entry, error and inspected object of the whole file is captured, and
// the last test proves that no token, JWT segment or secret appears in any of them.

const SQL = "https://database.windows.net/.default";

let standIns: StandIns;
const captured: string[] = [];
const tokensSeen = new Set<string>();
const secrets = new Set<string>();

function observe(options: { logger?: boolean } = {}) {
  return {
    onEvent: (event: TokenSourceEvent) => captured.push(JSON.stringify(event), inspect(event, { depth: 9 })),
    ...(options.logger === false
      ? {}
      : { logger: (entry: LogEntry) => captured.push(entry.message, JSON.stringify(entry)) }),
  };
}

function captureError(error: unknown): unknown {
  captured.push(String(error), inspect(error, { depth: 9, showHidden: true }), JSON.stringify(error));
  if (error instanceof Error && error.stack) captured.push(error.stack);
  return error;
}

function appSource(clientId: string, clientSecret: string, extra: Record<string, unknown> = {}): TokenSource {
  secrets.add(clientSecret);
  return createTokenSource({
    credential: { type: "service-principal", tenantId: standIns.entra.tenantId, clientId, clientSecret },
    identityOptions: standIns.entra.credentialOptions(),
    ...observe(),
    ...extra,
  });
}

beforeAll(async () => {
  standIns = await startStandIns({ sql: { engine: null } });
});

function demoApp() {
  const app = standIns.demo?.app;
  if (!app) throw new Error("the stand-ins were started without the demo identities");
  return app;
}

afterAll(async () => {
  await standIns?.close();
});

describe("@entra-sql/core with tedious' token-credential", () => {
  it("opens 20 connections concurrently with one identity-endpoint request", async () => {
    const app = demoApp();
    const source = appSource(app.clientId, app.clientSecret ?? "");
    const before = standIns.entra.counters.forIdentity(app.clientId).requests;
    const connections = await Promise.all(
      Array.from({ length: 20 }, () =>
        connect(
          standIns.sql.connectionConfig({
            authentication: { type: "token-credential", options: { credential: source } },
          }),
        ),
      ),
    );
    try {
      expect(standIns.entra.counters.forIdentity(app.clientId).requests - before).toBe(1);
      const logins = standIns.sql.logins.slice(-20);
      expect(logins.every((l) => l.ok && l.authMode === "fedauth-credential")).toBe(true);
      expect(new Set(logins.map((l) => l.principal?.databaseUser))).toEqual(new Set(["entra-sql-demo-app"]));
      expect(source.activeSource).toBe("ClientSecretCredential");
      tokensSeen.add(await source.getAccessToken());
      captured.push(inspect(source, { depth: 9 }), JSON.stringify(source), String(source));
      captured.push(inspect(await source.getTokenDetails(), { depth: 9 }));
    } finally {
      await Promise.all(connections.map(close));
      source.close();
    }
  });

  it("refuses the token a rogue server asks for, before any credential is called", async () => {
    const app = demoApp();
    const source = appSource(app.clientId, app.clientSecret ?? "");
    const refused: TokenSourceEvent[] = [];
    source.on("scope-refused", (event) => refused.push(event));
    // A server that announces Microsoft Graph as its SPN: tedious would ask for a Graph token.
    const rogue: SqlStandIn = await startSqlStandIn({
      engine: null,
      fedAuthInfo: { spn: "https://graph.microsoft.com/" },
      tokenVerification: {
        jwksUri: standIns.entra.jwksUri,
        caPem: standIns.entra.caPem,
        tenantId: standIns.entra.tenantId,
      },
    });
    const before = standIns.entra.counters.forIdentity(app.clientId).requests;
    try {
      const error = await connect(
        rogue.connectionConfig({
          authentication: { type: "token-credential", options: { credential: source } },
        }),
      ).then(
        () => undefined,
        (e: unknown) => captureError(e),
      );
      expect(error).toBeDefined();
      expect(refused).toEqual([{ type: "scope-refused", scope: "https://graph.microsoft.com/.default" }]);
      expect(standIns.entra.counters.forIdentity(app.clientId).requests).toBe(before);
      await expect(source.getToken("https://management.azure.com/.default")).rejects.toSatisfy(
        isScopeNotAllowedError,
      );
    } finally {
      source.close();
      await rogue.close();
    }
  });

  it("logs in with the raw token inline, and invalidate() makes the next login use a new one", async () => {
    const app = demoApp();
    const source = appSource(app.clientId, app.clientSecret ?? "");
    const login = async () => {
      const token = await source.getAccessToken(SQL);
      tokensSeen.add(token);
      const connection = await connect(
        standIns.sql.connectionConfig({
          authentication: { type: "azure-active-directory-access-token", options: { token } },
        }),
      );
      await close(connection);
      return token;
    };
    const first = await login();
    expect(await login()).toBe(first);
    source.invalidate(SQL);
    const third = await login();
    expect(third).not.toBe(first);
    expect(standIns.sql.logins.slice(-3).map((l) => [l.ok, l.authMode])).toEqual([
      [true, "fedauth-inline"],
      [true, "fedauth-inline"],
      [true, "fedauth-inline"],
    ]);
    source.close();
  });

  it("prints the T-SQL that lets a new identity in, and the identity can log in after a DBA runs it", async () => {
    const newcomer = standIns.entra.registerApp({ displayName: "reporting-job", clientSecret: true });
    const source = appSource(newcomer.clientId, newcomer.clientSecret ?? "");
    const auth = { type: "token-credential", options: { credential: source } } as const;
    const refused = await connect(standIns.sql.connectionConfig({ authentication: auth })).then(
      () => undefined,
      (e: unknown) => captureError(e) as Error,
    );
    expect(refused?.message).toBe("Login failed for user '<token-identified principal>'.");

    const token = await source.getAccessToken();
    tokensSeen.add(token);
    const identity = describeToken(token);
    expect(identity).toMatchObject({
      kind: "service-principal",
      appId: newcomer.clientId,
      objectId: newcomer.objectId,
    });
    const statement = createUserStatement(identity, { name: "reporting-job" });
    captured.push(inspect(identity), statement);
    expect(statement).toContain("CREATE USER [reporting-job] FROM EXTERNAL PROVIDER");

    // The DBA runs it (here: the demo app as an admin session of the stand-in).
    const admin = await connect(
      standIns.sql.connectionConfig({
        authentication: {
          type: "azure-active-directory-access-token",
          options: { token: [...tokensSeen][0] ?? "" },
        },
      }),
    );
    await query(admin, statement, { batch: true });
    await close(admin);
    const connection = await connect(standIns.sql.connectionConfig({ authentication: auth }));
    await close(connection);
    expect(standIns.sql.logins.at(-1)).toMatchObject({
      ok: true,
      principal: { databaseUser: "reporting-job" },
    });
    source.close();
  });

  it("a wrong client secret fails with every source named and a fix, and keeps the secret out", async () => {
    const app = demoApp();
    const source = appSource(app.clientId, "Wr0ng~Secret-ForLeakCheck.0123456789abcdef");
    const error = captureError(await source.getAccessToken().catch((e: unknown) => e));
    expect(isTokenAcquisitionError(error)).toBe(true);
    expect(String(error)).toMatch(/ClientSecretCredential \(authentication\)/);
    expect(String(error)).toMatch(/fix: /);
    source.close();
  });

  it("rejects a bad option naming it, without echoing the secret next to it", () => {
    secrets.add("S3cret~ShouldNotEcho.0123456789");
    const error = captureError(
      (() => {
        try {
          createTokenSource({
            credential: {
              type: "service-principal",
              tenantId: standIns.entra.tenantId,
              clientId: "not-a-guid",
              clientSecret: "S3cret~ShouldNotEcho.0123456789",
              certificatePath: "/tmp/also.pem",
            },
          });
          return undefined;
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(error).toMatchObject({ name: "InvalidOptionError" });
  });

  it("reports a failing background refresh as an event and keeps serving the current token", async () => {
    const { entra } = standIns;
    const app = demoApp();
    entra.settings.tokenLifetimeSeconds = 20;
    const events: TokenSourceEvent[] = [];
    // A 20 s token: the 18 s window is capped at 3/4 of the lifetime, so the refresh starts at 5 s
    // (on the first call after it; the source has no timers of its own), and it is handed out until 18 s.
    const source = appSource(app.clientId, app.clientSecret ?? "", {
      refreshWindowInMs: 18_000,
      minimumValidityInMs: 2_000,
      retryInitialDelayInMs: 500,
      retryMaxDelayInMs: 1_000,
      onEvent: (event: TokenSourceEvent) => {
        events.push(event);
        captured.push(JSON.stringify(event));
      },
    });
    try {
      const first = await source.getAccessToken();
      tokensSeen.add(first);
      // An outage (refused connections). Not a 5xx: msal-node then throttles that client for 60 s
      // on its own, whatever the server does next.
      const fault = entra.faults.inject({ kind: "outage", endpoint: "token" });
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      expect(await source.getAccessToken()).toBe(first); // starts the background refresh
      await expect
        .poll(() => events.some((e) => e.type === "refresh-failed"), { timeout: 11_000 })
        .toBe(true);
      expect(await source.getAccessToken()).toBe(first); // still served while it is valid
      expect(events.some((e) => e.type === "acquire-failed")).toBe(false);
      await fault.clear();
      await expect
        .poll(
          async () => {
            const token = await source.getAccessToken();
            tokensSeen.add(token);
            return token !== first;
          },
          { timeout: 10_000 },
        )
        .toBe(true);
    } finally {
      entra.settings.tokenLifetimeSeconds = 3600;
      entra.faults.clear();
      source.close();
    }
  }, 30_000);
});

describe("no secret leaks", () => {
  it("no token, JWT segment or secret appears in any event, log line, error or inspected object", () => {
    const demoSecret = standIns.demo?.app.clientSecret;
    if (demoSecret) secrets.add(demoSecret);
    expect(tokensSeen.size).toBeGreaterThanOrEqual(3);
    expect(captured.length).toBeGreaterThan(20);
    const haystack = captured.join("\n");
    for (const token of tokensSeen) {
      expect(haystack).not.toContain(token);
      // The header segment is shared by every token of the IdP; payload and signature are unique.
      for (const segment of token.split(".")) expect(haystack).not.toContain(segment);
    }
    for (const secret of secrets) expect(haystack).not.toContain(secret);
  });
});
