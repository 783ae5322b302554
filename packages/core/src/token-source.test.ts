import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  isInvalidOptionError,
  isScopeNotAllowedError,
  isTokenAcquisitionError,
  type TokenAcquisitionError,
} from "./errors.js";
import { type LogEntry, TOKEN_SOURCE_CHANNEL, type TokenSourceEvent } from "./events.js";
import { FakeClockCredential, fakeJwt, outage } from "./test-support/fake-clock-credential.js";
import { createTokenSource, type TokenSource } from "./token-source.js";
import type { TokenSourceOptions } from "./token-source-options.js";

// Through the real credential chain (a TokenCredential becomes its single source) and the real scope
// guard, with a counting fake credential and fake timers. The event emitter is wrapped only to count
// how many event objects get built.
const counters = vi.hoisted(() => ({ emits: 0, builds: 0 }));
vi.mock("./event-emitter.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./event-emitter.js")>();
  return {
    ...actual,
    createEventEmitter: (...args: Parameters<typeof actual.createEventEmitter>) => {
      const emitter = actual.createEventEmitter<TokenSourceEvent>(...args);
      const emit = emitter.emit;
      emitter.emit = (type, build) => {
        counters.emits += 1;
        emit(type, () => {
          counters.builds += 1;
          return build();
        });
      };
      return emitter;
    },
  };
});

const MIN = 60_000;
const SQL = "https://database.windows.net/.default";
const GOV = "https://database.usgovcloudapi.net/.default";
const realSetImmediate = setImmediate;
const settleForReal = () => new Promise<void>((resolve) => realSetImmediate(resolve));

let credential: FakeClockCredential;
let events: TokenSourceEvent[];
let unhandled: unknown[];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const sources: TokenSource[] = [];

function tokenSource(options: TokenSourceOptions = {}): TokenSource {
  const source = createTokenSource({ credential, onEvent: (event) => events.push(event), ...options });
  sources.push(source);
  return source;
}
const firstCallAt = (): number => credential.calls[0]?.atTimestamp ?? Number.NaN;
const ofType = <T extends TokenSourceEvent["type"]>(type: T) =>
  events.filter((event): event is Extract<TokenSourceEvent, { type: T }> => event.type === type);

beforeEach(() => {
  vi.useFakeTimers();
  credential = new FakeClockCredential({ latencyInMs: 200 });
  events = [];
  unhandled = [];
  counters.emits = 0;
  counters.builds = 0;
  process.on("unhandledRejection", onUnhandled);
});

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  vi.useRealTimers();
  await settleForReal();
  await settleForReal();
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

describe("single flight and cache", () => {
  it("200 concurrent callers on a cold cache cause exactly one fetch and all get its token", async () => {
    const tokens = tokenSource();
    const callers = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? tokens.getToken(SQL) : tokens.getAccessToken(),
    );
    await vi.advanceTimersByTimeAsync(200);
    const results = await Promise.all(callers);
    expect(credential.callCount).toBe(1);
    const issued = credential.issued[0];
    for (const result of results) expect(typeof result === "string" ? result : result.token).toBe(issued);
    expect(ofType("token-acquired")).toEqual([
      expect.objectContaining({
        reason: "cold",
        scope: SQL,
        source: "FakeClockCredential",
        durationInMs: 200,
      }),
    ]);
    // Cache hits afterwards: no fetch, no wait.
    await expect(tokens.getAccessToken()).resolves.toBe(issued);
    expect(credential.callCount).toBe(1);
  });

  it("shares one cache entry between spellings of the same audience", async () => {
    const tokens = tokenSource();
    const a = tokens.getToken([SQL]);
    const b = tokens.getToken("https://database.windows.net//.default");
    const c = tokens.getToken("HTTPS://DATABASE.windows.net/.default");
    await vi.advanceTimersByTimeAsync(200);
    expect(new Set((await Promise.all([a, b, c])).map((t) => t.token)).size).toBe(1);
    expect(credential.callCount).toBe(1);
    expect(credential.calls[0]?.scopes).toBe(SQL);
  });

  it("keeps separate entries per scope", async () => {
    const tokens = tokenSource();
    const both = Promise.all([tokens.getAccessToken(SQL), tokens.getAccessToken(GOV)]);
    await vi.advanceTimersByTimeAsync(200);
    const [sql, gov] = await both;
    expect(sql).not.toBe(gov);
    expect(credential.calls.map((call) => call.scopes)).toEqual([SQL, GOV]);
  });

  it("delivers a freshly fetched token to its waiters even when it is short-lived or already expired", async () => {
    credential.lifetimeInMs = 0;
    const tokens = tokenSource();
    const first = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await expect(first).resolves.toBe(credential.issued[0]);
    // It is not handed out from the cache, though: the next caller waits for a new one.
    credential.lifetimeInMs = 90_000;
    const second = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await expect(second).resolves.toBe(credential.issued[1]);
    expect(ofType("token-acquired").map((e) => e.reason)).toEqual(["cold", "expired"]);
  });
});

describe("refresh ahead of expiry", () => {
  it("refreshes in the background once expiry is within the window; callers get the old token meanwhile", async () => {
    const tokens = tokenSource(); // 60-minute tokens: refresh from minute 15, handed out until minute 50
    const first = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    const old = await first;

    await vi.advanceTimersByTimeAsync(15 * MIN - 1_000);
    await expect(tokens.getAccessToken()).resolves.toBe(old);
    expect(credential.callCount).toBe(1); // not yet in the window

    await vi.advanceTimersByTimeAsync(1_000);
    credential.hold();
    await expect(tokens.getAccessToken()).resolves.toBe(old); // starts the refresh, does not wait
    expect(credential.callCount).toBe(2);
    expect(ofType("refresh-started")).toEqual([
      { type: "refresh-started", scope: SQL, trigger: "refresh-window" },
    ]);
    for (let i = 0; i < 50; i += 1) await expect(tokens.getAccessToken()).resolves.toBe(old);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(credential.callCount).toBe(2); // one refresh in flight, however many callers

    credential.release();
    await vi.advanceTimersByTimeAsync(0);
    const fresh = credential.issued[1];
    expect(fresh).toBeDefined();
    await expect(tokens.getAccessToken()).resolves.toBe(fresh);
    expect(ofType("token-acquired").map((e) => e.reason)).toEqual(["cold", "refresh"]);
    expect(Date.now()).toBeLessThan(firstCallAt() + 60 * MIN);
  });

  it("honours refreshAfterTimestamp when it comes before the window", async () => {
    credential = new FakeClockCredential({ lifetimeInMs: 24 * 60 * MIN, refreshAfterInMs: 12 * 60 * MIN });
    const tokens = tokenSource();
    const old = await tokens.getAccessToken();
    vi.setSystemTime(Date.now() + 12 * 60 * MIN - 1);
    await tokens.getAccessToken();
    expect(credential.callCount).toBe(1);
    vi.setSystemTime(Date.now() + 1);
    await expect(tokens.getAccessToken()).resolves.toBe(old);
    expect(credential.callCount).toBe(2);
    expect(ofType("refresh-started").map((e) => e.trigger)).toEqual(["refresh-after"]);
    await vi.advanceTimersByTimeAsync(0);
    await expect(tokens.getAccessToken()).resolves.toBe(credential.issued[1]);
  });

  it("makes callers wait for a new token once the old one is no longer handed out (reason expired)", async () => {
    const tokens = tokenSource();
    const first = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await first;
    vi.setSystemTime(Date.now() + 50 * MIN); // nobody asked during the refresh window
    const waiting = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await expect(waiting).resolves.toBe(credential.issued[1]);
    expect(ofType("token-acquired").map((e) => e.reason)).toEqual(["cold", "expired"]);
  });
});

describe("failures", () => {
  it("rejects every waiter of a failed fetch, leaves nothing poisoned, and recovers", async () => {
    credential.failNext(outage());
    const tokens = tokenSource();
    const waiters = Array.from({ length: 10 }, () => tokens.getToken(SQL));
    const settled = Promise.allSettled(waiters);
    await vi.advanceTimersByTimeAsync(200);
    const results = await settled;
    expect(results.every((r) => r.status === "rejected" && isTokenAcquisitionError(r.reason))).toBe(true);
    expect(credential.callCount).toBe(1);
    expect(ofType("acquire-failed")).toEqual([
      expect.objectContaining({
        scope: SQL,
        durationInMs: 200,
        error: expect.objectContaining({ name: "TokenAcquisitionError" }),
      }),
    ]);

    const next = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await expect(next).resolves.toBe(credential.issued[0]);
    expect(credential.callCount).toBe(2);
  });

  it("never resolves null: a credential answering null rejects", async () => {
    const nothing = { getToken: async () => null };
    const tokens = createTokenSource({ credential: nothing });
    sources.push(tokens);
    await expect(tokens.getToken(SQL)).rejects.toSatisfy(isTokenAcquisitionError);
  });

  it("retries a failed background refresh with backoff, reports it, serves the old token, no unhandled rejection", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const tokens = tokenSource({ retryInitialDelayInMs: 1_000, retryMaxDelayInMs: 4_000 });
    const first = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    const old = await first;

    credential.failAlways(outage("the identity endpoint answered 503"));
    vi.setSystemTime(Date.now() + 15 * MIN);
    await expect(tokens.getAccessToken()).resolves.toBe(old);
    await vi.advanceTimersByTimeAsync(200); // refresh fails
    for (let i = 0; i < 4; i += 1) {
      const lastRetryInMs = ofType("refresh-failed").at(-1)?.retryInMs ?? 0;
      await vi.advanceTimersByTimeAsync(lastRetryInMs + 200);
      await expect(tokens.getAccessToken()).resolves.toBe(old);
    }
    const failed = ofType("refresh-failed");
    expect(failed.map((e) => e.retryInMs)).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(failed[0]).toMatchObject({
      scope: SQL,
      currentExpiresOnTimestamp: firstCallAt() + 200 + 60 * MIN,
      error: { name: "TokenAcquisitionError", message: expect.stringContaining("503") },
    });
    expect(ofType("acquire-failed")).toEqual([]);

    credential.recover();
    await vi.advanceTimersByTimeAsync(4_000 + 200);
    const fresh = credential.issued[1];
    await expect(tokens.getAccessToken()).resolves.toBe(fresh);
    expect(ofType("token-acquired").map((e) => e.reason)).toEqual(["cold", "refresh"]);
    expect(vi.getTimerCount()).toBe(0); // no retry left behind
    await settleForReal();
    expect(unhandled).toEqual([]);
  });

  it("reports an identity provider outage as one, with the cached token's expiry, never as a refused credential", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const expiresOn = (await tokens.getTokenDetails()).expiresOnTimestamp;
    credential.failAlways(outage());
    vi.setSystemTime(expiresOn - 5 * MIN); // no longer handed out: callers wait for a new token
    const error = await tokens.getAccessToken().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toSatisfy(isTokenAcquisitionError);
    const { message, failures, cachedTokenExpiresOnTimestamp } = error as TokenAcquisitionError;
    expect(failures.map((f) => [f.source, f.kind])).toEqual([["FakeClockCredential", "transient"]]);
    expect(cachedTokenExpiresOnTimestamp).toBe(expiresOn);
    expect(message).toContain("the identity provider is unreachable or failing right now");
    expect(message).toContain(
      `The last token for this scope is valid until ${new Date(expiresOn).toISOString()}.`,
    );
    expect(message).toContain("The next request for a token tries again.");
    expect(message).toContain("(HTTP 503)");
    expect(message).not.toContain("(authentication)");
    expect(inspect(error, { depth: 5 })).not.toMatch(/fix: undefined/);
    expect(ofType("source-failed")).toMatchObject([{ kind: "transient" }]);
    // Not an authentication failure: the source stays in the chain, and the next request tries again.
    credential.recover();
    await expect(tokens.getAccessToken()).resolves.toBe(credential.issued[1]);
  });

  it("leaves out a fix it does not know instead of printing undefined", async () => {
    const odd = { getToken: async () => Promise.reject(new Error("something odd")) };
    const tokens = createTokenSource({ credential: odd });
    sources.push(tokens);
    const error = await tokens.getToken(SQL).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as TokenAcquisitionError).failures).toEqual([
      { source: "custom[0]", kind: "authentication", message: "something odd" },
    ]);
    expect(inspect(error, { depth: 5 })).not.toContain("undefined");
  });
});

describe("invalidate", () => {
  it("drops the cached token so the next caller fetches (reason invalidated)", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const rejected = await tokens.getAccessToken();
    tokens.invalidate(SQL);
    expect(ofType("token-invalidated")).toEqual([{ type: "token-invalidated", scope: SQL }]);
    const fresh = await tokens.getAccessToken();
    expect(fresh).not.toBe(rejected);
    expect(credential.callCount).toBe(2);
    expect(ofType("token-acquired").map((e) => e.reason)).toEqual(["cold", "invalidated"]);
  });

  it("with the rejected token, drops the cache only while it holds that token: one refresh for many refusals", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const rejected = await tokens.getAccessToken();
    // Three logins refused with the same token report it; only the first one changes anything.
    tokens.invalidate(SQL, { token: rejected });
    tokens.invalidate(SQL, { token: rejected }); // a fetch is not even in flight yet
    const fresh = await tokens.getAccessToken();
    tokens.invalidate(SQL, { token: rejected }); // the cache holds the fresh token now
    expect(await tokens.getAccessToken()).toBe(fresh);
    expect(fresh).not.toBe(rejected);
    expect(credential.callCount).toBe(2);
    expect(ofType("token-invalidated")).toHaveLength(1);
    // The current token, given explicitly, is dropped like a plain invalidate().
    tokens.invalidate(SQL, { token: fresh });
    expect(await tokens.getAccessToken()).not.toBe(fresh);
    expect(credential.callCount).toBe(3);
  });

  it("with the rejected token, never retries with a token a background refresh fetched before the refusal", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const t1 = await tokens.getAccessToken();
    vi.setSystemTime(Date.now() + 20 * MIN); // inside the refresh window
    expect(await tokens.getAccessToken()).toBe(t1); // a new login uses T1 and starts the refresh
    await vi.advanceTimersByTimeAsync(0);
    const t2 = await tokens.getAccessToken(); // the refresh cached T2 before the server answered
    expect(t2).not.toBe(t1);
    // The server refuses T1; the login retries once with what the source hands out next.
    tokens.invalidate(SQL, { token: t1 });
    const retry = await tokens.getAccessToken();
    expect([t1, t2]).not.toContain(retry);
    expect(credential.callCount).toBe(3);
    // The other logins refused with T1 report it too: covered already, no further fetch.
    tokens.invalidate(SQL, { token: t1 });
    expect(await tokens.getAccessToken()).toBe(retry);
    expect(credential.callCount).toBe(3);
    expect(ofType("token-invalidated")).toHaveLength(1);
  });

  it("with no scope, drops every scope's token; an unknown scope is a no-op", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    await tokens.getAccessToken(SQL);
    await tokens.getAccessToken(GOV);
    tokens.invalidate("https://database.chinacloudapi.cn/.default");
    tokens.invalidate();
    expect(ofType("token-invalidated").map((e) => e.scope)).toEqual([SQL, GOV]);
    await tokens.getAccessToken(SQL);
    await tokens.getAccessToken(GOV);
    expect(credential.callCount).toBe(4);
  });

  it.each([
    ["the old fetch finishes first", "all"],
    ["the old fetch finishes last", "newest-first"],
  ])("never lets a fetch started before invalidate() refill the cache (%s)", async (_, order) => {
    credential.latencyInMs = 0;
    credential.hold();
    const tokens = tokenSource();
    const before = tokens.getAccessToken(); // fetch 1 in flight
    await vi.advanceTimersByTimeAsync(0);
    tokens.invalidate(); // e.g. the server rejected a token we handed out meanwhile
    const after = tokens.getAccessToken(); // must not join fetch 1
    await vi.advanceTimersByTimeAsync(0);
    expect(credential.callCount).toBe(2);

    if (order === "newest-first") {
      credential.releaseNewest();
      await vi.advanceTimersByTimeAsync(0);
    }
    credential.release();
    await vi.advanceTimersByTimeAsync(0);
    const [token1, token2] = [fakeJwt(1, SQL), fakeJwt(2, SQL)]; // by call order
    expect(credential.issued).toEqual(order === "all" ? [token1, token2] : [token2, token1]);
    await expect(before).resolves.toBe(token1); // its waiters still get it
    await expect(after).resolves.toBe(token2);
    await expect(tokens.getAccessToken()).resolves.toBe(token2); // the cache holds the newer one
    expect(credential.callCount).toBe(2);
  });

  it("detaches a background refresh in flight: the next caller fetches anew", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    await tokens.getAccessToken();
    vi.setSystemTime(Date.now() + 20 * MIN);
    credential.hold();
    await tokens.getAccessToken(); // background refresh held
    tokens.invalidate();
    const waiting = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(0);
    expect(credential.callCount).toBe(3);
    credential.release();
    await vi.advanceTimersByTimeAsync(0);
    const served = await waiting;
    await expect(tokens.getAccessToken()).resolves.toBe(served);
    expect(credential.callCount).toBe(3);
  });
});

describe("scope guard and arguments", () => {
  it.each([
    ["Graph", "https://graph.microsoft.com/.default"],
    ["ARM", "https://management.azure.com/.default"],
    ["a look-alike host", "https://database.windows.net.evil.example/.default"],
    ["the resource form", "https://database.windows.net/"],
  ])("refuses %s before any credential call", async (_, scope) => {
    const tokens = tokenSource();
    await expect(tokens.getToken(scope)).rejects.toSatisfy(isScopeNotAllowedError);
    await expect(tokens.getAccessToken(scope)).rejects.toSatisfy(isScopeNotAllowedError);
    expect(credential.callCount).toBe(0);
    expect(ofType("scope-refused")).toEqual([
      { type: "scope-refused", scope },
      { type: "scope-refused", scope },
    ]);
    expect(tokens.toJSON().scopes).toEqual([]); // no cache entry created either
  });

  it("cleans a hostile scope before putting it in an event", async () => {
    const tokens = tokenSource();
    await expect(tokens.getToken(`https://evil/\n${"a".repeat(500)}`)).rejects.toSatisfy(
      isScopeNotAllowedError,
    );
    const [refused] = ofType("scope-refused");
    expect(refused?.scope).not.toContain("\n");
    expect(refused?.scope.length).toBeLessThanOrEqual(203);
  });

  it("never puts a token-looking or control-character scope from a hostile server into the error", async () => {
    const tokens = tokenSource();
    const planted = fakeJwt(99);
    const hostile = `https://graph.microsoft.com/${planted}\r\n\u0000INFO forged log line/.default`;
    const error = await tokens.getToken(hostile).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toSatisfy(isScopeNotAllowedError);
    const shown = [(error as Error).message, (error as { scope: string }).scope, inspect(error)];
    for (const text of shown) {
      expect(text).not.toContain("eyJ");
      for (const segment of planted.split(".")) expect(text).not.toContain(segment);
      expect(text).not.toContain("\r\n");
      expect(text).not.toContain("\u0000");
    }
    expect((error as Error).message).toContain("https://graph.microsoft.com/[redacted token]???INFO");
    expect(ofType("scope-refused")[0]?.scope).not.toContain("eyJ");
    expect(credential.callCount).toBe(0);
  });

  it("asks for exactly one scope", async () => {
    const tokens = tokenSource();
    for (const scopes of [[], [SQL, GOV]]) {
      await expect(tokens.getToken(scopes)).rejects.toSatisfy(isInvalidOptionError);
    }
    await expect(tokens.getToken(42 as unknown as string)).rejects.toSatisfy(isInvalidOptionError);
    expect(credential.callCount).toBe(0);
  });

  it("validates options at creation", () => {
    expect(() => createTokenSource({ refreshWindowInMs: -1 })).toThrow(/option "refreshWindowInMs" is -1/);
    expect(() => createTokenSource({ nope: 1 } as TokenSourceOptions)).toThrow(
      /option "nope" is not a known option/,
    );
  });
});

describe("API surface", () => {
  it("is a TokenCredential with a default scope, an active source and token details", async () => {
    credential.latencyInMs = 0;
    credential.refreshAfterInMs = 30 * MIN;
    const tokens = tokenSource({ scope: GOV });
    expect(tokens.defaultScope).toBe(GOV);
    expect(tokens.activeSource).toBeUndefined();
    const details = await tokens.getTokenDetails();
    expect(details).toEqual({
      token: credential.issued[0],
      expiresOnTimestamp: Date.now() + 60 * MIN,
      refreshAfterTimestamp: Date.now() + 30 * MIN,
      source: "FakeClockCredential",
      scope: GOV,
    });
    expect(tokens.activeSource).toBe("FakeClockCredential");
    const accessToken = await tokens.getToken(GOV);
    expect(accessToken).toMatchObject({ token: credential.issued[0], tokenType: "Bearer" });
    expect(Object.isFrozen(accessToken)).toBe(true); // shared by all callers: nobody can alter the cache
  });

  it("lets one caller's abortSignal stop only its own wait", async () => {
    const tokens = tokenSource();
    const controller = new AbortController();
    const mine = tokens.getToken(SQL, { abortSignal: controller.signal });
    const theirs = tokens.getToken(SQL);
    controller.abort();
    await expect(mine).rejects.toMatchObject({ name: "AbortError" });
    await vi.advanceTimersByTimeAsync(200);
    await expect(theirs).resolves.toMatchObject({ token: credential.issued[0] });
  });

  it("close() stops retry timers, aborts the fetch in flight and rejects later calls", async () => {
    const tokens = tokenSource();
    const first = tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    await first;
    credential.failAlways(outage());
    vi.setSystemTime(Date.now() + 15 * MIN);
    await tokens.getAccessToken();
    await vi.advanceTimersByTimeAsync(200);
    expect(vi.getTimerCount()).toBe(1); // the retry
    const cold = tokens.getAccessToken(GOV); // a fetch in flight
    tokens.close();
    expect(tokens.toJSON().scopes.some((entry) => entry.retryScheduled || entry.fetching)).toBe(false);
    await expect(cold).rejects.toMatchObject({ name: "AbortError" });
    expect(vi.getTimerCount()).toBe(0); // nor any timer of the aborted credential call
    await expect(tokens.getAccessToken()).rejects.toThrow(/closed/);
    expect(String(tokens)).toContain("closed");
  });
});

describe("events, logger and their cost", () => {
  it("feeds the logger readable, leveled, secret-free entries", async () => {
    const entries: LogEntry[] = [];
    credential.latencyInMs = 0;
    const tokens = tokenSource({ logger: (entry) => entries.push(entry) });
    await tokens.getAccessToken();
    await expect(tokens.getToken("https://graph.microsoft.com/.default")).rejects.toThrow();
    tokens.invalidate();
    expect(entries.map((e) => [e.level, e.event.type])).toEqual([
      ["debug", "acquire-started"],
      ["info", "source-selected"],
      ["info", "token-acquired"],
      ["warn", "scope-refused"],
      ["info", "token-invalidated"],
    ]);
    expect(entries[0]?.message).toBe("fetching a token for https://database.windows.net/.default (cold)");
    expect(entries[2]?.message).toMatch(
      /^got a token for https:\/\/database\.windows\.net\/\.default from FakeClockCredential \(cold\) in 0 ms; it expires at \d{4}-\d\d-\d\dT/,
    );
    expect(JSON.stringify(entries)).not.toContain("eyJ");
  });

  it("types listeners, supports '*', and removes them with off() or the returned function", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const acquired: string[] = [];
    const all: string[] = [];
    const listener = (event: Extract<TokenSourceEvent, { type: "token-acquired" }>) =>
      acquired.push(event.reason);
    tokens.on("token-acquired", listener);
    const stop = tokens.on("*", (event) => all.push(event.type));
    await tokens.getAccessToken();
    tokens.off("token-acquired", listener);
    stop();
    tokens.invalidate();
    await tokens.getAccessToken();
    expect(acquired).toEqual(["cold"]);
    expect(all).toEqual(["acquire-started", "source-selected", "token-acquired"]);
  });

  it("keeps delivering tokens when a listener throws, and warns once", async () => {
    credential.latencyInMs = 0;
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const tokens = tokenSource({
      onEvent: () => {
        throw new Error("buggy listener");
      },
    });
    tokens.on("token-acquired", () => {
      throw new Error("another");
    });
    await expect(tokens.getAccessToken()).resolves.toBe(credential.issued[0]);
    tokens.invalidate();
    await expect(tokens.getAccessToken()).resolves.toBe(credential.issued[1]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("buggy listener");
    warn.mockRestore();
  });

  it("builds no event object when nobody listens", async () => {
    credential.latencyInMs = 0;
    const tokens = createTokenSource({ credential }); // no logger, no onEvent, no on()
    sources.push(tokens);
    await tokens.getAccessToken(); // cold
    vi.setSystemTime(Date.now() + 20 * MIN);
    credential.failNext(outage());
    await tokens.getAccessToken(); // refresh-started, then refresh-failed
    await vi.advanceTimersByTimeAsync(2_000); // retry succeeds: token-acquired
    tokens.invalidate();
    await expect(tokens.getToken("https://graph.microsoft.com/.default")).rejects.toThrow();
    expect(counters.emits).toBeGreaterThanOrEqual(6);
    expect(counters.builds).toBe(0);

    tokens.on("token-invalidated", () => {});
    tokens.invalidate();
    expect(counters.builds).toBe(1);
  });
});

describe(`diagnostics channel ${TOKEN_SOURCE_CHANNEL}`, () => {
  const published: unknown[] = [];
  const onMessage = (message: unknown) => published.push(message);
  beforeEach(() => {
    published.length = 0;
  });
  afterEach(() => {
    unsubscribe(TOKEN_SOURCE_CHANNEL, onMessage);
  });

  it("gets every event type, as the very objects the listeners get", async () => {
    subscribe(TOKEN_SOURCE_CHANNEL, onMessage);
    credential.latencyInMs = 0;
    const tokens = tokenSource({ retryInitialDelayInMs: 1_000, retryMaxDelayInMs: 1_000 });
    credential.failNext(outage());
    await expect(tokens.getAccessToken()).rejects.toThrow(); // acquire-started, source-failed, acquire-failed
    await tokens.getAccessToken(); // source-selected, token-acquired
    vi.setSystemTime(Date.now() + 20 * MIN);
    credential.failNext(outage());
    await tokens.getAccessToken(); // refresh-started, then refresh-failed
    await vi.advanceTimersByTimeAsync(1_000);
    tokens.invalidate(); // token-invalidated
    await expect(tokens.getToken("https://graph.microsoft.com/.default")).rejects.toThrow(); // scope-refused

    expect(published).toHaveLength(events.length);
    published.forEach((message, i) => {
      expect(message).toBe(events[i]);
    });
    const types = new Set(events.map((event) => event.type));
    const all: Record<TokenSourceEvent["type"], true> = {
      "acquire-started": true,
      "token-acquired": true,
      "refresh-started": true,
      "refresh-failed": true,
      "acquire-failed": true,
      "source-selected": true,
      "source-failed": true,
      "scope-refused": true,
      "token-invalidated": true,
    };
    expect([...types].sort()).toEqual(Object.keys(all).sort());
    expect(ofType("acquire-started").map((event) => event.reason)).toEqual([
      "cold",
      "cold",
      "refresh",
      "refresh",
    ]);
  });

  it("builds events for a channel subscriber alone, and none once it unsubscribes", async () => {
    credential.latencyInMs = 0;
    const tokens = createTokenSource({ credential }); // no logger, no onEvent, no on()
    sources.push(tokens);
    await tokens.getAccessToken();
    expect(counters.builds).toBe(0);

    subscribe(TOKEN_SOURCE_CHANNEL, onMessage);
    tokens.invalidate();
    await tokens.getAccessToken();
    expect(published.map((message) => (message as TokenSourceEvent).type)).toEqual([
      "token-invalidated",
      "acquire-started",
      "token-acquired",
    ]);
    const built = counters.builds;
    expect(built).toBe(3); // source-selected goes through publish(): the chain builds its own

    unsubscribe(TOKEN_SOURCE_CHANNEL, onMessage);
    tokens.invalidate();
    await tokens.getAccessToken();
    expect(counters.builds).toBe(built);
  });

  it("keeps delivering tokens when a subscriber throws: Node reports it as an uncaught exception", async () => {
    credential.latencyInMs = 0;
    const buggy = () => {
      throw new Error("buggy subscriber");
    };
    // Node's Channel.publish rethrows a subscriber's error on the next tick; catch it here instead of
    // the test runner's own handlers.
    const runnerHandlers = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    const uncaught: unknown[] = [];
    process.on("uncaughtException", (error) => uncaught.push(error));
    subscribe(TOKEN_SOURCE_CHANNEL, buggy);
    subscribe(TOKEN_SOURCE_CHANNEL, onMessage);
    try {
      const tokens = tokenSource();
      await expect(tokens.getAccessToken()).resolves.toBe(credential.issued[0]);
      await settleForReal();
    } finally {
      unsubscribe(TOKEN_SOURCE_CHANNEL, buggy);
      process.removeAllListeners("uncaughtException");
      for (const handler of runnerHandlers) process.on("uncaughtException", handler);
    }
    expect(published.length).toBe(events.length); // later subscribers still got every event
    expect(uncaught.length).toBe(events.length);
    expect((uncaught[0] as Error).message).toBe("buggy subscriber");
  });
});

describe("util.inspect, JSON.stringify and String never show a token", () => {
  it("summarise scopes, expiry times and the active source instead", async () => {
    credential.latencyInMs = 0;
    const tokens = tokenSource();
    const accessToken = await tokens.getToken(SQL);
    const details = await tokens.getTokenDetails(GOV);
    const expiresOn = new Date(accessToken.expiresOnTimestamp).toISOString();

    const shown = {
      inspect: inspect(tokens, { depth: 10 }),
      json: JSON.stringify(tokens),
      string: String(tokens),
      template: `${tokens}`,
      accessTokenInspect: inspect(accessToken),
      accessTokenJson: JSON.stringify(accessToken),
      detailsInspect: inspect(details),
      detailsJson: JSON.stringify(details),
      nested: inspect({ config: { credential: tokens } }, { depth: 10 }),
      events: JSON.stringify(events),
    };
    expect(credential.issued).toHaveLength(2);
    for (const [view, text] of Object.entries(shown)) {
      for (const token of credential.issued) {
        expect(text, view).not.toContain(token);
        for (const segment of token.split(".")) expect(text, `${view}: segment`).not.toContain(segment);
      }
    }
    expect(shown.inspect).toContain("TokenSource");
    expect(shown.inspect).toContain(expiresOn);
    expect(shown.inspect).toContain("FakeClockCredential");
    expect(JSON.parse(shown.json)).toMatchObject({
      defaultScope: SQL,
      activeSource: "FakeClockCredential",
      closed: false,
      scopes: [
        { scope: SQL, source: "FakeClockCredential", expiresOn, fetching: false, retryScheduled: false },
        { scope: GOV, source: "FakeClockCredential" },
      ],
    });
    expect(shown.string).toBe(
      `TokenSource(default scope ${SQL}; active source FakeClockCredential; cached: ${SQL} until ${expiresOn}, ` +
        `${GOV} until ${new Date(details.expiresOnTimestamp).toISOString()})`,
    );
    expect(shown.accessTokenJson).toContain('"token":"[redacted]"');
    expect(JSON.parse(shown.detailsJson)).toMatchObject({ token: "[redacted]", scope: GOV });
  });
});
