import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventEmitter } from "./event-emitter.js";
import type { TokenSourceEvent } from "./events.js";
import { computeSchedule, createScopeCycler, type FetchToken } from "./scope-cycler.js";
import { FakeClockCredential, fakeJwt, outage } from "./test-support/fake-clock-credential.js";

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
    // acquire-started, acquire-failed, acquire-started, token-acquired, token-invalidated
    expect(emits).toBe(5);
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

// invalidate(token): the next token handed out comes from a fetch that started after the
// invalidation, unless an earlier invalidation already covered the refused token.
describe("createScopeCycler invalidate(token)", () => {
  let credential: FakeClockCredential;
  let log: TokenSourceEvent[];
  let fetchOptions: Parameters<FetchToken>[1][];

  function cycler() {
    const emitter = createEventEmitter<TokenSourceEvent>();
    emitter.on("*", (event) => log.push(event));
    return createScopeCycler({
      scope: SCOPE,
      timing: DEFAULT_TIMING,
      events: emitter,
      random: () => 0,
      fetchToken: async (scope, options) => {
        fetchOptions.push(options);
        return { token: await credential.getToken(scope, options), source: "FakeClockCredential" };
      },
    });
  }
  const invalidations = () => log.filter((e) => e.type === "token-invalidated").length;

  /** T1 cached and handed to a login; its refresh point passes; the login's getToken starts a refresh. */
  async function loginWithT1InRefreshWindow(c: ReturnType<typeof cycler>): Promise<string> {
    const t1 = await c.getToken();
    vi.setSystemTime(t1.refreshAtTimestamp);
    const used = await c.getToken(); // the new connection logs in with T1; the refresh starts
    expect(used).toBe(t1);
    return t1.accessToken.token;
  }

  beforeEach(() => {
    vi.useFakeTimers();
    credential = new FakeClockCredential();
    log = [];
    fetchOptions = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refused T1 while the background refresh already cached T2: the next token is T3 from a new fetch", async () => {
    const c = cycler();
    const t1 = await loginWithT1InRefreshWindow(c);
    await vi.advanceTimersByTimeAsync(0); // the refresh caches T2 before the server answers
    const t2 = (await c.getToken()).accessToken.token;
    expect(t2).toBe(credential.issued[1]);
    expect(credential.callCount).toBe(2);

    c.invalidate(t1); // the server refused T1
    const next = (await c.getToken()).accessToken.token;
    expect(credential.callCount).toBe(3);
    expect(next).toBe(credential.issued[2]);
    expect([t1, t2]).not.toContain(next);
    expect(invalidations()).toBe(1);
    expect(log.filter((e) => e.type === "token-acquired").map((e) => e.reason)).toEqual([
      "cold",
      "refresh",
      "invalidated",
    ]);
  });

  it("refused T1 while the background refresh is still in flight: that fetch's token is not handed out", async () => {
    const c = cycler();
    credential.hold();
    const first = c.getToken();
    await vi.advanceTimersByTimeAsync(0);
    credential.release();
    const t1 = (await first).accessToken.token;
    vi.setSystemTime((await first).refreshAtTimestamp);
    credential.hold();
    await c.getToken(); // refresh (call 2) held
    await vi.advanceTimersByTimeAsync(0);
    expect(credential.heldCount).toBe(1);

    c.invalidate(t1);
    const next = c.getToken();
    await vi.advanceTimersByTimeAsync(0);
    expect(credential.callCount).toBe(3); // a new fetch, not the refresh in flight
    credential.release();
    const token = (await next).accessToken.token;
    expect(token).toBe(fakeJwtOfCall(3));
    expect((await c.getToken()).accessToken.token).toBe(token); // the detached refresh filled nothing
    expect(credential.callCount).toBe(3);
  });

  it("ten logins refused with the same T1 at once cause exactly one new fetch", async () => {
    const c = cycler();
    const t1 = await loginWithT1InRefreshWindow(c);
    await vi.advanceTimersByTimeAsync(0); // T2 cached
    credential.hold();
    const retries: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i += 1) {
      c.invalidate(t1);
      retries.push(c.getToken());
    }
    await vi.advanceTimersByTimeAsync(0);
    credential.release();
    const tokens = new Set(
      (await Promise.all(retries)).map((t) => (t as { accessToken: { token: string } }).accessToken.token),
    );
    expect(credential.callCount).toBe(3);
    expect([...tokens]).toEqual([credential.issued[2]]);
    expect(invalidations()).toBe(1);
    // Refusals of T1 reported later still change nothing: the invalidation covered it.
    c.invalidate(t1);
    expect(invalidations()).toBe(1);
  });

  it("refused T3, fetched after the last invalidation: dropped again, another fetch", async () => {
    const c = cycler();
    const t1 = await loginWithT1InRefreshWindow(c);
    await vi.advanceTimersByTimeAsync(0);
    c.invalidate(t1);
    const t3 = (await c.getToken()).accessToken.token;
    c.invalidate(t3);
    const t4 = (await c.getToken()).accessToken.token;
    expect(t4).not.toBe(t3);
    expect(credential.callCount).toBe(4);
    expect(invalidations()).toBe(2);
  });

  it("ignores a token it never issued", async () => {
    const c = cycler();
    const t1 = (await c.getToken()).accessToken.token;
    c.invalidate("eyJhbGciOiJub25lIn0.eyJub3QiOiJvdXJzIn0.c2ln");
    expect(invalidations()).toBe(0);
    expect((await c.getToken()).accessToken.token).toBe(t1);
    expect(credential.callCount).toBe(1);
  });

  it("tells the fetch after an invalidation which tokens were dropped, so a credential's own cache is not trusted", async () => {
    const c = cycler();
    const t1 = await loginWithT1InRefreshWindow(c);
    await vi.advanceTimersByTimeAsync(0);
    const t2 = credential.issued[1] ?? "";
    expect(fetchOptions[1]?.isDropped).toBeUndefined(); // nothing dropped yet
    c.invalidate(t1);
    const t3 = (await c.getToken()).accessToken.token;
    const isDropped = fetchOptions[2]?.isDropped;
    expect([t1, t2, t3].map((token) => isDropped?.(token))).toEqual([true, true, false]);
  });
});

/** The token FakeClockCredential issues on its `call`-th call for SCOPE. */
function fakeJwtOfCall(call: number): string {
  return fakeJwt(call, SCOPE);
}
