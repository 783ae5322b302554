import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { describeOptionValue } from "./internal.js";
import {
  displayText,
  humanDuration,
  isoTime,
  printable,
  REDACTED,
  redactTokensIn,
  withRedactedView,
} from "./redact.js";
import { fakeJwt } from "./test-support/fake-clock-credential.js";

const jwt = fakeJwt(7);

describe("printable", () => {
  it.each([
    ["a string", "cli", '"cli"'],
    ["a number", 42, "42"],
    ["NaN", Number.NaN, "NaN"],
    ["a bigint", 5n, "5n"],
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
    ["a symbol", Symbol("s"), "Symbol(s)"],
    ["a named function", function logIt() {}, "[function logIt]"],
    ["an empty object", {}, "{}"],
    ["an array", ["cli", 1], '["cli", 1]'],
    ["a long array", [1, 2, 3, 4, 5, 6, 7, 8], "[1, 2, 3, 4, 5, 6, ... 2 more]"],
    ["a class instance", new (class Thing {})(), "Thing {}"],
    [
      "a TokenCredential",
      new (class MyCredential {
        getToken() {}
      })(),
      "[TokenCredential MyCredential]",
    ],
    ["deep nesting", { a: { b: { c: 1 } } }, "{ a: { b: {...} } }"],
  ])("renders %s", (_, value, expected) => {
    expect(printable(value)).toBe(expected);
  });

  it("hides secret-named keys and token-looking strings, wherever they are", () => {
    const text = printable({
      type: "service-principal",
      clientSecret: "abc8Q~notreallyasecretbutlongenough",
      certificatePem: "-----BEGIN PRIVATE KEY-----",
      nested: [jwt],
    });
    expect(text).toBe(
      `{ type: "service-principal", clientSecret: ${REDACTED}, certificatePem: ${REDACTED}, ` +
        `nested: [${REDACTED} (a string that looks like an access token)] }`,
    );
    expect(printable(jwt)).not.toContain("eyJ");
  });

  it("hides secrets inside a string and keeps the rest", () => {
    expect(printable("Server=sql.example;Password=hunter2;Encrypt=true")).toBe(
      '"Server=sql.example;Password=[redacted];Encrypt=true"',
    );
    expect(printable(`client_secret=abc8Q~notreallyasecretbutlongenough`)).not.toContain("abc8Q~");
    expect(printable(`a PEM: -----BEGIN PRIVATE KEY-----\nMIIE`)).toBe('"a PEM: [redacted PEM]"');
  });

  it("is the one value printer: the internal describeOptionValue is the same function", () => {
    expect(describeOptionValue).toBe(printable);
  });

  it("cuts long strings and survives getters that throw", () => {
    expect(printable("x".repeat(500))).toBe(`"${"x".repeat(80)}"... (500 characters)`);
    const hostile = {
      get boom(): never {
        throw new Error("no");
      },
    };
    expect(printable(hostile)).toBe("[unprintable value]");
  });
});

describe("redaction helpers", () => {
  it("redactTokensIn replaces every JWT-looking run in free text", () => {
    const text = redactTokensIn(`server said: bad token ${jwt} (and ${fakeJwt(8)})`);
    expect(text).toBe("server said: bad token [redacted token] (and [redacted token])");
  });

  it("displayText caps, drops control characters and tokens", () => {
    expect(displayText("a\nb\u0000c")).toBe("a?b?c");
    expect(displayText("y".repeat(300))).toBe(`${"y".repeat(200)}...`);
    expect(displayText(`https://evil/${jwt}`)).not.toContain("eyJ");
  });

  it("withRedactedView hides the token from JSON and util.inspect but not from code", () => {
    const value = withRedactedView({ token: jwt, expiresOnTimestamp: 1 });
    expect(value.token).toBe(jwt);
    const { token } = value;
    expect(token).toBe(jwt);
    expect(JSON.stringify(value)).toBe(`{"token":"${REDACTED}","expiresOnTimestamp":1}`);
    expect(inspect(value)).not.toContain("eyJ");
    expect(Object.keys(value)).toEqual(["token", "expiresOnTimestamp"]);
  });

  it("isoTime and humanDuration print times for people", () => {
    expect(isoTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(isoTime(undefined)).toBeUndefined();
    expect(isoTime(Number.POSITIVE_INFINITY)).toBe("invalid time (Infinity)");
    expect([750, 42_000, 45 * 60_000, 24 * 3_600_000].map(humanDuration)).toEqual([
      "750 ms",
      "42 s",
      "45 min",
      "24 h",
    ]);
  });
});
