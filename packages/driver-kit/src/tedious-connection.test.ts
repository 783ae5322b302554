import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isLoginRefusedError } from "./login-errors.js";
import { type TediousConnectionLike, watchTediousConnection } from "./tedious-connection.js";
import { expectNoTokenIn } from "./test-support/fake-jwt.js";
import { lifecycleHarness, SERVER } from "./test-support/lifecycle-harness.js";
import type { LoginAttempt, TokenAuthentication } from "./token-login.js";

// The glue every tedious-based adapter shares, on a hand-written stand-in for a tedious Connection: an
// EventEmitter with the fields and methods the kit touches, counting calls. Real tedious Connections
// are covered by the integration suites.

const EXPIRED_ON_SESSION = {
  number: 37396,
  message:
    "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.",
};
const CANNOT_OPEN_DATABASE = 'Cannot open database "otherdb" requested by the login. The login failed.';

/** The parts of a tedious Connection the kit uses; `rollbackTransaction` records its calls and answers at once. */
class FakeTediousConnection extends EventEmitter implements TediousConnectionLike {
  closed = false;
  closeCalls = 0;
  readonly rollbacks: unknown[][] = [];
  config: { server: string; authentication: { type: string; options: Record<string, unknown> } };

  constructor(authentication: TokenAuthentication) {
    super();
    this.config = {
      server: SERVER,
      authentication:
        authentication.type === "azure-active-directory-access-token"
          ? { type: authentication.type, options: { token: authentication.token } }
          : { type: authentication.type, options: { credential: authentication.credential } },
    };
  }

  close(): void {
    this.closeCalls++;
    this.closed = true;
  }

  rollbackTransaction(callback: (error?: unknown) => void, ...rest: unknown[]): unknown {
    this.rollbacks.push(rest);
    callback();
    return "sent";
  }
}

let h: ReturnType<typeof lifecycleHarness<FakeTediousConnection>>;
let created: FakeTediousConnection[];
/** What each new connection does during its login (after it is watched), e.g. report messages and fail. */
let duringLogin: ((connection: FakeTediousConnection) => void) | undefined;

beforeEach(() => {
  h = lifecycleHarness<FakeTediousConnection>({}, (connection) => connection.close());
  created = [];
  duringLogin = undefined;
});
afterEach(() => {
  h.lifecycle.close();
});

/** The adapter's connect, as mssql's beforeConnect or Knex's connection factory would wire it. */
const attempt: LoginAttempt<FakeTediousConnection> = async (authentication, onServerMessage) => {
  const connection = new FakeTediousConnection(authentication);
  watchTediousConnection(h.lifecycle, connection, onServerMessage);
  created.push(connection);
  duringLogin?.(connection);
  return connection;
};
const login = () => h.lifecycle.login({ server: SERVER, database: "app" }, attempt);

/** Calls the (possibly wrapped) rollbackTransaction and waits for its callback. */
function rollback(connection: FakeTediousConnection, ...rest: unknown[]) {
  let calledBack = false;
  let returned: unknown;
  const done = new Promise<unknown[]>((resolve) => {
    returned = connection.rollbackTransaction(
      (...args: unknown[]) => {
        calledBack = true;
        resolve(args);
      },
      ...rest,
    );
  });
  return { done, returned, calledBackAtOnce: calledBack };
}

describe("watchTediousConnection", () => {
  it("hands every errorMessage to the login (a refused login is named from them)", async () => {
    duringLogin = (connection) => {
      connection.emit("errorMessage", { number: 4060, message: CANNOT_OPEN_DATABASE });
      throw Object.assign(new Error(CANNOT_OPEN_DATABASE), { code: "ELOGIN" });
    };
    const error = await login().catch((caught: unknown) => caught);
    expect(isLoginRefusedError(error)).toBe(true);
    expect(error).toMatchObject({ number: 4060, serverMessage: CANNOT_OPEN_DATABASE });
  });

  it("hands every errorMessage to onLoginMessage and to the lifecycle", async () => {
    const connection = await login();
    const seen: unknown[] = [];
    const other = new FakeTediousConnection({ type: "azure-active-directory-access-token", token: "t" });
    watchTediousConnection(h.lifecycle, other, (message) => seen.push(message));
    other.emit("errorMessage", EXPIRED_ON_SESSION);
    expect(seen).toEqual([EXPIRED_ON_SESSION]);
    expect(h.lifecycle.isSessionExpired(other)).toBe(false); // never logged in through the lifecycle

    expect(h.lifecycle.isSessionExpired(connection)).toBe(false);
    connection.emit("errorMessage", EXPIRED_ON_SESSION);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(true);
    expect(h.events.at(-1)).toMatchObject({
      type: "connection-retired",
      reason: "session-token-expired",
      at: "statement",
    });
  });

  it("calls tedious' own rollbackTransaction, with its arguments, before any 37396", async () => {
    const connection = await login();
    connection.emit("errorMessage", { number: 208, message: "Invalid object name 'users'." });
    const call = rollback(connection, "tx1");
    expect(call.returned).toBe("sent");
    expect(await call.done).toEqual([]);
    expect(connection.rollbacks).toEqual([["tx1"]]);
    expect(connection.closeCalls).toBe(0);
  });

  it("after a 37396, ends the session instead of sending ROLLBACK, then calls back without error", async () => {
    const connection = await login();
    h.lifecycle.isUsable(connection);
    connection.emit("errorMessage", EXPIRED_ON_SESSION);
    const call = rollback(connection, "tx1");
    expect(connection.rollbacks).toEqual([]);
    expect(connection.closeCalls).toBe(1);
    expect(h.closed).toEqual([connection]);
    expect(call.calledBackAtOnce).toBe(false); // asynchronously, as tedious would
    expect(await call.done).toEqual([]);
    expect(connection.rollbacks).toEqual([]);
  });

  it("keeps an inline token out of util.inspect and JSON, but readable for tedious", async () => {
    const connection = await login();
    const token = h.tokens.issued[0] as string;
    const options = connection.config.authentication.options;
    expect(options.token).toBe(token);
    expect(Object.keys(options)).not.toContain("token");
    expectNoTokenIn([connection, connection.config, options], [token]);
    expect(JSON.stringify(connection.config)).toBe(
      `{"server":"${SERVER}","authentication":{"type":"azure-active-directory-access-token","options":{}}}`,
    );
    // Redirects read it again, and may write it: it stays a plain writable data property.
    expect(Object.getOwnPropertyDescriptor(options, "token")).toMatchObject({ value: token, writable: true });
  });

  it("watches connections without an inline token or a rollbackTransaction too", async () => {
    const tokenCredential = lifecycleHarness<FakeTediousConnection>({ tokenMode: "token-credential" });
    const connection = new FakeTediousConnection({
      type: "token-credential",
      credential: { getToken: async () => null },
    });
    expect(() => watchTediousConnection(tokenCredential.lifecycle, connection, () => {})).not.toThrow();
    expect(Object.keys(connection.config.authentication.options)).toEqual(["credential"]);

    tokenCredential.lifecycle.close();

    const bare = Object.assign(new EventEmitter(), { close() {} });
    const plain = lifecycleHarness<typeof bare>();
    const seen: unknown[] = [];
    watchTediousConnection(plain.lifecycle, bare, (message) => seen.push(message));
    bare.emit("errorMessage", EXPIRED_ON_SESSION);
    expect(seen).toEqual([EXPIRED_ON_SESSION]);
    expect("rollbackTransaction" in bare).toBe(false);
    plain.lifecycle.close();
  });
});
