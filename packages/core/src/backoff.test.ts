import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

const options = { initialDelayInMs: 1_000, maxDelayInMs: 60_000 };

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the maximum (no jitter)", () => {
    const delays = Array.from({ length: 9 }, (_, attempt) =>
      backoffDelay(attempt, { ...options, random: () => 0 }),
    );
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("takes off at most 10% at random by default, never exceeding the cap", () => {
    expect(backoffDelay(0, { ...options, random: () => 0.999_999 })).toBe(900);
    expect(backoffDelay(20, { ...options, random: () => 0.5 })).toBe(57_000);
    for (let i = 0; i < 500; i += 1) {
      const delay = backoffDelay(i % 10, options);
      const base = Math.min(60_000, 1_000 * 2 ** (i % 10));
      expect(delay).toBeGreaterThanOrEqual(base * 0.9);
      expect(delay).toBeLessThanOrEqual(base);
    }
  });

  it("honours a custom jitter ratio and survives absurd attempt numbers", () => {
    expect(backoffDelay(1, { ...options, jitterRatio: 0.5, random: () => 1 })).toBe(1_000);
    expect(backoffDelay(10_000, { ...options, random: () => 0 })).toBe(60_000);
    expect(backoffDelay(-3, { ...options, random: () => 0 })).toBe(1_000);
  });
});
