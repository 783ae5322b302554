import { describe, expect, it, vi } from "vitest";
import { createEventEmitter, describeDiagnostic, toLogEntry } from "./event-emitter.js";
import type { TokenSourceEvent } from "./events.js";
import { fakeJwt } from "./test-support/fake-clock-credential.js";

const invalidated = (scope = "s"): TokenSourceEvent => ({ type: "token-invalidated", scope });

describe("createEventEmitter", () => {
  it("builds an event only when someone listens to its type or to '*'", () => {
    const events = createEventEmitter<TokenSourceEvent>();
    const build = vi.fn(() => ({ type: "scope-refused" as const, scope: "x" }));
    events.emit("scope-refused", build);
    expect(build).not.toHaveBeenCalled();

    const other = vi.fn();
    const off = events.on("token-invalidated", other);
    events.emit("scope-refused", build);
    expect(build).not.toHaveBeenCalled(); // a listener of another type does not count

    const refused = vi.fn();
    const all = vi.fn();
    events.on("scope-refused", refused);
    events.on("*", all);
    events.emit("scope-refused", build);
    expect(build).toHaveBeenCalledTimes(1); // once, however many listeners
    expect(refused).toHaveBeenCalledWith({ type: "scope-refused", scope: "x" });
    expect(all).toHaveBeenCalledWith({ type: "scope-refused", scope: "x" });
    expect(other).not.toHaveBeenCalled();

    off();
    events.off("scope-refused", refused);
    events.off("*", all);
    expect(events.hasListeners("scope-refused")).toBe(false);
    events.emit("scope-refused", build);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it("types listeners by event type", () => {
    const events = createEventEmitter<TokenSourceEvent>();
    const seen: string[] = [];
    events.on("refresh-failed", (event) => seen.push(`${event.scope}:${event.retryInMs}`));
    events.publish({
      type: "refresh-failed",
      scope: "s",
      error: { name: "E", message: "m" },
      retryInMs: 5,
      currentExpiresOnTimestamp: 0,
    });
    expect(seen).toEqual(["s:5"]);
  });

  it("calls a listener added twice once, and lets a listener remove itself while being called", () => {
    const events = createEventEmitter<TokenSourceEvent>();
    const listener = vi.fn();
    events.on("token-invalidated", listener);
    events.on("token-invalidated", listener);
    const once = vi.fn(() => events.off("token-invalidated", once));
    events.on("token-invalidated", once);
    events.publish(invalidated());
    events.publish(invalidated());
    expect(listener).toHaveBeenCalledTimes(2);
    expect(once).toHaveBeenCalledTimes(1);
  });

  it("also publishes on its channel, building the event when only the channel has subscribers", () => {
    const channel = { hasSubscribers: false, publish: vi.fn() };
    const events = createEventEmitter<TokenSourceEvent>(undefined, channel);
    const build = vi.fn(() => invalidated());
    events.emit("token-invalidated", build);
    expect(build).not.toHaveBeenCalled();
    expect(events.hasListeners("token-invalidated")).toBe(false);

    channel.hasSubscribers = true;
    expect(events.hasListeners("token-invalidated")).toBe(true);
    const listener = vi.fn();
    events.on("*", listener);
    events.emit("token-invalidated", build);
    expect(build).toHaveBeenCalledTimes(1);
    expect(channel.publish).toHaveBeenCalledTimes(1);
    expect(channel.publish.mock.calls[0]?.[0]).toBe(listener.mock.calls[0]?.[0]); // the same object
  });

  it("never lets a channel that throws reach the emitting code", () => {
    const channel = {
      hasSubscribers: true,
      publish: () => {
        throw new Error("broken channel");
      },
    };
    const events = createEventEmitter<TokenSourceEvent>(undefined, channel);
    expect(() => events.publish(invalidated())).not.toThrow();
  });

  it("keeps delivering when a listener throws, and reports the error to onListenerError", () => {
    const errors: unknown[] = [];
    const events = createEventEmitter<TokenSourceEvent>((error) => errors.push(error));
    const after = vi.fn();
    events.on("token-invalidated", () => {
      throw new Error("listener bug");
    });
    events.on("token-invalidated", after);
    events.on("*", after);
    expect(() => events.publish(invalidated())).not.toThrow();
    expect(after).toHaveBeenCalledTimes(2);
    expect(errors).toEqual([new Error("listener bug")]);
  });
});

describe("toLogEntry", () => {
  const scope = "https://database.windows.net/.default";
  const at = Date.UTC(2030, 0, 1, 12, 0, 0);
  const leaky = { name: "AuthenticationError", message: `server echoed ${fakeJwt(1)}` };
  const cases: [TokenSourceEvent, string, string][] = [
    [
      { type: "acquire-started", scope, reason: "expired" },
      "debug",
      `fetching a token for ${scope} (expired)`,
    ],
    [
      {
        type: "token-acquired",
        scope,
        source: "AzureCliCredential",
        reason: "cold",
        expiresOnTimestamp: at,
        refreshAfterTimestamp: undefined,
        durationInMs: 812,
      },
      "info",
      `got a token for ${scope} from AzureCliCredential (cold) in 812 ms; it expires at 2030-01-01T12:00:00.000Z`,
    ],
    [
      { type: "refresh-started", scope, trigger: "refresh-window" },
      "debug",
      `refreshing the token for ${scope} in the background (its expiry is within the refresh window)`,
    ],
    [
      { type: "refresh-started", scope, trigger: "refresh-after" },
      "debug",
      `refreshing the token for ${scope} in the background (its refresh-after time has passed)`,
    ],
    [
      { type: "refresh-failed", scope, error: leaky, retryInMs: 2_000, currentExpiresOnTimestamp: at },
      "warn",
      `background refresh of the token for ${scope} failed (AuthenticationError: server echoed [redacted token]); ` +
        "retrying in 2 s; the current token stays in use and expires at 2030-01-01T12:00:00.000Z",
    ],
    [
      { type: "acquire-failed", scope, error: leaky, durationInMs: 1_500 },
      "error",
      `could not get a token for ${scope} (after 1.5 s): AuthenticationError: server echoed [redacted token]`,
    ],
    [
      { type: "source-selected", source: "ManagedIdentityCredential", previousSource: undefined },
      "info",
      "using credential source ManagedIdentityCredential",
    ],
    [
      { type: "source-selected", source: "AzureCliCredential", previousSource: "ManagedIdentityCredential" },
      "info",
      "using credential source AzureCliCredential (instead of ManagedIdentityCredential)",
    ],
    [
      {
        type: "source-failed",
        source: "EnvironmentCredential",
        kind: "unavailable",
        error: { name: "E", message: "m" },
      },
      "debug",
      "credential source EnvironmentCredential failed (unavailable): E: m",
    ],
    [
      {
        type: "source-failed",
        source: "AzureCliCredential",
        kind: "authentication",
        error: { name: "E", message: "m" },
      },
      "warn",
      "credential source AzureCliCredential failed (authentication): E: m",
    ],
    [
      { type: "scope-refused", scope: "https://graph.microsoft.com/.default" },
      "warn",
      'refused to get a token for scope https://graph.microsoft.com/.default: it is not an allowed SQL audience (see the "allowedScopes" option)',
    ],
    [
      { type: "token-invalidated", scope },
      "info",
      `dropped the cached token for ${scope}; the next caller gets a new one`,
    ],
  ];

  it.each(cases)("maps %o", (event, level, message) => {
    expect(toLogEntry(event)).toEqual({ level, message, event });
    expect(describeDiagnostic(event)).toBe(message);
  });
});
