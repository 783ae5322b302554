import { describe, expect, it } from "vitest";
import { type ConnectionEvent, safeEmitter } from "./connection-events.js";

describe("safeEmitter", () => {
  it("builds nothing without a listener and never lets a listener throw", () => {
    let builds = 0;
    const build = (): ConnectionEvent => {
      builds++;
      return { type: "login-retried", verdict: "expired", scope: "s" };
    };
    safeEmitter<ConnectionEvent>(undefined)(build);
    expect(builds).toBe(0);
    const seen: ConnectionEvent[] = [];
    safeEmitter<ConnectionEvent>((event) => seen.push(event))(build);
    expect(builds).toBe(1);
    expect(seen).toEqual([{ type: "login-retried", verdict: "expired", scope: "s" }]);
    expect(() =>
      safeEmitter<ConnectionEvent>(() => {
        throw new Error("listener bug");
      })(build),
    ).not.toThrow();
    expect(builds).toBe(2);
  });
});
