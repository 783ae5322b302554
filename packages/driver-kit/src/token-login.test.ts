import {
  createTokenSource,
  isScopeNotAllowedError,
  isUnknownSqlHostError,
  type TokenSource,
} from "@entra-sql/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionEvent, ConnectionOpenedEvent, LoginRetriedEvent } from "./connection-events.js";
import { createConnectionLifetimePolicy } from "./connection-lifetime.js";
import type { TokenMode } from "./connection-options.js";
import {
  isConnectionFailedError,
  isLoginRefusedError,
  isTokenLoginRejectedError,
  type LoginRefusedError,
  type TokenLoginRejectedError,
} from "./login-errors.js";
import { expectNoTokenIn, objectIdOf, SQL_SCOPE } from "./test-support/fake-jwt.js";
import { FakeCredential } from "./test-support/fake-token-source.js";
import {
  type FakeConnection,
  lifecycleHarness,
  SERVER,
  succeedingAttempt,
} from "./test-support/lifecycle-harness.js";
import {
  type LoginAttempt,
  type LoginToken,
  loginWithFreshTokenRetry,
  type TokenAuthentication,
} from "./token-login.js";

// The login flow the adapters share. The driver is a hand-written `attempt` that records what it was
// handed, reports server messages as tedious' `errorMessage` would, and answers as the test says;
// tedious' own login is covered by the integration suites.

const SQL = SQL_SCOPE;
const PACKAGE = "@entra-sql/test-adapter";
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const TOKEN_REFUSED_TEXT = "Login failed for user '<token-identified principal>'.";
/** How SQL Server refuses an expired token (error 18456). */
const expired = () => Object.assign(new Error(`${TOKEN_REFUSED_TEXT} Token is expired.`), { number: 18456 });
/** How Azure SQL refuses a token whose principal is not a user (or is revoked). */
const rejected = () => Object.assign(new Error(TOKEN_REFUSED_TEXT), { number: 18456 });
/** tedious' login error: the LAST server message as text, code ELOGIN, no number. */
const tediousLoginError = (message: string) => Object.assign(new Error(message), { code: "ELOGIN" });

const CANNOT_OPEN_DATABASE = 'Cannot open database "otherdb" requested by the login. The login failed.';
const FIREWALL =
  "Cannot open server 'myserver' requested by the login. Client with IP address '203.0.113.7' is not allowed to access the server.";

describe("loginWithFreshTokenRetry, through a real token source", () => {
  interface Attempted {
    authentication: TokenAuthentication;
  }

  let credential: FakeCredential;
  let tokenSource: TokenSource;
  let invalidate: ReturnType<typeof vi.spyOn>;
  let events: (LoginRetriedEvent | ConnectionOpenedEvent)[];
  let attempts: Attempted[];
  let stamped: LoginToken[];

  beforeEach(() => {
    credential = new FakeCredential();
    tokenSource = createTokenSource({ credential });
    invalidate = vi.spyOn(tokenSource, "invalidate");
    events = [];
    attempts = [];
    stamped = [];
  });

  afterEach(() => {
    tokenSource.close();
  });

  /**
   * Logs in with a fake driver: each attempt records its authentication, then (token-credential) asks
   * the credential for the server's scope as tedious would, then throws the next of `failures` or
   * answers a connection.
   */
  function login(tokenMode: TokenMode, failures: unknown[] = []): Promise<{ serial: number }> {
    const lifetime = createConnectionLifetimePolicy({ maxAgeInMs: 30 * MIN, maxAgeJitterRatio: 0 });
    return loginWithFreshTokenRetry<{ serial: number }>({
      tokenSource,
      tokenMode,
      scope: tokenMode === "inline" ? SQL : undefined,
      emit: (build) => events.push(build()),
      packageName: PACKAGE,
      server: "db.example",
      database: "app",
      attempt: async (authentication) => {
        attempts.push({ authentication });
        if (authentication.type === "token-credential") await authentication.credential.getToken(SQL);
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return { serial: attempts.length };
      },
      stamp: (_connection, used) => {
        stamped.push({ ...used });
        return lifetime.stamp({
          tokenExpiresOnTimestamp: used.expiresOnTimestamp,
          tokenLifetimeInMs: used.lifetimeInMs,
        });
      },
    });
  }

  const tokenOf = (attempt: Attempted | undefined): string | undefined =>
    attempt?.authentication.type === "azure-active-directory-access-token"
      ? attempt.authentication.token
      : undefined;

  it("logs in once with a cached token and reports connection-opened", async () => {
    const connection = await login("inline");
    expect(connection).toEqual({ serial: 1 });
    expect(tokenOf(attempts[0])).toBe(credential.issued[0]);
    expect(stamped).toEqual([
      {
        token: credential.issued[0],
        scope: SQL,
        expiresOnTimestamp: expect.any(Number),
        lifetimeInMs: 60 * MIN,
      },
    ]);
    expect(invalidate).not.toHaveBeenCalled();
    expect(events).toEqual([
      {
        type: "connection-opened",
        tokenMode: "inline",
        scope: SQL,
        tokenExpiresOnTimestamp: stamped[0]?.expiresOnTimestamp,
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
    expect(stamped.map((used) => used.token)).toEqual([second]);
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
    expect(message).toContain(TOKEN_REFUSED_TEXT);
    expect(credential.issued).toHaveLength(2);
    expectNoTokenIn([error, events], credential.issued);
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
    expect(stamped).toEqual([
      {
        token: credential.issued[0],
        scope: SQL,
        expiresOnTimestamp: expect.any(Number),
        lifetimeInMs: 60 * MIN,
      },
    ]);
    expect(events).toEqual([
      expect.objectContaining({
        type: "connection-opened",
        tokenMode: "token-credential",
        scope: SQL,
        tokenExpiresOnTimestamp: stamped[0]?.expiresOnTimestamp,
        attempt: 1,
      }),
    ]);
  });

  it("token-credential: a refusal drops the token the credential handed out, for the scope it was asked", async () => {
    await login("token-credential", [expired()]);
    const [first, second] = credential.issued;
    expect(invalidate).toHaveBeenCalledWith(SQL, { token: first });
    expect(stamped[0]?.token).toBe(second);
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

describe("ConnectionLifecycle.login, over a counting fake token source", () => {
  /** Every event and error the test produced, checked for token text after it. */
  let produced: unknown[];
  let issued: string[];
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    produced = [];
    issued = [];
  });
  afterEach(() => {
    vi.useRealTimers();
    if (issued.length > 0) expectNoTokenIn(produced, issued);
  });

  function harness(options: Parameters<typeof lifecycleHarness>[0] = {}) {
    const h = lifecycleHarness({ maxAgeInMs: 30 * MIN, ...options });
    produced.push(h.events);
    issued = h.tokens.issued;
    return h;
  }

  /** The error `promise` rejects with (also kept for the token check). */
  async function failure(promise: Promise<unknown>): Promise<unknown> {
    const error = await promise.then(
      () => {
        throw new Error("expected the login to fail");
      },
      (caught: unknown) => caught,
    );
    produced.push(error);
    return error;
  }

  /**
   * A login attempt that reports `messages` through `onServerMessage` (as tedious' errorMessage
   * events arrive) and rejects with `driverError`, for the first `times` attempts; then succeeds.
   */
  function refusing(
    messages: { number: number; message: string }[],
    driverError: () => Error,
    handed: TokenAuthentication[],
    times = 1,
  ): LoginAttempt<FakeConnection> {
    let calls = 0;
    return async (authentication, onServerMessage) => {
      handed.push(authentication);
      calls++;
      if (calls <= times) {
        for (const message of messages) onServerMessage({ ...message, state: 1, class: 14 });
        throw driverError();
      }
      return { serial: calls, closedBy: 0 };
    };
  }

  const inlineToken = (authentication: TokenAuthentication | undefined) =>
    authentication?.type === "azure-active-directory-access-token" ? authentication.token : undefined;

  it("inline: fetches a token for the server's scope, hands it to the driver and stamps the connection", async () => {
    const { tokens, events, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const connection = await lifecycle.login({ server: SERVER, database: "app" }, succeedingAttempt(handed));
    expect(tokens.calls.getTokenDetails).toEqual([SQL]);
    expect(tokens.calls.getToken).toEqual([]);
    expect(handed).toEqual([{ type: "azure-active-directory-access-token", token: tokens.issued[0] }]);
    expect(lifecycle.stampOf(connection)).toMatchObject({
      bornAt: T0,
      tokenExpiresOnTimestamp: T0 + 60 * MIN,
      tokenExpiryMarginInMs: 60_000,
      retireAt: T0 + 30 * MIN,
    });
    expect(events).toEqual([
      {
        type: "connection-opened",
        tokenMode: "inline",
        scope: SQL,
        tokenExpiresOnTimestamp: T0 + 60 * MIN,
        retireAt: T0 + 30 * MIN,
        durationInMs: 0,
        attempt: 1,
      },
    ]);
  });

  it("inline: the scope option wins over the server's host, and an unknown host without one is refused before any token", async () => {
    const scope = "https://sql.contoso.example/.default";
    const { tokens, lifecycle } = harness({ scope });
    await lifecycle.login({ server: "sql.internal.example" }, succeedingAttempt());
    expect(tokens.calls.getTokenDetails).toEqual([scope]);

    const unscoped = harness();
    const handed: TokenAuthentication[] = [];
    const error = await failure(
      unscoped.lifecycle.login({ server: "sql.internal.example" }, succeedingAttempt(handed)),
    );
    expect(isUnknownSqlHostError(error)).toBe(true);
    expect(unscoped.tokens.calls.getTokenDetails).toEqual([]);
    expect(handed).toEqual([]);
  });

  it("token-credential: the driver's credential asks the token source for the scope the server names", async () => {
    const { tokens, events, lifecycle } = harness({ tokenMode: "token-credential" });
    const asked = "https://database.windows.net//.default"; // tedious: new URL("/.default", spn)
    const attempt: LoginAttempt<FakeConnection> = async (authentication) => {
      if (authentication.type !== "token-credential") throw new Error("expected a credential");
      await authentication.credential.getToken(asked);
      return { serial: 1, closedBy: 0 };
    };
    const connection = await lifecycle.login({ server: SERVER }, attempt);
    expect(tokens.calls.getToken).toEqual([asked]);
    expect(tokens.calls.getTokenDetails).toEqual([]);
    expect(lifecycle.stampOf(connection)?.tokenExpiresOnTimestamp).toBe(T0 + 60 * MIN);
    expect(events).toEqual([
      expect.objectContaining({
        type: "connection-opened",
        tokenMode: "token-credential",
        scope: asked,
        attempt: 1,
      }),
    ]);
  });

  it("retries a refusal that is only 18456 once, after invalidating exactly the refused token", async () => {
    const { tokens, events, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const attempt = refusing(
      [{ number: 18456, message: TOKEN_REFUSED_TEXT }],
      () => tediousLoginError(TOKEN_REFUSED_TEXT),
      handed,
    );
    const connection = await lifecycle.login({ server: SERVER, database: "app" }, attempt);
    const [first, second] = tokens.issued;
    expect(tokens.calls.invalidate).toEqual([[SQL, { token: first }]]);
    expect(handed.map(inlineToken)).toEqual([first, second]);
    expect(second).not.toBe(first);
    expect(connection.serial).toBe(2);
    expect(events).toEqual([
      { type: "login-retried", verdict: "rejected", scope: SQL },
      expect.objectContaining({ type: "connection-opened", attempt: 2, scope: SQL }),
    ]);
  });

  it("token-credential: retries a token refusal after invalidating the token the credential handed out", async () => {
    const { tokens, events, lifecycle } = harness({ tokenMode: "token-credential" });
    let calls = 0;
    const attempt: LoginAttempt<FakeConnection> = async (authentication, onServerMessage) => {
      if (authentication.type !== "token-credential") throw new Error("expected a credential");
      await authentication.credential.getToken(SQL);
      if (++calls === 1) {
        onServerMessage({ number: 18456, message: `${TOKEN_REFUSED_TEXT} Token is expired.` });
        throw tediousLoginError(`${TOKEN_REFUSED_TEXT} Token is expired.`);
      }
      return { serial: calls, closedBy: 0 };
    };
    await lifecycle.login({ server: SERVER }, attempt);
    expect(tokens.calls.invalidate).toEqual([[SQL, { token: tokens.issued[0] }]]);
    expect(tokens.calls.getToken).toEqual([SQL, SQL]);
    expect(events.map((event) => event.type)).toEqual(["login-retried", "connection-opened"]);
    expect(events[0]).toEqual({ type: "login-retried", verdict: "expired", scope: SQL });
  });

  // The LoginRefusedError's `cause` is the driver's 18456 that ends every refused login: it must not be
  // taken for a token refusal.
  it("does not retry a wrong database (4060, then 18456): names it with the fix instead", async () => {
    const { tokens, events, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const driverError = tediousLoginError(TOKEN_REFUSED_TEXT);
    const attempt = refusing(
      [
        { number: 4060, message: CANNOT_OPEN_DATABASE },
        { number: 18456, message: TOKEN_REFUSED_TEXT },
      ],
      () => driverError,
      handed,
      2,
    );
    const error = await failure(lifecycle.login({ server: SERVER, database: "otherdb" }, attempt));
    expect(isLoginRefusedError(error)).toBe(true);
    const refused = error as LoginRefusedError;
    expect(refused).toMatchObject({ number: 4060, serverMessage: CANNOT_OPEN_DATABASE, cause: driverError });
    expect(refused.message).toContain('database "otherdb"');
    expect(refused.message).toContain('the "database" setting');
    expect(handed).toHaveLength(1);
    expect(tokens.calls.invalidate).toEqual([]);
    expect(events).toEqual([]);
  });

  it("does not retry a wrong database the driver reports as 4060: LoginRefusedError with the fix", async () => {
    const { tokens, events, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const driverError = tediousLoginError(CANNOT_OPEN_DATABASE);
    const attempt = refusing([{ number: 4060, message: CANNOT_OPEN_DATABASE }], () => driverError, handed, 2);
    const error = await failure(lifecycle.login({ server: SERVER, database: "otherdb" }, attempt));
    expect(isLoginRefusedError(error)).toBe(true);
    const refused = error as LoginRefusedError;
    expect(refused).toMatchObject({ number: 4060, serverMessage: CANNOT_OPEN_DATABASE, cause: driverError });
    expect(refused.message).toMatch(
      /^@entra-sql\/test-adapter: "myserver\.database\.windows\.net", database "otherdb" refused the login \(error 4060\)/,
    );
    expect(refused.message).toContain('the "database" setting');
    expect(handed).toHaveLength(1);
    expect(tokens.calls.invalidate).toEqual([]);
    expect(events).toEqual([]);
  });

  it("does not retry a firewall refusal (40615): LoginRefusedError with firewall advice", async () => {
    const { tokens, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const attempt = refusing(
      [{ number: 40615, message: FIREWALL }],
      () => tediousLoginError(FIREWALL),
      handed,
      2,
    );
    const error = await failure(lifecycle.login({ server: SERVER }, attempt));
    expect(error).toMatchObject({ name: "LoginRefusedError", number: 40615, serverMessage: FIREWALL });
    expect((error as Error).message).toContain("firewall rule");
    expect(handed).toHaveLength(1);
    expect(tokens.calls.invalidate).toEqual([]);
  });

  it("ignores server messages that are not ERROR-token shaped", async () => {
    const { lifecycle } = harness();
    const attempt: LoginAttempt<FakeConnection> = async (_authentication, onServerMessage) => {
      onServerMessage("not a message");
      onServerMessage({ number: "4060", message: CANNOT_OPEN_DATABASE });
      throw tediousLoginError("connect ETIMEDOUT");
    };
    const error = await failure(lifecycle.login({ server: SERVER }, attempt));
    expect(error).toMatchObject({ message: "connect ETIMEDOUT" });
  });

  it("turns a second 18456 refusal into TokenLoginRejectedError naming the principal, without token text", async () => {
    const { tokens, events, lifecycle } = harness();
    const handed: TokenAuthentication[] = [];
    const errors: Error[] = [];
    const attempt = refusing(
      [{ number: 18456, message: TOKEN_REFUSED_TEXT }],
      () => {
        const error = tediousLoginError(TOKEN_REFUSED_TEXT);
        errors.push(error);
        return error;
      },
      handed,
      2,
    );
    const error = await failure(lifecycle.login({ server: SERVER, database: "app" }, attempt));
    expect(isTokenLoginRejectedError(error)).toBe(true);
    const rejection = error as TokenLoginRejectedError;
    expect(rejection.cause).toBe(errors[1]);
    expect(rejection.principal?.objectId).toBe(objectIdOf(2));
    expect(rejection.message).toMatch(
      /^@entra-sql\/test-adapter: "myserver\.database\.windows\.net", database "app"/,
    );
    expect(rejection.createUserStatement).toContain("CREATE USER [orders-api] FROM EXTERNAL PROVIDER");
    expect(handed.map(inlineToken)).toEqual(tokens.issued);
    expect(tokens.issued).toHaveLength(2);
    expect(tokens.calls.invalidate).toEqual([[SQL, { token: tokens.issued[0] }]]);
    expect(events).toEqual([{ type: "login-retried", verdict: "rejected", scope: SQL }]);
  });

  describe("token-credential with a pinned scope", () => {
    const GRAPH = "https://graph.microsoft.com/.default";

    /** An attempt whose "server" names `asked`; records the credential's answer, then fails as tedious does. */
    function askingFor(asked: string, answers: unknown[]): LoginAttempt<FakeConnection> {
      return async (authentication) => {
        if (authentication.type !== "token-credential") throw new Error("expected a credential");
        try {
          answers.push(await authentication.credential.getToken(asked));
        } catch (error) {
          answers.push(error);
          // tedious 19: a failed credential call becomes AggregateError([ConnectionError EFEDAUTH, cause]).
          throw Object.assign(
            new AggregateError(
              [
                Object.assign(new Error("Security token could not be authenticated or authorized."), {
                  code: "EFEDAUTH",
                }),
                error,
              ],
              "",
            ),
            { code: "EFEDAUTH" },
          );
        }
        return { serial: 1, closedBy: 0 };
      };
    }

    it("refuses another scope the server asks for, without asking the token source, and does not retry", async () => {
      const { tokens, events, lifecycle } = harness({ tokenMode: "token-credential", scope: SQL });
      const answers: unknown[] = [];
      const error = await failure(lifecycle.login({ server: SERVER }, askingFor(GRAPH, answers)));
      expect(answers).toHaveLength(1);
      expect(isScopeNotAllowedError(answers[0])).toBe(true);
      expect(answers[0]).toMatchObject({ scope: GRAPH, allowedScopes: [SQL] });
      expect(isConnectionFailedError(error)).toBe(true);
      expect((error as Error).message).toContain(`refused to get a token for scope "${GRAPH}"`);
      expect(tokens.calls.getToken).toEqual([]);
      expect(tokens.calls.getTokenDetails).toEqual([]);
      expect(tokens.calls.invalidate).toEqual([]);
      expect(events).toEqual([]);
    });

    it("accepts the pinned scope in another spelling of the same audience", async () => {
      const { tokens, lifecycle } = harness({ tokenMode: "token-credential", scope: SQL });
      const answers: unknown[] = [];
      await lifecycle.login({ server: SERVER }, askingFor("https://DATABASE.windows.net//.default", answers));
      expect(tokens.calls.getToken).toEqual(["https://DATABASE.windows.net//.default"]);
      expect(answers[0]).toMatchObject({ token: tokens.issued[0] });
    });

    // A scope the guard cannot read (here without "https://") would pin nothing: refused up front.
    it("refuses a malformed pinned scope when the options are resolved", () => {
      let thrown: unknown;
      try {
        harness({ tokenMode: "token-credential", scope: "database.windows.net/.default" });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ name: "InvalidOptionError", option: "scope" });
    });
  });

  describe("the token's lifetime (exp - iat) sizes the automatic expiry margin", () => {
    it.each<[TokenMode]>([["inline"], ["token-credential"]])(
      "%s: a 5-minute token retires 30 s before its exp",
      async (tokenMode) => {
        const { tokens, events, lifecycle } = harness({ tokenMode });
        tokens.lifetimeInMs = 5 * MIN;
        const attempt: LoginAttempt<FakeConnection> = async (authentication) => {
          if (authentication.type === "token-credential") await authentication.credential.getToken(SQL);
          return { serial: 1, closedBy: 0 };
        };
        const connection = await lifecycle.login({ server: SERVER }, attempt);
        const exp = T0 + 5 * MIN;
        expect(lifecycle.stampOf(connection)).toMatchObject({
          tokenExpiresOnTimestamp: exp,
          tokenExpiryMarginInMs: 30_000,
          tokenRetireAt: exp - 30_000,
          retireAt: exp - 30_000,
        });
        expect(events[0]).toMatchObject({ type: "connection-opened", retireAt: exp - 30_000 });
      },
    );

    it("a cached 60-minute token with 5 minutes left keeps a 60 s margin (its lifetime, not the time left)", async () => {
      const { tokens, lifecycle } = harness();
      tokens.lifetimeInMs = 60 * MIN;
      tokens.issuedAgoInMs = 55 * MIN;
      const connection = await lifecycle.login({ server: SERVER }, succeedingAttempt());
      expect(lifecycle.stampOf(connection)).toMatchObject({
        tokenExpiresOnTimestamp: T0 + 5 * MIN,
        tokenExpiryMarginInMs: 60_000,
        tokenRetireAt: T0 + 4 * MIN,
      });
    });

    it("an explicit margin wins over the token's lifetime", async () => {
      const { tokens, lifecycle } = harness({ tokenExpiryMarginInMs: 2 * MIN });
      tokens.lifetimeInMs = 5 * MIN;
      const connection = await lifecycle.login({ server: SERVER }, succeedingAttempt());
      expect(lifecycle.stampOf(connection)).toMatchObject({
        tokenExpiryMarginInMs: 2 * MIN,
        tokenRetireAt: T0 + 3 * MIN,
      });
    });
  });

  it("lets no token into any event of a login (checked after each test)", async () => {
    const { events, lifecycle } = harness();
    const attempt = refusing(
      [{ number: 18456, message: TOKEN_REFUSED_TEXT }],
      () => tediousLoginError(TOKEN_REFUSED_TEXT),
      [],
    );
    await lifecycle.login({ server: SERVER }, attempt);
    const types = events.map((event: ConnectionEvent) => event.type);
    expect(types).toEqual(["login-retried", "connection-opened"]);
  });
});
