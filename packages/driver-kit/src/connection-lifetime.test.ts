import { describe, expect, it } from "vitest";
import {
  CONNECTION_LIFETIME_DEFAULTS,
  type ConnectionLifetimeOptions,
  createConnectionLifetimePolicy,
} from "./connection-lifetime.js";
import { isInvalidOptionError } from "./errors.js";

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
  it("uses 30 min max age, 2.5% jitter, 60 s token margin", () => {
    const policy = createConnectionLifetimePolicy();
    expect(policy.settings).toEqual({
      maxAgeInMs: 30 * MIN,
      maxAgeJitterRatio: 0.025,
      tokenExpiryMarginInMs: 60_000,
    });
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

  it("accepts the edges: ratio 0, margin 0, a tiny max age", () => {
    const policy = createConnectionLifetimePolicy({
      maxAgeJitterRatio: 0,
      tokenExpiryMarginInMs: 0,
      maxAgeInMs: 1,
    });
    expect(policy.settings).toEqual({ maxAgeInMs: 1, maxAgeJitterRatio: 0, tokenExpiryMarginInMs: 0 });
  });

  it("accepts explicit undefined values as defaults", () => {
    const policy = createConnectionLifetimePolicy({ maxAgeInMs: undefined, maxAgeJitterRatio: undefined });
    expect(policy.settings.maxAgeInMs).toBe(30 * MIN);
  });
});
