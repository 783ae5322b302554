import { isInvalidOptionError } from "@entra-sql/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimeOptions,
  createConnectionLifetimePolicy,
} from "./connection-lifetime.js";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A fake clock and a scripted random source that count their calls. */
function fakes(randoms: number[] = [0]) {
  let time = T0;
  let draws = 0;
  return {
    now: () => time,
    random: () => {
      const value = randoms[Math.min(draws, randoms.length - 1)] ?? 0;
      draws++;
      return value;
    },
    advance: (ms: number) => {
      time += ms;
    },
    get draws() {
      return draws;
    },
  };
}

describe("createConnectionLifetimePolicy() defaults", () => {
  it('uses 30 min max age, 2.5% jitter, an "auto" token margin of at most 60 s', () => {
    const policy = createConnectionLifetimePolicy();
    expect(policy.settings).toEqual({
      maxAgeInMs: 30 * MIN,
      maxAgeJitterRatio: 0.025,
      tokenExpiryMarginInMs: "auto",
    });
    expect(CONNECTION_LIFETIME_DEFAULTS.tokenExpiryMarginInMs).toBe(60_000);
    expect(CONNECTION_LIFETIME_DEFAULTS.tokenExpiryMarginInMs).toBeLessThan(10 * MIN);
  });

  it("reads the clock for bornAt and now when not given", () => {
    const f = fakes();
    const policy = createConnectionLifetimePolicy({ now: f.now, random: f.random });
    const stamp = policy.stamp();
    expect(stamp.bornAt).toBe(T0);
    expect(stamp.retireAt).toBe(T0 + 30 * MIN);
    f.advance(30 * MIN - 1);
    expect(policy.isUsable(stamp)).toBe(true);
    expect(policy.remainingMs(stamp)).toBe(1);
    f.advance(1);
    expect(policy.isUsable(stamp)).toBe(false);
    expect(policy.retireReason(stamp)).toBe("max-age");
    expect(policy.remainingMs(stamp)).toBe(0);
  });
});

describe("stamp()", () => {
  it("retires at max age minus the jitter drawn for this connection", () => {
    const f = fakes([0.5]);
    const policy = createConnectionLifetimePolicy({ maxAgeInMs: 40 * MIN, now: f.now, random: f.random });
    const stamp = policy.stamp({ bornAt: T0 });
    // 40 min * 0.025 * 0.5 = 30 s
    expect(stamp.jitterInMs).toBe(30_000);
    expect(stamp.maxAgeRetireAt).toBe(T0 + 40 * MIN - 30_000);
    expect(stamp.tokenRetireAt).toBeUndefined();
    expect(stamp.retireAt).toBe(stamp.maxAgeRetireAt);
  });

  it("draws the jitter once per connection, never on later checks", () => {
    const f = fakes([0.1, 0.9]);
    const policy = createConnectionLifetimePolicy({ now: f.now, random: f.random });
    const a = policy.stamp();
    const b = policy.stamp();
    expect(f.draws).toBe(2);
    for (let i = 0; i < 5; i++) {
      policy.isUsable(a);
      policy.retireReason(b);
      policy.remainingMs(a);
    }
    expect(f.draws).toBe(2);
    expect(a.jitterInMs).toBe(Math.floor(30 * MIN * 0.025 * 0.1));
    expect(b.jitterInMs).toBe(Math.floor(30 * MIN * 0.025 * 0.9));
    expect(a.retireAt).toBeGreaterThan(b.retireAt);
  });

  it("keeps jitter below maxAge * ratio even for a random source returning 1 or garbage", () => {
    for (const r of [1, 2, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const policy = createConnectionLifetimePolicy({ maxAgeInMs: 30 * MIN, random: () => r, now: () => T0 });
      const { jitterInMs } = policy.stamp();
      expect(jitterInMs).toBeGreaterThanOrEqual(0);
      expect(jitterInMs).toBeLessThan(30 * MIN * 0.025);
    }
  });

  it("retires at token expiry minus the margin when that comes first", () => {
    const f = fakes([0]);
    const policy = createConnectionLifetimePolicy({ now: f.now, random: f.random });
    const stamp = policy.stamp({ tokenExpiresOnTimestamp: T0 + 20 * MIN });
    expect(stamp.tokenRetireAt).toBe(T0 + 19 * MIN);
    expect(stamp.retireAt).toBe(T0 + 19 * MIN);
    f.advance(19 * MIN - 1);
    expect(policy.retireReason(stamp)).toBeUndefined();
    f.advance(1);
    expect(policy.retireReason(stamp)).toBe("token-expiry");
  });

  it("retires at max age when the token outlives it (a 24 h managed-identity token)", () => {
    const policy = createConnectionLifetimePolicy({ random: () => 0, now: () => T0 });
    const stamp = policy.stamp({ tokenExpiresOnTimestamp: T0 + 24 * 60 * MIN });
    expect(stamp.retireAt).toBe(T0 + 30 * MIN);
    expect(policy.retireReason(stamp, T0 + 30 * MIN)).toBe("max-age");
  });

  it('calls a tie "token-expiry"', () => {
    const policy = createConnectionLifetimePolicy({
      maxAgeInMs: 10 * MIN,
      maxAgeJitterRatio: 0,
      tokenExpiryMarginInMs: 0,
    });
    const stamp = policy.stamp({ bornAt: T0, tokenExpiresOnTimestamp: T0 + 10 * MIN });
    expect(policy.retireReason(stamp, T0 + 10 * MIN)).toBe("token-expiry");
  });

  it("makes a connection born with a nearly expired token unusable at once", () => {
    const policy = createConnectionLifetimePolicy({ now: () => T0 });
    const stamp = policy.stamp({ tokenExpiresOnTimestamp: T0 + 30_000 });
    expect(policy.isUsable(stamp)).toBe(false);
    expect(policy.retireReason(stamp)).toBe("token-expiry");
  });

  it("takes explicit bornAt and now arguments over the clock", () => {
    const policy = createConnectionLifetimePolicy({ now: () => 0, random: () => 0 });
    const stamp = policy.stamp({ bornAt: T0 });
    expect(policy.isUsable(stamp, T0 + 29 * MIN)).toBe(true);
    expect(policy.remainingMs(stamp, T0 + 29 * MIN)).toBe(MIN);
    expect(policy.isUsable(stamp, T0 + 30 * MIN)).toBe(false);
  });

  it("returns a frozen stamp", () => {
    const stamp = createConnectionLifetimePolicy().stamp();
    expect(Object.isFrozen(stamp)).toBe(true);
  });

  it.each([
    ["bornAt", { bornAt: Number.NaN }, "stamp.bornAt"],
    ["tokenExpiresOnTimestamp", { tokenExpiresOnTimestamp: "soon" }, "stamp.tokenExpiresOnTimestamp"],
    [
      "tokenExpiresOnTimestamp Infinity",
      { tokenExpiresOnTimestamp: Number.POSITIVE_INFINITY },
      "stamp.tokenExpiresOnTimestamp",
    ],
  ])("refuses a bad %s", (_, facts, option) => {
    const policy = createConnectionLifetimePolicy();
    expect(() => policy.stamp(facts as never)).toThrow(
      expect.objectContaining({ name: "InvalidOptionError", option }),
    );
  });
});

describe("disabling the age cap", () => {
  it.each([
    ["null", null],
    ["Infinity", Number.POSITIVE_INFINITY],
  ])("maxAgeInMs: %s bounds connections by their token only", (_, maxAgeInMs) => {
    const f = fakes([0.7]);
    const policy = createConnectionLifetimePolicy({ maxAgeInMs, now: f.now, random: f.random });
    expect(policy.settings.maxAgeInMs).toBeNull();
    const unbounded = policy.stamp();
    expect(unbounded.maxAgeRetireAt).toBeUndefined();
    expect(unbounded.jitterInMs).toBe(0);
    expect(unbounded.retireAt).toBe(Number.POSITIVE_INFINITY);
    expect(policy.remainingMs(unbounded)).toBe(Number.POSITIVE_INFINITY);
    f.advance(365 * 24 * 60 * MIN);
    expect(policy.isUsable(unbounded)).toBe(true);

    const bounded = policy.stamp({ tokenExpiresOnTimestamp: f.now() + 60 * MIN });
    expect(bounded.retireAt).toBe(f.now() + 59 * MIN);
  });
});

describe("option validation", () => {
  it.each<[string, ConnectionLifetimeOptions | unknown, string, string]>([
    ["unknown key", { maxAge: 1000 }, "maxAge", "an unknown option"],
    ["misspelled key", { tokenExpiryMarginMs: 1000 }, "tokenExpiryMarginMs", "an unknown option"],
    ["zero max age", { maxAgeInMs: 0 }, "maxAgeInMs", "0"],
    ["negative max age", { maxAgeInMs: -1 }, "maxAgeInMs", "-1"],
    ["NaN max age", { maxAgeInMs: Number.NaN }, "maxAgeInMs", "NaN"],
    ["-Infinity max age", { maxAgeInMs: Number.NEGATIVE_INFINITY }, "maxAgeInMs", "-Infinity"],
    ["string max age", { maxAgeInMs: "30m" }, "maxAgeInMs", '"30m"'],
    ["negative ratio", { maxAgeJitterRatio: -0.1 }, "maxAgeJitterRatio", "-0.1"],
    ["ratio 0.5", { maxAgeJitterRatio: 0.5 }, "maxAgeJitterRatio", "0.5"],
    ["NaN ratio", { maxAgeJitterRatio: Number.NaN }, "maxAgeJitterRatio", "NaN"],
    ["negative margin", { tokenExpiryMarginInMs: -1 }, "tokenExpiryMarginInMs", "-1"],
    [
      "infinite margin",
      { tokenExpiryMarginInMs: Number.POSITIVE_INFINITY },
      "tokenExpiryMarginInMs",
      "Infinity",
    ],
    ["non-function random", { random: 0.5 }, "random", "0.5"],
    ["non-function now", { now: 5 }, "now", "5"],
    ["not an object", "30m", "options", '"30m"'],
  ])("refuses %s, naming option, value and expected form", (_, options, option, value) => {
    let caught: unknown;
    try {
      createConnectionLifetimePolicy(options as ConnectionLifetimeOptions);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect(caught).toMatchObject({ option });
    expect((caught as { value: string }).value).toBe(value);
    expect((caught as { expected: string }).expected.length).toBeGreaterThan(0);
    expect((caught as Error).message).toContain(`"${option}"`);
  });

  it("accepts the edges: ratio 0, margin 0, a max age of one second", () => {
    const policy = createConnectionLifetimePolicy({
      maxAgeJitterRatio: 0,
      tokenExpiryMarginInMs: 0,
      maxAgeInMs: 1000,
    });
    expect(policy.settings).toEqual({ maxAgeInMs: 1000, maxAgeJitterRatio: 0, tokenExpiryMarginInMs: 0 });
  });

  it("accepts explicit undefined values as defaults", () => {
    const policy = createConnectionLifetimePolicy({ maxAgeInMs: undefined, maxAgeJitterRatio: undefined });
    expect(policy.settings.maxAgeInMs).toBe(30 * MIN);
  });
});

describe("maxAgeInMs that looks like seconds", () => {
  it.each([999, 30, 1])("refuses %i, saying it looks like seconds and how to write them", (seconds) => {
    let caught: unknown;
    try {
      createConnectionLifetimePolicy({ maxAgeInMs: seconds });
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect(caught).toMatchObject({ option: "maxAgeInMs", value: String(seconds) });
    const message = (caught as Error).message;
    expect(message).toContain("seconds");
    expect(message).toContain(`${seconds} * 1000`);
    expect(message).toMatch(/^@entra-sql\/core: option "maxAgeInMs" is /);
  });

  it("accepts 1000 ms, the smallest age cap", () => {
    const policy = createConnectionLifetimePolicy({ maxAgeInMs: 1000, maxAgeJitterRatio: 0 });
    expect(policy.settings.maxAgeInMs).toBe(1000);
    expect(policy.stamp({ bornAt: T0 }).retireAt).toBe(T0 + 1000);
  });
});

describe('the "auto" token expiry margin: min(60 s, a tenth of the token lifetime)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A policy on the fake clock, without an age cap, so only the token bounds the connection. */
  const tokenOnly = (tokenExpiryMarginInMs?: number) => {
    vi.useFakeTimers({ now: T0 });
    return createConnectionLifetimePolicy({
      maxAgeInMs: null,
      ...(tokenExpiryMarginInMs === undefined ? {} : { tokenExpiryMarginInMs }),
    });
  };

  it.each([
    ["a 5-minute token", 5 * MIN, 30_000],
    ["a 10-minute token", 10 * MIN, 60_000],
    ["a 60-minute token", 60 * MIN, 60_000],
    ["a 2-hour token", 120 * MIN, 60_000],
    ["an unknown lifetime", undefined, 60_000],
    ["a zero lifetime", 0, 60_000],
    ["a NaN lifetime", Number.NaN, 60_000],
  ])("%s (lifetime %s ms) gets a margin of %s ms", (_, tokenLifetimeInMs, margin) => {
    const policy = tokenOnly();
    const expiresOn = T0 + 5 * MIN;
    const stamp = policy.stamp({ tokenExpiresOnTimestamp: expiresOn, tokenLifetimeInMs });
    expect(stamp.tokenExpiryMarginInMs).toBe(margin);
    expect(stamp.tokenRetireAt).toBe(expiresOn - margin);
    expect(stamp.retireAt).toBe(expiresOn - margin);
    vi.advanceTimersByTime(5 * MIN - margin - 1);
    expect(policy.isUsable(stamp)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(policy.isUsable(stamp)).toBe(false);
    expect(policy.retireReason(stamp)).toBe("token-expiry");
  });

  it("sizes the margin per stamp, from each token's own lifetime", () => {
    const policy = tokenOnly();
    const short = policy.stamp({ tokenExpiresOnTimestamp: T0 + 5 * MIN, tokenLifetimeInMs: 5 * MIN });
    const long = policy.stamp({ tokenExpiresOnTimestamp: T0 + 5 * MIN, tokenLifetimeInMs: 120 * MIN });
    expect([short.tokenExpiryMarginInMs, long.tokenExpiryMarginInMs]).toEqual([30_000, 60_000]);
    expect(policy.settings.tokenExpiryMarginInMs).toBe("auto");
  });

  it("lets an explicit margin win over the automatic one, whatever the token's lifetime", () => {
    const policy = tokenOnly(2 * MIN);
    expect(policy.settings.tokenExpiryMarginInMs).toBe(2 * MIN);
    for (const tokenLifetimeInMs of [5 * MIN, 120 * MIN, undefined]) {
      const stamp = policy.stamp({ tokenExpiresOnTimestamp: T0 + 5 * MIN, tokenLifetimeInMs });
      expect(stamp.tokenExpiryMarginInMs).toBe(2 * MIN);
      expect(stamp.tokenRetireAt).toBe(T0 + 3 * MIN);
    }
    expect(tokenOnly(0).stamp({ tokenExpiresOnTimestamp: T0 + MIN }).tokenRetireAt).toBe(T0 + MIN);
  });

  it("records the margin on a stamp without a token expiry too (nothing to subtract it from)", () => {
    const stamp = tokenOnly().stamp({ tokenLifetimeInMs: 5 * MIN });
    expect(stamp).toMatchObject({ tokenExpiryMarginInMs: 30_000, tokenRetireAt: undefined });
    expect(stamp.retireAt).toBe(Number.POSITIVE_INFINITY);
  });
});
