import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionEvent } from "./connection-events.js";
import { ConnectionLifecycle, type RetryPool } from "./connection-lifecycle.js";
import { resolveConnectionOptions } from "./connection-options.js";
import { isSessionTokenExpiredError } from "./session-token-expired-error.js";
import { expectNoTokenIn, SQL_SCOPE } from "./test-support/fake-jwt.js";
import { FakeTokenSource } from "./test-support/fake-token-source.js";
import {
  type FakeConnection,
  lifecycleHarness,
  PACKAGE,
  SERVER,
  succeedingAttempt,
} from "./test-support/lifecycle-harness.js";

// One physical connection's life: stamps, acquire and release, the idle timer, 37396 and the retry on a
// fresh connection. Fake clock; a counting fake token source; connections are plain objects and the
// "pool" is whatever each test scripts.

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const EXPIRED_ON_SESSION = {
  number: 37396,
  state: 1,
  class: 16,
  message:
    "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.",
};

let h: ReturnType<typeof lifecycleHarness<FakeConnection>>;
let attempt: ReturnType<typeof succeedingAttempt>;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  h = lifecycleHarness<FakeConnection>({ maxAgeInMs: 30 * MIN });
  attempt = succeedingAttempt();
});

afterEach(() => {
  h.lifecycle.close();
  vi.useRealTimers();
  // No event of any test shows any part of a token.
  if (h.tokens.issued.length > 0) expectNoTokenIn(h.events, h.tokens.issued);
});

const login = () => h.lifecycle.login({ server: SERVER, database: "app" }, attempt);
/** A connection handed out and given back once: its age alone can refuse it from then on. */
const usedOnce = async () => {
  const connection = await login();
  h.lifecycle.isUsable(connection);
  h.lifecycle.onRelease(connection);
  return connection;
};
const retired = () => h.events.filter((event) => event.type === "connection-retired");

describe("login", () => {
  it("stamps the connection and emits connection-opened", async () => {
    const connection = await login();
    expect(h.lifecycle.stampOf(connection)).toEqual({
      bornAt: T0,
      tokenExpiresOnTimestamp: T0 + 60 * MIN,
      jitterInMs: 0,
      maxAgeRetireAt: T0 + 30 * MIN,
      tokenExpiryMarginInMs: 60_000,
      tokenRetireAt: T0 + 59 * MIN,
      retireAt: T0 + 30 * MIN,
    });
    expect(h.tokens.calls.getTokenDetails).toEqual([SQL_SCOPE]);
    expect(h.events).toEqual([
      {
        type: "connection-opened",
        tokenMode: "inline",
        scope: SQL_SCOPE,
        tokenExpiresOnTimestamp: T0 + 60 * MIN,
        retireAt: T0 + 30 * MIN,
        durationInMs: 0,
        attempt: 1,
      },
    ]);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(false);
    expect(h.lifecycle.packageName).toBe(PACKAGE);
  });

  it("ages a connection from the start of its connect, so a slow login counts against its max age", async () => {
    const slowConnect = succeedingAttempt();
    const logging = h.lifecycle.login(
      { server: SERVER, database: "app" },
      async (authentication, onMessage) => {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        return await slowConnect(authentication, onMessage);
      },
    );
    await vi.advanceTimersByTimeAsync(5_000);
    const connection = await logging;
    expect(h.lifecycle.stampOf(connection)).toMatchObject({ bornAt: T0, retireAt: T0 + 30 * MIN });
    expect(h.events).toMatchObject([
      { type: "connection-opened", durationInMs: 5_000, retireAt: T0 + 30 * MIN },
    ]);
  });

  it("does not own the token source it was given", () => {
    expect(h.resolved.ownsTokenSource).toBe(false);
    h.lifecycle.close();
    expect(h.tokens.closed).toBe(false);
  });

  it("keeps working when the event listener throws", async () => {
    const tokens = new FakeTokenSource();
    const options = resolveConnectionOptions(
      {
        tokenSource: tokens,
        onEvent: () => {
          throw new Error("listener bug");
        },
      },
      PACKAGE,
    );
    const lifecycle = new ConnectionLifecycle<FakeConnection>({ options, closeConnection: () => {} });
    const connection = await lifecycle.login({ server: SERVER }, succeedingAttempt());
    expect(lifecycle.isUsable(connection)).toBe(true);
    lifecycle.close();
  });

  it("leaves connections it did not log in alone", () => {
    const stranger: FakeConnection = { serial: 99, closedBy: 0 };
    expect(h.lifecycle.isUsable(stranger)).toBe(true);
    h.lifecycle.onRelease(stranger);
    h.lifecycle.onServerMessage(stranger, EXPIRED_ON_SESSION);
    expect(h.lifecycle.isSessionExpired(stranger)).toBe(false);
    expect(h.lifecycle.stampOf(stranger)).toBeUndefined();
    expect(h.closed).toEqual([]);
    expect(h.events).toEqual([]);
  });
});

describe("acquire and release", () => {
  it("never lets the idle timer close a connection in use, even long past its retire time", async () => {
    const connection = await login();
    expect(h.lifecycle.isUsable(connection)).toBe(true);
    vi.advanceTimersByTime(3 * 60 * MIN);
    expect(h.closed).toEqual([]);
    expect(retired()).toEqual([]);

    h.lifecycle.onRelease(connection);
    expect(h.closed).toEqual([connection]);
    expect(connection.closedBy).toBe(1);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "release", ageInMs: 3 * 60 * MIN },
    ]);
  });

  it("keeps a fresh connection on release and arms the idle timer for it", async () => {
    const connection = await login();
    h.lifecycle.isUsable(connection);
    expect(vi.getTimerCount()).toBe(0); // in use: nothing to watch
    vi.advanceTimersByTime(10 * MIN);
    h.lifecycle.onRelease(connection);
    expect(h.closed).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);

    vi.advanceTimersByTime(20 * MIN - 1);
    expect(h.closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h.closed).toEqual([connection]);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "idle", ageInMs: 30 * MIN },
    ]);
  });

  it("closes a connection that comes back due", async () => {
    const connection = await login();
    h.lifecycle.isUsable(connection);
    vi.advanceTimersByTime(30 * MIN);
    expect(h.closed).toEqual([]);
    h.lifecycle.onRelease(connection);
    expect(h.closed).toEqual([connection]);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "release", ageInMs: 30 * MIN },
    ]);
  });

  it("refuses a due connection on acquire and leaves destroying it to the pool", async () => {
    const connection = await usedOnce();
    vi.setSystemTime(T0 + 30 * MIN); // the clock jumps; the idle timer has not run yet
    expect(h.lifecycle.isUsable(connection)).toBe(false);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "acquire", ageInMs: 30 * MIN },
    ]);
    vi.advanceTimersByTime(60 * MIN);
    expect(h.closed).toEqual([]);
    expect(retired()).toHaveLength(1);
    expect(h.lifecycle.isUsable(connection)).toBe(false);
    h.lifecycle.onRelease(connection);
    expect(h.closed).toEqual([connection]);
    expect(retired()).toHaveLength(1); // retired once, reported once
  });
});

describe("a connection's first use", () => {
  it("is never refused for its age alone: a login slower than the max age still gives a connection", async () => {
    const slow = h.lifecycle.login({ server: SERVER, database: "app" }, async (authentication, onMessage) => {
      await new Promise((resolve) => setTimeout(resolve, 31 * MIN));
      return await succeedingAttempt()(authentication, onMessage);
    });
    await vi.advanceTimersByTimeAsync(31 * MIN);
    const connection = await slow;
    expect(h.lifecycle.isUsable(connection)).toBe(true);
    expect(retired()).toEqual([]);
    // Given back, it is past its max age: closed.
    h.lifecycle.onRelease(connection);
    expect(h.closed).toEqual([connection]);
    expect(retired()).toMatchObject([{ reason: "max-age", at: "release" }]);
  });

  it("is refused past the token bound even so", async () => {
    const [early, late] = [await login(), await login()]; // max age at T0 + 30 min, token bound at + 59 min
    vi.setSystemTime(T0 + 45 * MIN); // past max age only; no timer ran
    expect(h.lifecycle.isUsable(early)).toBe(true);
    vi.setSystemTime(T0 + 59 * MIN);
    expect(h.lifecycle.isUsable(late)).toBe(false);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "token-expiry", at: "acquire", ageInMs: 59 * MIN },
    ]);
  });

  it("does not keep an unused connection: the idle timer retires it at its max age", async () => {
    const unused = await login();
    vi.advanceTimersByTime(30 * MIN);
    expect(h.closed).toEqual([unused]);
    expect(retired()).toMatchObject([{ reason: "max-age", at: "idle" }]);
  });
});

describe("validate: around the driver's own validation round trip", () => {
  const slowSelectOne = (ms: number, ok = true) => {
    const calls: number[] = [];
    const check = () => {
      calls.push(Date.now());
      return new Promise<boolean>((resolve) => setTimeout(() => resolve(ok), ms));
    };
    return { calls, check };
  };

  it("does not run the driver's validation on a due connection", async () => {
    const connection = await usedOnce();
    vi.setSystemTime(T0 + 30 * MIN);
    const driver = slowSelectOne(10);
    expect(h.lifecycle.validate(connection, driver.check)).toBe(false);
    expect(driver.calls).toEqual([]);
    expect(retired()).toMatchObject([{ reason: "max-age", at: "acquire" }]);
  });

  it("refuses a connection that the round trip carried past its max age", async () => {
    const connection = await usedOnce();
    vi.setSystemTime(T0 + 30 * MIN - 2_000);
    const verdict = h.lifecycle.validate(connection, slowSelectOne(3_000).check);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await verdict).toBe(false);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "acquire", ageInMs: 30 * MIN + 1_000 },
    ]);
  });

  it("hands out a connection still young after the round trip, marked in use", async () => {
    const connection = await login();
    const verdict = h.lifecycle.validate(connection, slowSelectOne(3_000).check);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await verdict).toBe(true);
    vi.advanceTimersByTime(60 * MIN);
    expect(h.closed).toEqual([]); // in use: the idle timer leaves it alone
  });

  it("passes the driver's verdict on: a failed or synchronous check", async () => {
    const connection = await login();
    const failed = h.lifecycle.validate(connection, slowSelectOne(10, false).check);
    await vi.advanceTimersByTimeAsync(10);
    expect(await failed).toBe(false);
    expect(h.lifecycle.validate(await login(), () => true)).toBe(true);
    expect(h.lifecycle.validate(await login(), () => false)).toBe(false);
    expect(retired()).toEqual([]);
  });
});

describe("idle retirement", () => {
  it("closes an idle connection at its max age", async () => {
    const connection = await login();
    vi.advanceTimersByTime(30 * MIN - 1);
    expect(h.closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h.closed).toEqual([connection]);
    expect(connection.closedBy).toBe(1);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "max-age", at: "idle", ageInMs: 30 * MIN },
    ]);
    expect(h.lifecycle.isUsable(connection)).toBe(false);
  });

  it("closes an idle connection at its token bound when that comes first", async () => {
    h.tokens.lifetimeInMs = 20 * MIN; // margin min(60 s, 2 min) = 60 s: retire at T0 + 19 min
    const connection = await login();
    expect(h.lifecycle.stampOf(connection)?.retireAt).toBe(T0 + 19 * MIN);
    vi.advanceTimersByTime(19 * MIN - 1);
    expect(h.closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h.closed).toEqual([connection]);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "token-expiry", at: "idle", ageInMs: 19 * MIN },
    ]);
  });

  it("re-arms the timer for the next idle connection", async () => {
    const first = await login();
    vi.advanceTimersByTime(5 * MIN);
    const second = await login();
    vi.advanceTimersByTime(25 * MIN);
    expect(h.closed).toEqual([first]);
    vi.advanceTimersByTime(5 * MIN - 1);
    expect(h.closed).toEqual([first]);
    vi.advanceTimersByTime(1);
    expect(h.closed).toEqual([first, second]);
  });

  it("re-arms the timer earlier for a connection that retires before the one it was armed for", async () => {
    const late = await login(); // retires at T0 + 30 min
    vi.advanceTimersByTime(MIN);
    h.tokens.invalidate(); // the next login gets a new, 10-minute token
    h.tokens.lifetimeInMs = 10 * MIN;
    const early = await login(); // token expires at T0 + 11 min, retires at T0 + 10 min
    expect(h.lifecycle.stampOf(early)?.retireAt).toBe(T0 + 10 * MIN);
    vi.advanceTimersByTime(9 * MIN);
    expect(h.closed).toEqual([early]);
    vi.advanceTimersByTime(20 * MIN);
    expect(h.closed).toEqual([early, late]);
  });

  it("closes on time a connection that retires beyond Node's longest timer delay", async () => {
    const h2 = lifecycleHarness({ maxAgeInMs: null });
    h2.tokens.lifetimeInMs = 30 * 24 * 60 * MIN; // retire at T0 + 30 days - 60 s
    const delays: number[] = [];
    const fakeSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((
      callback: () => void,
      delay?: number,
    ) => {
      delays.push(delay ?? 0);
      return fakeSetTimeout(callback, delay);
    }) as typeof setTimeout);
    let connection: FakeConnection;
    try {
      connection = await h2.lifecycle.login({ server: SERVER }, succeedingAttempt());
    } finally {
      spy.mockRestore();
    }
    // Node fires a longer delay after 1 ms (with a warning): the timer must wait in steps instead.
    expect(delays).toEqual([2_147_483_647]);
    const retireAt = T0 + 30 * 24 * 60 * MIN - 60_000;
    expect(h2.lifecycle.stampOf(connection)?.retireAt).toBe(retireAt);
    vi.advanceTimersByTime(2_147_483_647 + MIN); // the first timer fires, the connection is not due yet
    expect(h2.closed).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(retireAt - Date.now() - 1);
    expect(h2.closed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h2.closed).toEqual([connection]);
    h2.lifecycle.close();
  });

  it("forgets a destroyed connection: no timer, no stamp, no close later", async () => {
    const connection = await login();
    expect(vi.getTimerCount()).toBe(1);
    h.lifecycle.forget(connection);
    expect(vi.getTimerCount()).toBe(0);
    expect(h.lifecycle.stampOf(connection)).toBeUndefined();
    vi.advanceTimersByTime(2 * 60 * MIN);
    expect(h.closed).toEqual([]);
    expect(retired()).toEqual([]);
  });

  it("stops the timer on close()", async () => {
    await login();
    vi.advanceTimersByTime(MIN);
    await login();
    h.lifecycle.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2 * 60 * MIN);
    expect(h.closed).toEqual([]);
  });

  it("unrefs the idle timer, so an idle pool never keeps the process alive", async () => {
    vi.useRealTimers();
    const handles: ReturnType<typeof setTimeout>[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((
      ...args: Parameters<typeof setTimeout>
    ) => {
      const handle = realSetTimeout(...args);
      handles.push(handle);
      return handle;
    }) as typeof setTimeout);
    try {
      await login();
    } finally {
      spy.mockRestore();
    }
    expect(handles).toHaveLength(1);
    expect(handles[0]?.hasRef()).toBe(false);
    h.lifecycle.close();
  });
});

describe("error 37396 on a session", () => {
  it("retires the refused connection and every one born at or before it; later ones stay usable", async () => {
    const older = await login();
    vi.advanceTimersByTime(MIN);
    const refused = await login();
    const twin = await login(); // born in the same millisecond
    vi.advanceTimersByTime(MIN);
    const younger = await login();
    h.lifecycle.isUsable(refused);

    h.lifecycle.onServerMessage(refused, EXPIRED_ON_SESSION);
    expect(h.lifecycle.isSessionExpired(refused)).toBe(true);
    expect(h.lifecycle.isSessionExpired(older)).toBe(false);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "session-token-expired", at: "statement", ageInMs: MIN },
    ]);
    expect(h.closed).toEqual([]); // in use: closed when it comes back

    expect(h.lifecycle.isUsable(older)).toBe(false);
    expect(h.lifecycle.isUsable(twin)).toBe(false);
    expect(h.lifecycle.isUsable(younger)).toBe(true);
    expect(retired().slice(1)).toEqual([
      { type: "connection-retired", reason: "session-token-expired", at: "acquire", ageInMs: 2 * MIN },
      { type: "connection-retired", reason: "session-token-expired", at: "acquire", ageInMs: MIN },
    ]);

    h.lifecycle.onRelease(refused);
    expect(h.closed).toEqual([refused]);
    expect(retired()).toHaveLength(3); // the refused one was reported once
    h.lifecycle.onRelease(younger);
    expect(h.closed).toEqual([refused]);
  });

  it("also recognises 37396 as a driver error, and only once per connection", async () => {
    const connection = await login();
    const requestError = Object.assign(new Error(EXPIRED_ON_SESSION.message), { number: 37396 });
    h.lifecycle.onServerMessage(connection, requestError);
    h.lifecycle.onServerMessage(connection, EXPIRED_ON_SESSION);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(true);
    expect(retired()).toHaveLength(1);
  });

  it("ignores other server messages", async () => {
    const connection = await login();
    h.lifecycle.onServerMessage(connection, { number: 208, message: "Invalid object name 'users'." });
    h.lifecycle.onServerMessage(connection, { number: 18456, message: "Login failed for user 'x'." });
    h.lifecycle.onServerMessage(connection, undefined);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(false);
    expect(h.lifecycle.isUsable(connection)).toBe(true);
    expect(retired()).toEqual([]);
  });

  it("ends a session through the adapter's closeConnection", async () => {
    const connection = await login();
    h.lifecycle.endSession(connection);
    expect(h.closed).toEqual([connection]);
  });

  it("names a refusal that is not run again, under the adapter's name", () => {
    const cause = Object.assign(new Error(EXPIRED_ON_SESSION.message), { number: 37396 });
    const error = h.lifecycle.sessionTokenExpired("begin", cause);
    expect(isSessionTokenExpiredError(error)).toBe(true);
    expect(error).toMatchObject({ during: "begin", cause, number: 37396 });
    expect(error.message.startsWith(`${PACKAGE}: `)).toBe(true);
  });

  it("reports a statement run again, with the adapter's fields", () => {
    h.lifecycle.statementRetried({ method: "query" });
    h.lifecycle.statementRetried();
    expect(h.events).toEqual([
      { type: "statement-retried", reason: "session-token-expired", method: "query" },
      { type: "statement-retried", reason: "session-token-expired" },
    ]);
  });
});

/** A pool that hands out `queue` in order, then what `create` makes; counts and releases like tarn would. */
function scriptedPool(queue: FakeConnection[], maxTries: number, create?: () => Promise<FakeConnection>) {
  const pool = {
    acquired: 0,
    released: [] as FakeConnection[],
    maxTries,
    async acquire(): Promise<FakeConnection> {
      pool.acquired++;
      const next = queue.shift();
      if (next !== undefined) return next;
      if (create === undefined) throw new Error("pool exhausted");
      return await create();
    },
    async release(connection: FakeConnection): Promise<void> {
      pool.released.push(connection);
      h.lifecycle.onRelease(connection);
    },
  } satisfies RetryPool<FakeConnection> & Record<string, unknown>;
  return pool;
}

describe("acquireBornAfter", () => {
  it("retires and gives back connections born at or before `since`, and returns the first born after", async () => {
    const a = await login();
    vi.advanceTimersByTime(MIN);
    const b = await login();
    const since = Date.now();
    vi.advanceTimersByTime(1);
    const c = await login();
    const pool = scriptedPool([a, b, c], 5);

    expect(await h.lifecycle.acquireBornAfter(since, pool)).toBe(c);
    expect(pool.acquired).toBe(3);
    expect(pool.released).toEqual([a, b]);
    expect(h.closed).toEqual([a, b]);
    expect(retired()).toEqual([
      { type: "connection-retired", reason: "session-token-expired", at: "acquire", ageInMs: MIN + 1 },
      { type: "connection-retired", reason: "session-token-expired", at: "acquire", ageInMs: 1 },
    ]);
  });

  it("takes whatever comes at the last of maxTries", async () => {
    const a = await login();
    const b = await login();
    vi.advanceTimersByTime(MIN);
    const pool = scriptedPool([a, b], 2);
    expect(await h.lifecycle.acquireBornAfter(Date.now(), pool)).toBe(b);
    expect(pool.acquired).toBe(2);
    expect(pool.released).toEqual([a]);
  });

  it("returns a connection the lifecycle does not know at once", async () => {
    const stranger: FakeConnection = { serial: 99, closedBy: 0 };
    const pool = scriptedPool([stranger], 5);
    expect(await h.lifecycle.acquireBornAfter(Date.now(), pool)).toBe(stranger);
    expect(pool.released).toEqual([]);
  });
});

describe("retryOnFreshConnection", () => {
  /** A pool that logs a new connection in, 1 s later, when its queue is empty. */
  const freshPool = (queue: FakeConnection[]) =>
    scriptedPool(queue, 3, async () => {
      vi.setSystemTime(Date.now() + 1000);
      return await login();
    });

  it("gives back the refused connection, then runs once more on one born after the refusal", async () => {
    const older = await login();
    const refused = await login();
    h.lifecycle.isUsable(refused);
    vi.advanceTimersByTime(MIN);
    const pool = freshPool([older]);
    const ran: FakeConnection[] = [];

    const result = await h.lifecycle.retryOnFreshConnection(
      refused,
      pool,
      async (fresh) => {
        ran.push(fresh);
        return "rows";
      },
      { method: "query" },
    );

    expect(result).toBe("rows");
    expect(ran).toHaveLength(1);
    const [fresh] = ran;
    expect(fresh).not.toBe(older);
    expect(fresh).not.toBe(refused);
    expect(h.lifecycle.stampOf(fresh as FakeConnection)?.bornAt).toBe(T0 + MIN + 1000);
    expect(pool.released).toEqual([refused, older, fresh]);
    expect(h.closed).toEqual([refused, older]);
    expect(h.lifecycle.isSessionExpired(refused)).toBe(true);
    expect(h.events.filter((event) => event.type === "statement-retried")).toEqual([
      { type: "statement-retried", reason: "session-token-expired", method: "query" },
    ]);
  });

  it("names a second refusal (during: retry) and still gives the fresh connection back", async () => {
    const refused = await login();
    h.lifecycle.isUsable(refused);
    const pool = freshPool([]);
    const second = Object.assign(new Error(EXPIRED_ON_SESSION.message), { number: 37396 });
    const error = await h.lifecycle
      .retryOnFreshConnection(refused, pool, async () => {
        throw second;
      })
      .catch((caught: unknown) => caught);
    expect(isSessionTokenExpiredError(error)).toBe(true);
    expect(error).toMatchObject({ during: "retry", cause: second });
    expect(pool.released).toHaveLength(2);
    expect(pool.released[0]).toBe(refused);
  });

  it("passes any other error of the retry on unchanged", async () => {
    const refused = await login();
    const pool = freshPool([]);
    const other = new Error("Invalid object name 'users'.");
    await expect(
      h.lifecycle.retryOnFreshConnection(refused, pool, async () => {
        throw other;
      }),
    ).rejects.toBe(other);
    expect(pool.released).toHaveLength(2);
  });
});

describe("events", () => {
  it("carry no token (checked after every test; here across a whole life)", async () => {
    const connection = await login();
    h.lifecycle.isUsable(connection);
    h.lifecycle.onServerMessage(connection, EXPIRED_ON_SESSION);
    h.lifecycle.onRelease(connection);
    const types = h.events.map((event: ConnectionEvent) => event.type);
    expect(types).toEqual(["connection-opened", "connection-retired"]);
    expectNoTokenIn(h.events, h.tokens.issued);
  });
});
