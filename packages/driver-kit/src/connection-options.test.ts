import { createTokenSource, type InvalidOptionError, isInvalidOptionError } from "@entra-sql/core";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionEvent } from "./connection-events.js";
import {
  CONNECTION_OPTION_DEFAULTS,
  CONNECTION_OPTION_NAMES,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./connection-options.js";
import { expectNoTokenIn, fakeJwt, SQL_SCOPE } from "./test-support/fake-jwt.js";
import { FakeCredential, FakeTokenSource } from "./test-support/fake-token-source.js";

// The options every adapter takes. Token sources the resolver creates are closed after each test.

const PACKAGE = "@entra-sql/some-adapter";
const KNOWN =
  "credential, identityOptions, tokenSource, tokenMode, scope, maxAgeInMs, maxAgeJitterRatio, tokenExpiryMarginInMs, onEvent";

const resolvedInTest: ResolvedConnectionOptions[] = [];
/** resolveConnectionOptions under the adapter's name; what it resolves is closed after the test. */
function resolve(options: unknown): ResolvedConnectionOptions {
  const resolved = resolveConnectionOptions(options, PACKAGE);
  resolvedInTest.push(resolved);
  return resolved;
}
const givenSources: { close(): void }[] = [];
afterEach(() => {
  for (const resolved of resolvedInTest.splice(0)) if (resolved.ownsTokenSource) resolved.tokenSource.close();
  for (const source of givenSources.splice(0)) source.close();
});

/** The InvalidOptionError `run` throws. */
function invalid(run: () => unknown): InvalidOptionError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isInvalidOptionError(thrown), String(thrown)).toBe(true);
  return thrown as InvalidOptionError;
}

/**
 * A credential that counts how often its `getToken` is looked up: createTokenSource validates the
 * credential it is given, so a count of 0 means no token source was created from it.
 */
function watchedCredential() {
  const inner = new FakeCredential();
  const watch = { lookups: 0, inner };
  const credential = {
    get getToken() {
      watch.lookups++;
      return inner.getToken.bind(inner);
    },
  };
  return { credential, watch };
}

describe("resolveConnectionOptions", () => {
  it("applies the defaults and creates (and owns) a default token source", () => {
    const resolved = resolve(undefined);
    expect(resolved).toMatchObject({
      tokenMode: "inline",
      scope: undefined,
      onEvent: undefined,
      packageName: PACKAGE,
    });
    expect(resolved.lifetime.settings).toEqual({
      maxAgeInMs: 30 * 60_000,
      maxAgeJitterRatio: 0.025,
      tokenExpiryMarginInMs: "auto",
    });
    expect(CONNECTION_OPTION_DEFAULTS).toEqual({ tokenMode: "inline", ...resolved.lifetime.settings });
    expect(resolved.ownsTokenSource).toBe(true);
    expect(resolved.tokenSource.defaultScope).toBe(SQL_SCOPE);
    expect(resolve({}).ownsTokenSource).toBe(true);
    expect(resolve({ maxAgeInMs: null }).lifetime.settings.maxAgeInMs).toBeNull();
  });

  it("uses a given TokenSource without owning it, or creates one from token source options", () => {
    const tokenSource = createTokenSource({ credential: "cli" });
    givenSources.push(tokenSource);
    expect(resolve({ tokenSource })).toMatchObject({ tokenSource, ownsTokenSource: false });
    const fake = new FakeTokenSource();
    expect(resolve({ tokenSource: fake })).toMatchObject({ tokenSource: fake, ownsTokenSource: false });
    const fromOptions = resolve({ tokenSource: { credential: "cli" } });
    expect(fromOptions.ownsTokenSource).toBe(true);
    expect(fromOptions.tokenSource).not.toBe(tokenSource);
    expect(fromOptions.tokenSource.defaultScope).toBe(SQL_SCOPE);
  });

  it("creates the token source from token source options, with their credential", async () => {
    const credential = new FakeCredential();
    const resolved = resolve({ tokenSource: { credential } });
    expect(credential.callCount).toBe(0);
    const token = await resolved.tokenSource.getToken(SQL_SCOPE);
    expect(credential.callCount).toBe(1);
    expect(token.token).toBe(credential.issued[0]);
  });

  it('accepts "auto", the default token expiry margin, given explicitly', () => {
    expect(resolve({ tokenExpiryMarginInMs: "auto" }).lifetime.settings.tokenExpiryMarginInMs).toBe("auto");
  });

  it("keeps the listener, the token mode and the lifetime options", () => {
    const onEvent = (_event: ConnectionEvent) => {};
    const resolved = resolve({
      onEvent,
      tokenMode: "token-credential",
      maxAgeInMs: 15 * 60_000,
      maxAgeJitterRatio: 0,
      tokenExpiryMarginInMs: 120_000,
    });
    expect(resolved).toMatchObject({ onEvent, tokenMode: "token-credential" });
    expect(resolved.lifetime.settings).toEqual({
      maxAgeInMs: 15 * 60_000,
      maxAgeJitterRatio: 0,
      tokenExpiryMarginInMs: 120_000,
    });
  });

  it("keeps a scope in both token modes (token-credential: the only scope a server may ask for)", () => {
    const scope = "https://database.usgovcloudapi.net/.default";
    expect(resolve({ scope })).toMatchObject({ scope, tokenMode: "inline" });
    expect(resolve({ tokenMode: "token-credential", scope })).toMatchObject({
      scope,
      tokenMode: "token-credential",
    });
  });

  it.each([
    [[], "options", "[]", `an object of ${PACKAGE} options, or nothing`],
    ["cli", "options", '"cli"', `an object of ${PACKAGE} options, or nothing`],
    [{ tokenMode: "password" }, "tokenMode", '"password"', '"inline" or "token-credential"'],
    [{ tokenMode: ["inline"] }, "tokenMode", '["inline"]', '"inline" or "token-credential"'],
    [{ scope: "" }, "scope", '""', "a token scope"],
    [{ scope: "  " }, "scope", '"  "', "a token scope"],
    [{ scope: 5 }, "scope", "5", "a token scope"],
    [{ onEvent: "log" }, "onEvent", '"log"', "a function"],
    [{ maxAgeInMs: 0 }, "maxAgeInMs", "0", "a positive number of milliseconds"],
    [{ maxAgeInMs: -1 }, "maxAgeInMs", "-1", "a positive number of milliseconds"],
    [{ maxAgeInMs: 30 }, "maxAgeInMs", "30", "30 ms looks like seconds"],
    [{ maxAgeJitterRatio: 0.7 }, "maxAgeJitterRatio", "0.7", "[0, 0.5)"],
    [{ tokenExpiryMarginInMs: Number.NaN }, "tokenExpiryMarginInMs", "NaN", "expected"],
    [{ tokenExpiryMarginInMs: "60s" }, "tokenExpiryMarginInMs", '"60s"', "a finite number of milliseconds"],
    [{ tokenSource: "default" }, "tokenSource", '"default"', "a TokenSource from createTokenSource()"],
    [{ tokenSource: ["cli"] }, "tokenSource", '["cli"]', "a TokenSource from createTokenSource()"],
    [
      { tokenSource: { getToken: async () => null } },
      "tokenSource",
      "a TokenCredential without getTokenDetails/invalidate",
      'a TokenSource (createTokenSource({ credential }) from "@entra-sql/core"), or pass the credential as "credential"',
    ],
    [{ tokenSource: { refreshWindowInMs: -5 } }, "tokenSource.refreshWindowInMs", "-5", "expected"],
    [{ tokenSource: { identityOptions: 5 } }, "tokenSource.identityOptions", "5", "@azure/identity"],
    [{ credential: "nope" }, "credential", '"nope"', "expected"],
    [{ credential: ["cli", "nope"] }, "credential[1]", '"nope"', "expected"],
    [{ identityOptions: "eu" }, "identityOptions", '"eu"', "an object of @azure/identity credential options"],
  ])(
    "refuses %o, naming %s, the value and the fix under the adapter's name",
    (options, option, value, fix) => {
      const error = invalid(() => resolve(options));
      expect(error.option).toBe(option);
      expect(error.value).toBe(value);
      expect(error.message).toMatch(new RegExp(`^${PACKAGE.replace("/", "\\/")}: option "`));
      expect(error.message).toContain(value);
      expect(error.message).toContain(fix);
    },
  );

  it("says the whole message: option, value and expected", () => {
    expect(invalid(() => resolve({ maxAgeInMs: -5 })).message).toBe(
      `${PACKAGE}: option "maxAgeInMs" is -5; expected a positive number of milliseconds (e.g. 1800000), or null / Infinity to disable the age cap.`,
    );
  });

  it("refuses a max age of 30 under the adapter's name, as seconds written where ms are expected", () => {
    const error = invalid(() => resolve({ maxAgeInMs: 30 }));
    expect(error.option).toBe("maxAgeInMs");
    expect(error.message).toMatch(/^@entra-sql\/some-adapter: option "maxAgeInMs" is 30; expected /);
    expect(error.message).toContain("seconds");
    expect(error.message).toContain("30 * 1000");
    expect(resolve({ maxAgeInMs: 1000 }).lifetime.settings.maxAgeInMs).toBe(1000);
  });

  it("keeps the lifetime policy's and the token source's own error as the cause", () => {
    for (const options of [{ maxAgeJitterRatio: 1 }, { tokenSource: { refreshWindowInMs: -5 } }]) {
      const error = invalid(() => resolve(options));
      expect(isInvalidOptionError(error.cause)).toBe(true);
      expect((error.cause as Error).message).toMatch(/^@entra-sql\/core: /);
    }
  });

  it("refuses unknown keys, naming them and the known ones", () => {
    expect(CONNECTION_OPTION_NAMES.join(", ")).toBe(KNOWN);
    const error = invalid(() => resolve({ maxAgeMs: 5 }));
    expect(error.option).toBe("maxAgeMs");
    expect(error.message).toBe(
      `${PACKAGE}: option "maxAgeMs" is not a known option; expected one of ${KNOWN}.`,
    );
  });

  it("never shows a token given as an option's value", () => {
    const token = fakeJwt({ serial: 7, issuedAtTimestamp: 0, expiresOnTimestamp: 3_600_000 });
    const errors = [
      invalid(() => resolve({ onEvent: token })),
      invalid(() => resolve({ tokenMode: token })),
      invalid(() => resolve({ credential: token })),
      invalid(() => resolve({ tokenSource: { credential: "cli" }, credential: { token } })),
    ];
    expect(errors.map((error) => error.option)).toEqual(["onEvent", "tokenMode", "credential", "credential"]);
    expectNoTokenIn(errors, [token]);
  });

  it("never creates a token source when another option is invalid", () => {
    const { credential, watch } = watchedCredential();
    for (const options of [
      { tokenSource: { credential }, maxAgeInMs: -1 },
      { tokenSource: { credential }, maxAgeInMs: 30 },
      { credential, onEvent: 1 },
      { credential, tokenMode: "password" },
      { credential, scope: "" },
      { credential, maxAgeJitterRatio: 0.5 },
      { tokenSource: { credential }, unknown: 1 },
    ]) {
      invalid(() => resolve(options));
    }
    expect(watch.lookups).toBe(0);
    // The control: resolving the same credential validly does create a source from it.
    expect(resolve({ credential }).ownsTokenSource).toBe(true);
    expect(watch.lookups).toBeGreaterThan(0);
  });
});

describe("the credential shortcut and identityOptions", () => {
  it("takes a credential for tokenSource: { credential }, and owns the source it creates from it", async () => {
    const credential = new FakeCredential();
    const resolved = resolve({ credential });
    expect(resolved.ownsTokenSource).toBe(true);
    const token = await resolved.tokenSource.getToken(SQL_SCOPE);
    expect(credential.callCount).toBe(1);
    expect(token.token).toBe(credential.issued[0]);
  });

  it("hands identityOptions to the token source it creates (its errors name the option as given)", () => {
    const credential = new FakeCredential();
    const resolved = resolve({ credential, identityOptions: { disableInstanceDiscovery: true } });
    expect(resolved.ownsTokenSource).toBe(true);
    expect(resolve({ identityOptions: { additionallyAllowedTenants: ["*"] } }).ownsTokenSource).toBe(true);

    // Only the token source validates identityOptions: an error naming it proves it got there.
    const error = invalid(() => resolve({ credential, identityOptions: "eu" }));
    expect(error.option).toBe("identityOptions");
    expect(error.message).toMatch(/^@entra-sql\/some-adapter: option "identityOptions" is "eu"; expected /);
    expect(isInvalidOptionError(error.cause)).toBe(true);
    expect((error.cause as InvalidOptionError).option).toBe("identityOptions");
  });

  it.each([
    ["credential", { credential: "cli" }],
    ["identityOptions", { identityOptions: { disableInstanceDiscovery: true } }],
  ])("refuses %s together with tokenSource, naming both", (name, shortcut) => {
    for (const tokenSource of [{}, { credential: "cli" }, new FakeTokenSource()]) {
      const error = invalid(() => resolve({ ...shortcut, tokenSource }));
      expect(error.option).toBe(name);
      expect(error.message).toContain(`either "${name}" or "tokenSource", not both`);
      expect(error.message).toContain(`tokenSource: { ${name}, ... }`);
    }
  });

  it("lists credential and identityOptions among the known options", () => {
    expect(invalid(() => resolve({ maxAge: 1 })).message).toContain(
      'option "maxAge" is not a known option; expected one of credential, identityOptions, tokenSource, tokenMode',
    );
  });
});
