import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventEmitter } from "./event-emitter.js";
import type { TokenSourceEvent } from "./events.js";
import { computeSchedule, createScopeCycler, type FetchToken } from "./scope-cycler.js";
import { FakeClockCredential, outage } from "./test-support/fake-clock-credential.js";

const MIN = 60_000;
const SCOPE = "https://database.windows.net/.default";
const DEFAULT_TIMING = {
  refreshWindowInMs: 45 * MIN,
  minimumValidityInMs: 10 * MIN,
  retryInitialDelayInMs: 1_000,
  retryMaxDelayInMs: 60_000,
};

describe("computeSchedule: the effective window rule", () => {
  const now = 1_000_000;
  // [lifetime, refreshAfter (from now), refresh from (after now), handed out until (after now)]
  const cases: [string, number, number | undefined, number, number][] = [
    ["60-minute token (public cloud user/SP)", 60 * MIN, undefined, 15 * MIN, 50 * MIN],
    [
      "24-hour managed identity token",
      24 * 60 * MIN,
      undefined,
      24 * 60 * MIN - 45 * MIN,
      24 * 60 * MIN - 10 * MIN,
    ],
    [
      "24-hour token with refresh-after at 12 h",
      24 * 60 * MIN,
      12 * 60 * MIN,
      12 * 60 * MIN,
      24 * 60 * MIN - 10 * MIN,
    ],
    ["5-minute token: 3/4 and 1/6 of the lifetime", 5 * MIN, undefined, 1.25 * MIN, 5 * MIN - 50_000],
    [
      "60-minute token, refresh-after later than the window start is ignored",
      60 * MIN,
      30 * MIN,
      15 * MIN,
      50 * MIN,
    ],
    ["refresh-after in the past is ignored", 60 * MIN, -1, 15 * MIN, 50 * MIN],
    ["already expired token: nothing to hand out", 0, undefined, 0, 0],
  ];
  it.each(cases)("%s", (_, lifetime, refreshAfter, refreshFrom, usableUntil) => {
    const schedule = computeSchedule(
      {
        expiresOnTimestamp: now + lifetime,
        ...(refreshAfter === undefined ? {} : { refreshAfterTimestamp: now + refreshAfter }),
      },
      now,
      DEFAULT_TIMING,
    );
    expect(schedule.refreshAtTimestamp - now).toBe(refreshFrom);
    expect(schedule.usableUntilTimestamp - now).toBe(usableUntil);
  });

  it("always starts refreshing before a token stops being handed out", () => {
    for (const lifetime of [1, 100, 10_000, 5 * MIN, 30 * MIN, 60 * MIN, 90 * MIN, 24 * 60 * MIN]) {
      for (const [window, validity] of [
        [45 * MIN, 10 * MIN],
        [2 * MIN, 1_000],
        [1, 0],
      ] as const) {
        const s = computeSchedule({ expiresOnTimestamp: lifetime }, 0, {
          refreshWindowInMs: window,
          minimumValidityInMs: validity,
        });
        expect(s.refreshAtTimestamp).toBeLessThan(s.usableUntilTimestamp);
      }
    }
  });
});

describe("createScopeCycler", () => {
  let credential: FakeClockCredential;
  let log: TokenSourceEvent[];

  function cycler(timing = DEFAULT_TIMING, fetchToken?: FetchToken) {
    const emitter = createEventEmitter<TokenSourceEvent>();
    emitter.on("*", (event) => log.push(event));
    return createScopeCycler({
      scope: SCOPE,
      timing,
      events: emitter,
      random: () => 0,
      fetchToken:
        fetchToken ??
        (async (scope, { abortSignal }) => ({
          token: await credential.getToken(scope, { abortSignal }),
          source: "FakeClockCredential",
        })),
    });
  }

  beforeEach(() => {
    vi.useFakeTimers();
    credential = new FakeClockCredential({ latencyInMs: 100 });
    log = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("retries a failing background refresh with doubling delays, never later than the token stays usable", async () => {
    const c = cycler();
    const first = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    const old = await first;
    credential.failAlways(outage());
    vi.setSystemTime(old.refreshAtTimestamp);
    await expect(c.getToken()).resolves.toBe(old); // starts the background refresh, serves the old token
    await vi.advanceTimersByTimeAsync(100); // ... which fails after its 100 ms latency
    const retryDelays = (): number[] =>
      log.flatMap((e) => (e.type === "refresh-failed" ? [e.retryInMs] : []));
    while (retryDelays().length < 8) {
      await vi.advanceTimersByTimeAsync((retryDelays().at(-1) ?? 0) + 100); // wait for the retry, then its latency
      await expect(c.getToken()).resolves.toBe(old); // callers are served all along, and start nothing
    }
    expect(retryDelays()).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(credential.callCount).toBe(1 + 8);

    // Keep failing until the token leaves its usable range: the last retry is clamped to that moment,
    // runs as an "expired" fetch, fails as acquire-failed, and no retry follows (callers take over).
    await vi.advanceTimersByTimeAsync(old.usableUntilTimestamp - Date.now() + 1_000);
    const lastRetry = retryDelays().at(-1) ?? 0;
    expect(lastRetry).toBeLessThan(60_000);
    expect(log.at(-1)?.type).toBe("acquire-failed");
    expect(vi.getTimerCount()).toBe(0);
    const calls = credential.callCount;
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(credential.callCount).toBe(calls);
  });

  it("reports the refresh trigger: refresh-after versus refresh window", async () => {
    credential.refreshAfterInMs = 5 * MIN;
    credential.latencyInMs = 0;
    const c = cycler();
    const t = await c.getToken();
    credential.refreshAfterInMs = undefined; // the refreshed token carries no hint
    vi.setSystemTime(t.refreshAtTimestamp);
    await c.getToken();
    await vi.advanceTimersByTimeAsync(0);
    const t2 = await c.getToken();
    expect(t2.refreshAfterTimestamp).toBeUndefined();
    vi.setSystemTime(t2.refreshAtTimestamp);
    await c.getToken();
    const triggers = log.filter((e) => e.type === "refresh-started").map((e) => e.trigger);
    expect(triggers).toEqual(["refresh-after", "refresh-window"]);
  });

  it("treats a credential answer without a usable token as a failure and caches nothing", async () => {
    let answer: unknown = null;
    const c = cycler(DEFAULT_TIMING, async () => ({ token: answer as never, source: "Weird" }));
    await expect(c.getToken()).rejects.toThrow(/Weird returned no token/);
    answer = { token: "eyJ.a.b", expiresOnTimestamp: Number.NaN };
    await expect(c.getToken()).rejects.toThrow(/without a valid expiresOnTimestamp/);
    expect(c.summary().expiresOn).toBeUndefined();
  });

  it("turns a synchronous throw of the fetch into a rejection, and is not poisoned by it", async () => {
    let calls = 0;
    const c = cycler(DEFAULT_TIMING, (scope) => {
      calls += 1;
      if (calls === 1) throw new Error("sync boom");
      return credential.getToken(scope).then((token) => ({ token, source: "S" }));
    });
    await expect(c.getToken()).rejects.toThrow("sync boom");
    const next = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    await expect(next).resolves.toMatchObject({ source: "S" });
  });

  it("lets one caller stop waiting without cancelling the shared fetch", async () => {
    const c = cycler();
    const controller = new AbortController();
    const impatient = c.getToken(controller.signal);
    const patient = c.getToken();
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ name: "AbortError" });
    await vi.advanceTimersByTimeAsync(100);
    await expect(patient).resolves.toMatchObject({ source: "FakeClockCredential" });
    expect(credential.callCount).toBe(1);
    const already = new AbortController();
    already.abort();
    c.invalidate();
    await expect(c.getToken(already.signal)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("builds no event object when nobody listens, and each one once when someone does", async () => {
    const emitter = createEventEmitter<TokenSourceEvent>();
    let emits = 0;
    let factoryCalls = 0;
    const c = createScopeCycler({
      scope: SCOPE,
      timing: DEFAULT_TIMING,
      events: {
        emit: ((type, build) => {
          emits += 1;
          emitter.emit(type, () => {
            factoryCalls += 1;
            return build();
          });
        }) as typeof emitter.emit,
      },
      fetchToken: async (scope) => ({ token: await credential.getToken(scope), source: "S" }),
    });
    credential.failNext(outage());
    const failing = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    await expect(failing).rejects.toThrow();
    const first = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    await first;
    c.invalidate();
    expect(emits).toBe(3); // acquire-failed, token-acquired, token-invalidated
    expect(factoryCalls).toBe(0);

    emitter.on("token-invalidated", () => {});
    c.invalidate();
    expect(factoryCalls).toBe(1);
  });

  it("detaches a refresh that a refresh-started listener invalidates at once", async () => {
    credential.latencyInMs = 0;
    const emitter = createEventEmitter<TokenSourceEvent>();
    const c = createScopeCycler({
      scope: SCOPE,
      timing: DEFAULT_TIMING,
      events: emitter,
      fetchToken: async (scope) => ({ token: await credential.getToken(scope), source: "S" }),
    });
    const old = await c.getToken();
    emitter.on("refresh-started", () => c.invalidate());
    vi.setSystemTime(old.refreshAtTimestamp);
    credential.hold();
    const served = c.getToken(); // starts the refresh; the listener invalidates it
    const waiting = c.getToken(); // no usable token now: must start its own fetch
    await vi.advanceTimersByTimeAsync(0);
    expect(credential.callCount).toBe(3);
    credential.release();
    await vi.advanceTimersByTimeAsync(0);
    await expect(served).resolves.toBe(old);
    const fresh = await waiting;
    expect(fresh.accessToken.token).toBe(credential.issued.at(-1));
    await expect(c.getToken()).resolves.toBe(fresh);
  });

  it("closes: aborts the fetch in flight, clears timers, rejects later calls, drops the token", async () => {
    const c = cycler();
    const first = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    const token = await first;
    credential.failAlways(outage());
    vi.setSystemTime(token.refreshAtTimestamp);
    await c.getToken();
    await vi.advanceTimersByTimeAsync(100); // failed; a retry is scheduled
    expect(c.summary().retryScheduled).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    c.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(c.summary()).toMatchObject({ expiresOn: undefined, fetching: false, retryScheduled: false });
    await expect(c.getToken()).rejects.toThrow(/closed/);
  });

  it("unrefs its retry timer so it never keeps the process alive", async () => {
    const c = cycler();
    const first = c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    const token = await first;
    credential.failAlways(outage());
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    vi.setSystemTime(token.refreshAtTimestamp);
    await c.getToken();
    await vi.advanceTimersByTimeAsync(100);
    const timers = setTimeoutSpy.mock.results.map((r) => r.value as NodeJS.Timeout);
    const retryTimer = timers.find((t) => typeof t === "object" && !t.hasRef());
    expect(retryTimer).toBeDefined();
    setTimeoutSpy.mockRestore();
    c.close();
  });
});
