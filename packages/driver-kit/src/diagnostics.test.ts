import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createTokenSource, TOKEN_SOURCE_CHANNEL } from "@entra-sql/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConnectionEvent } from "./connection-events.js";
import { ConnectionLifecycle } from "./connection-lifecycle.js";
import { resolveConnectionOptions } from "./connection-options.js";
import {
  CONNECTION_CHANNEL,
  type ConnectionDiagnostic,
  connectionEmitter,
  describeConnectionDiagnostic,
  logDiagnostics,
} from "./diagnostics.js";
import { expectNoTokenIn } from "./test-support/fake-jwt.js";
import { FakeTokenSource } from "./test-support/fake-token-source.js";
import {
  type FakeConnection,
  lifecycleHarness,
  PACKAGE,
  SERVER,
  succeedingAttempt,
} from "./test-support/lifecycle-harness.js";

// CONNECTION_CHANNEL: every event the lifecycle emits reaches `onEvent` unchanged and the channel with
// the adapter's package name added; nothing is built when neither listens. Fake clock.

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const published: unknown[] = [];
const onMessage = (message: unknown) => published.push(message);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  published.length = 0;
});

afterEach(() => {
  unsubscribe(CONNECTION_CHANNEL, onMessage);
  vi.useRealTimers();
});

describe("ConnectionLifecycle on CONNECTION_CHANNEL", () => {
  it("publishes each event with the adapter's name; onEvent gets exactly what it got before", async () => {
    subscribe(CONNECTION_CHANNEL, onMessage);
    const h = lifecycleHarness<FakeConnection>({ maxAgeInMs: 30 * MIN });
    const connection = await h.lifecycle.login({ server: SERVER, database: "app" }, succeedingAttempt());
    h.lifecycle.isUsable(connection);
    vi.advanceTimersByTime(31 * MIN);
    h.lifecycle.onRelease(connection);
    h.lifecycle.close();

    expect(h.events.map((event) => event.type)).toEqual(["connection-opened", "connection-retired"]);
    expect(h.events.every((event) => !("adapter" in event))).toBe(true);
    expect(published).toEqual(h.events.map((event) => ({ ...event, adapter: PACKAGE })));
    published.forEach((message, i) => {
      expect(message).not.toBe(h.events[i]); // a new object
    });
    expect(published[0]).toMatchObject({ tokenExpiresOnTimestamp: T0 + 60 * MIN, retireAt: T0 + 30 * MIN });
    expect(published[1]).toMatchObject({ reason: "max-age", at: "release", ageInMs: 31 * MIN });
    expectNoTokenIn(published, h.tokens.issued);
  });

  it("publishes to a channel subscriber when the adapter has no onEvent", async () => {
    subscribe(CONNECTION_CHANNEL, onMessage);
    const lifecycle = new ConnectionLifecycle<FakeConnection>({
      options: resolveConnectionOptions({ tokenSource: new FakeTokenSource() }, "@entra-sql/knex"),
      closeConnection: () => {},
    });
    await lifecycle.login({ server: SERVER, database: "app" }, succeedingAttempt());
    lifecycle.close();
    expect(published).toEqual([
      expect.objectContaining({ type: "connection-opened", adapter: "@entra-sql/knex" }),
    ]);
  });
});

describe("connectionEmitter", () => {
  const build = vi.fn((): ConnectionEvent => ({ type: "login-retried", verdict: "expired", scope: "s" }));
  beforeEach(() => build.mockClear());

  it("builds nothing when neither a listener nor a subscriber listens", () => {
    connectionEmitter(undefined, PACKAGE)(build);
    expect(build).not.toHaveBeenCalled();
    subscribe(CONNECTION_CHANNEL, onMessage);
    connectionEmitter(undefined, PACKAGE)(build);
    expect(build).toHaveBeenCalledTimes(1);
    unsubscribe(CONNECTION_CHANNEL, onMessage);
    connectionEmitter(undefined, PACKAGE)(build);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it("delivers once to the listener and the channel, even when both throw", () => {
    const buggy = () => {
      throw new Error("buggy subscriber");
    };
    // Node's Channel.publish rethrows a subscriber's error on the next tick (Node 20 and later): the
    // emitting code never sees it. Stub nextTick to catch the rethrow here instead of the test runner.
    const ticks: Array<() => void> = [];
    const nextTick = vi.spyOn(process, "nextTick").mockImplementation((callback) => {
      ticks.push(callback as () => void);
    });
    subscribe(CONNECTION_CHANNEL, buggy);
    subscribe(CONNECTION_CHANNEL, onMessage);
    const seen: ConnectionEvent[] = [];
    try {
      const emit = connectionEmitter((event) => {
        seen.push(event);
        throw new Error("buggy listener");
      }, PACKAGE);
      expect(() => emit(build)).not.toThrow();
    } finally {
      unsubscribe(CONNECTION_CHANNEL, buggy);
      nextTick.mockRestore();
    }
    expect(build).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([{ type: "login-retried", verdict: "expired", scope: "s" }]);
    expect(published).toEqual([{ type: "login-retried", verdict: "expired", scope: "s", adapter: PACKAGE }]);
    expect(ticks).toHaveLength(1); // the subscriber's error, reported by Node rather than thrown at us
  });
});

describe("describeConnectionDiagnostic and logDiagnostics", () => {
  const adapter = "@entra-sql/knex";
  const cases: [ConnectionDiagnostic, string][] = [
    [
      {
        type: "connection-opened",
        adapter,
        tokenMode: "inline",
        scope: "https://database.windows.net/.default",
        tokenExpiresOnTimestamp: T0 + 60 * MIN,
        retireAt: T0 + 30 * MIN,
        durationInMs: 35,
        attempt: 1,
      },
      "@entra-sql/knex connection opened in 35 ms (inline), token expires 2026-01-01T13:00:00.000Z, retires by 2026-01-01T12:30:00.000Z",
    ],
    [
      { type: "connection-retired", adapter, reason: "max-age", at: "acquire", ageInMs: 30_100 },
      "@entra-sql/knex connection retired (max-age, on acquire) at age 30.1 s",
    ],
    [
      { type: "login-retried", adapter, verdict: "expired", scope: undefined },
      "@entra-sql/knex login refused (token expired); retrying with a fresh token",
    ],
    [
      { type: "statement-retried", adapter, reason: "session-token-expired" },
      "@entra-sql/knex statement refused (session-token-expired); retried on a fresh connection",
    ],
  ];

  it.each(cases)("describes %o", (event, line) => {
    expect(describeConnectionDiagnostic(event)).toBe(line);
  });

  it("writes one prefixed line per event of both channels until stopped", async () => {
    const lines: string[] = [];
    const stop = logDiagnostics((line) => lines.push(line));
    const h = lifecycleHarness<FakeConnection>();
    const tokens = createTokenSource({
      credential: {
        getToken: async () => ({ token: "not-a-real-token", expiresOnTimestamp: T0 + 60 * MIN }),
      },
    });
    await tokens.getAccessToken();
    await h.lifecycle.login({ server: SERVER, database: "app" }, succeedingAttempt());
    stop();
    await h.lifecycle.login({ server: SERVER, database: "app" }, succeedingAttempt());
    tokens.close();
    h.lifecycle.close();
    expect(lines).toEqual([
      "[entra-sql] fetching a token for https://database.windows.net/.default (cold)",
      "[entra-sql] using credential source custom[0]",
      expect.stringMatching(
        /^\[entra-sql\] got a token for .* in 0 ms; it expires at 2026-01-01T13:00:00.000Z$/,
      ),
      expect.stringMatching(
        /^\[entra-sql\] @entra-sql\/test-adapter connection opened in 0 ms \(inline\), token expires/,
      ),
    ]);
    expect(TOKEN_SOURCE_CHANNEL).toBe("entra-sql:token-source");
    expect(CONNECTION_CHANNEL).toBe("entra-sql:connection");
  });
});
