import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionOpenedEvent, LoginRetriedEvent } from "./connection-events.js";
import { createConnectionLifetimePolicy } from "./connection-lifetime.js";
import type { TokenMode } from "./connection-options.js";
import { isConnectionFailedError, isTokenLoginRejectedError } from "./login-errors.js";
import { FakeClockCredential } from "./test-support/fake-clock-credential.js";
import { type LoginToken, loginWithFreshTokenRetry, type TokenAuthentication } from "./token-login.js";
import { createTokenSource, type TokenSource } from "./token-source.js";

// The login flow the adapters share, through a real token source over a counting fake credential. The
// driver is a hand-written `attempt` that records what it was handed and answers as the test says;
// tedious' own login is covered by the integration suites.

const SQL = "https://database.windows.net/.default";
const PACKAGE = "@entra-sql/test-adapter";

/** How SQL Server refuses an expired token (error 18456). */
const expired = () =>
  Object.assign(new Error("Login failed for user '<token-identified principal>'. Token is expired."), {
    number: 18456,
  });
/** How Azure SQL refuses a token whose principal is not a user (or is revoked). */
const rejected = () =>
  Object.assign(new Error("Login failed for user '<token-identified principal>'."), { number: 18456 });

interface FakeConnection {
  serial: number;
}
interface Attempted {
  authentication: TokenAuthentication;
  used: LoginToken;
}

let credential: FakeClockCredential;
let tokenSource: TokenSource;
let invalidate: ReturnType<typeof vi.spyOn>;
let events: (LoginRetriedEvent | ConnectionOpenedEvent)[];
let attempts: Attempted[];

beforeEach(() => {
  credential = new FakeClockCredential();
  tokenSource = createTokenSource({ credential });
  invalidate = vi.spyOn(tokenSource, "invalidate");
  events = [];
  attempts = [];
});

afterEach(() => {
  tokenSource.close();
});

/**
 * Logs in with a fake driver: each attempt records its authentication, then (token-credential) asks
 * the credential for the server's scope as tedious would, then throws the next of `failures` or
 * answers a connection.
 */
function login(tokenMode: TokenMode, failures: unknown[] = []): Promise<FakeConnection> {
  const lifetime = createConnectionLifetimePolicy({ maxAgeInMs: 30 * 60_000, maxAgeJitterRatio: 0 });
  return loginWithFreshTokenRetry<FakeConnection>({
    tokenSource,
    tokenMode,
    scope: tokenMode === "inline" ? SQL : undefined,
    emit: (build) => events.push(build()),
    packageName: PACKAGE,
    server: "db.example",
    database: "app",
    attempt: async (authentication, used) => {
      attempts.push({ authentication, used });
      if (authentication.type === "token-credential") await authentication.credential.getToken(SQL);
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return { serial: attempts.length };
    },
    stamp: (_connection, used) =>
      lifetime.stamp(
        used.expiresOnTimestamp === undefined ? {} : { tokenExpiresOnTimestamp: used.expiresOnTimestamp },
      ),
  });
}

const tokenOf = (attempt: Attempted | undefined): string | undefined =>
  attempt?.authentication.type === "azure-active-directory-access-token"
    ? attempt.authentication.token
    : undefined;

describe("loginWithFreshTokenRetry", () => {
  it("logs in once with a cached token and reports connection-opened", async () => {
    const connection = await login("inline");
    expect(connection).toEqual({ serial: 1 });
    expect(tokenOf(attempts[0])).toBe(credential.issued[0]);
    expect(attempts[0]?.used).toMatchObject({ token: credential.issued[0], scope: SQL });
    expect(invalidate).not.toHaveBeenCalled();
    expect(events).toEqual([
      {
        type: "connection-opened",
        tokenMode: "inline",
        scope: SQL,
        tokenExpiresOnTimestamp: attempts[0]?.used.expiresOnTimestamp,
        retireAt: expect.any(Number),
        durationInMs: expect.any(Number),
        attempt: 1,
      },
    ]);
  });

  it("on a first refusal drops that token, emits login-retried and logs in again with a fresh one", async () => {
    const connection = await login("inline", [expired()]);
    expect(connection).toEqual({ serial: 2 });
    expect(credential.callCount).toBe(2);
    const [first, second] = credential.issued;
    expect(invalidate).toHaveBeenCalledTimes(1);
    expect(invalidate).toHaveBeenCalledWith(SQL, { token: first });
    expect(tokenOf(attempts[0])).toBe(first);
    expect(tokenOf(attempts[1])).toBe(second);
    expect(second).not.toBe(first);
    expect(events.map((event) => event.type)).toEqual(["login-retried", "connection-opened"]);
    expect(events[0]).toEqual({ type: "login-retried", verdict: "expired", scope: SQL });
    expect(events[1]).toMatchObject({ type: "connection-opened", attempt: 2, scope: SQL });
  });

  it("turns a second refusal into TokenLoginRejectedError with the server's error as cause and no token text", async () => {
    const secondRefusal = rejected();
    const error = await login("inline", [rejected(), secondRefusal]).catch((caught: unknown) => caught);
    expect(isTokenLoginRejectedError(error)).toBe(true);
    expect((error as Error).cause).toBe(secondRefusal);
    const message = (error as Error).message;
    expect(message).toMatch(/^@entra-sql\/test-adapter: "db\.example", database "app" refused the login/);
    expect(message).toContain("Login failed for user '<token-identified principal>'.");
    expect(credential.issued).toHaveLength(2);
    for (const token of credential.issued) {
      for (const part of token.split(".")) expect(message).not.toContain(part);
    }
    expect(attempts).toHaveLength(2);
    expect(events).toEqual([{ type: "login-retried", verdict: "rejected", scope: SQL }]);
  });

  it("passes other errors on as readable errors, with no retry", async () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1433"), { code: "ESOCKET" });
    await expect(login("inline", [socket])).rejects.toBe(socket);

    const silent = Object.assign(new AggregateError([new Error("the identity endpoint answered 503")], ""), {
      code: "EFEDAUTH",
    });
    const error = await login("inline", [silent]).catch((caught: unknown) => caught);
    expect(isConnectionFailedError(error)).toBe(true);
    expect((error as Error).message).toBe(
      '@entra-sql/test-adapter: could not connect to "db.example": the identity endpoint answered 503',
    );
    expect((error as Error).cause).toBe(silent);

    expect(attempts).toHaveLength(2); // one per login
    expect(invalidate).not.toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it("passes a non-token error of the retry on as a readable error", async () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1433"), { code: "ESOCKET" });
    await expect(login("inline", [expired(), socket])).rejects.toBe(socket);
    expect(events.map((event) => event.type)).toEqual(["login-retried"]);
  });

  it("token-credential: hands the driver a credential that records the token it handed out", async () => {
    await login("token-credential");
    const [attempt] = attempts;
    expect(attempt?.authentication.type).toBe("token-credential");
    expect(attempt?.used).toMatchObject({ token: credential.issued[0], scope: SQL });
    expect(attempt?.used.expiresOnTimestamp).toEqual(expect.any(Number));
    expect(events).toEqual([
      expect.objectContaining({
        type: "connection-opened",
        tokenMode: "token-credential",
        scope: SQL,
        tokenExpiresOnTimestamp: attempt?.used.expiresOnTimestamp,
        attempt: 1,
      }),
    ]);
  });

  it("token-credential: a refusal drops the token the credential handed out, for the scope it was asked", async () => {
    await login("token-credential", [expired()]);
    const [first, second] = credential.issued;
    expect(invalidate).toHaveBeenCalledWith(SQL, { token: first });
    expect(attempts[1]?.used.token).toBe(second);
    expect(events[0]).toEqual({ type: "login-retried", verdict: "expired", scope: SQL });
  });

  it("refreshes once when many logins are refused with the same token", async () => {
    await tokenSource.getToken(SQL); // all of them start from this cached token
    const logins = Array.from({ length: 5 }, () => login("inline", [expired()]));
    await Promise.all(logins);
    expect(credential.callCount).toBe(2);
    expect(invalidate).toHaveBeenCalledTimes(5);
    for (const call of invalidate.mock.calls) expect(call).toEqual([SQL, { token: credential.issued[0] }]);
  });
});
