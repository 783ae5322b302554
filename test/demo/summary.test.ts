import { describe, expect, it } from "vitest";
import type { LoginRecord } from "../support/tds/records.js";
import type { ClientStats } from "./app-observer.js";
import { createServerLedger } from "./server-ledger.js";
import { brokenInvariants } from "./summary.js";

// The demo's verdict must be able to fail: the server ledger attributes logins and statements to the
// app whose principal made them, and each broken rule is reported for that app only.

const LIMITS = { maxAgeInMs: 10_000, toleranceMs: 1_000 };
const KNEX_ID = "11111111-1111-1111-1111-111111111111";
const TYPEORM_ID = "22222222-2222-2222-2222-222222222222";

const healthyClient = (): ClientStats => ({
  queries: 30,
  failures: 0,
  tokensFetched: 2,
  connectionsOpened: 2,
  connectionsRetired: 1,
  statementsRetried: 1,
  oldestRetiredAgeMs: 9_900,
});

function login(
  sessionId: number,
  appId: string | undefined,
  at: number,
  expiresAt: number,
  ok = true,
): LoginRecord {
  return {
    at: new Date(at),
    sessionId,
    authMode: "fedauth-inline",
    encryption: "tls",
    ok,
    ...(ok ? {} : { failure: "expired" as const, errorNumber: 18456 }),
    ...(appId === undefined ? {} : { principal: { name: appId, appId, kind: "app" as const } }),
    tokenExpiresAt: new Date(expiresAt),
  };
}

describe("demo verdict", () => {
  it("a healthy run breaks nothing", () => {
    const ledger = createServerLedger();
    ledger.track("knex", KNEX_ID);
    const now = Date.now();
    ledger.onEvent({ type: "login", record: login(60, KNEX_ID, now - 5_000, now + 15_000) });
    ledger.onEvent({
      type: "request",
      sessionId: 60,
      kind: "rpc",
      summary: "select 1",
      durationMs: 3,
      errorNumbers: [],
    });
    // The injected server event: the session's next statement is refused (not counted as run).
    ledger.onEvent({
      type: "request-rejected",
      sessionId: 60,
      errorNumber: 37396,
      reason: "reauthentication-required",
    });
    const server = ledger.stats("knex");
    expect(server).toMatchObject({
      logins: 1,
      expiredTokensPresented: 0,
      statementsPastToken: 0,
      statementsRefused37396: 1,
    });
    expect(server.oldestStatementAgeMs).toBeGreaterThanOrEqual(4_900);
    expect(brokenInvariants({ app: "knex", client: healthyClient(), server }, LIMITS)).toEqual([]);
  });

  it("a run in which an app met no 37396, or did not run the refused statement again, breaks the demo", () => {
    const ledger = createServerLedger();
    ledger.track("typeorm", TYPEORM_ID);
    const now = Date.now();
    ledger.onEvent({ type: "login", record: login(70, TYPEORM_ID, now - 1_000, now + 19_000) });
    const server = ledger.stats("typeorm");
    expect(
      brokenInvariants(
        { app: "typeorm", client: { ...healthyClient(), statementsRetried: 0 }, server },
        LIMITS,
      ),
    ).toEqual(["no statement was refused with 37396", "no statement was retried after 37396"]);
    ledger.onEvent({
      type: "request-rejected",
      sessionId: 70,
      errorNumber: 37396,
      reason: "reauthentication-required",
    });
    expect(
      brokenInvariants(
        { app: "typeorm", client: { ...healthyClient(), statementsRetried: 0 }, server },
        LIMITS,
      ),
    ).toEqual(["no statement was retried after 37396"]);
  });

  it("attributes each broken rule to the app whose principal broke it", () => {
    const ledger = createServerLedger();
    ledger.track("knex", KNEX_ID);
    ledger.track("typeorm", TYPEORM_ID);
    const now = Date.now();
    // knex: an expired token presented; a session used 12 s after login and after its token expired;
    // one statement refused with 37396 (not counted as run).
    ledger.onEvent({ type: "login", record: login(61, KNEX_ID, now - 1_000, now - 2_000, false) });
    ledger.onEvent({ type: "login", record: login(62, KNEX_ID, now - 12_000, now - 500) });
    ledger.onEvent({
      type: "request",
      sessionId: 62,
      kind: "batch",
      summary: "select 1",
      durationMs: 1,
      errorNumbers: [],
    });
    ledger.onEvent({ type: "request-rejected", sessionId: 62, errorNumber: 37396, reason: "token-expired" });
    // typeorm: healthy server side, but queries failed and no rotation.
    ledger.onEvent({ type: "login", record: login(63, TYPEORM_ID, now - 1_000, now + 19_000) });
    // a login no demo app made
    ledger.onEvent({ type: "login", record: login(64, undefined, now, now + 1_000, false) });

    const knex = ledger.stats("knex");
    expect(knex).toMatchObject({
      logins: 2,
      failedLogins: 1,
      expiredTokensPresented: 1,
      statementsRefused37396: 1,
      statementsPastToken: 1,
    });
    expect(brokenInvariants({ app: "knex", client: healthyClient(), server: knex }, LIMITS)).toEqual([
      "1 expired tokens presented",
      "1 statements ran on a session past its token",
      expect.stringMatching(/^a connection ran a statement at age 12\.0 s, past max age$/),
    ]);
    const typeormClient = { ...healthyClient(), failures: 2, tokensFetched: 1 };
    expect(
      brokenInvariants({ app: "typeorm", client: typeormClient, server: ledger.stats("typeorm") }, LIMITS),
    ).toEqual([
      "2 queries failed",
      "the run did not span a token rotation",
      "no statement was refused with 37396",
    ]);
    expect(ledger.unattributedLogins).toBe(1);
  });
});
