import { afterEach, describe, expect, it, vi } from "vitest";
import { type ConnectionEvent, safeEmitter } from "./connection-events.js";
import {
  CONNECTION_OPTION_DEFAULTS,
  type ResolveConnectionOptionsSettings,
  resolveConnectionOptions,
} from "./connection-options.js";
import { type InvalidOptionError, isInvalidOptionError } from "./errors.js";
import { createTokenSource } from "./token-source.js";

// The adapters' shared options (moved here from @entra-sql/mssql's and @entra-sql/knex's options
// tests). createTokenSource is wrapped only to count how many token sources the resolver creates.
const created = vi.hoisted(() => ({ sources: [] as { close(): void }[] }));
vi.mock("./token-source.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./token-source.js")>();
  return {
    ...actual,
    createTokenSource: (...args: Parameters<typeof actual.createTokenSource>) => {
      const source = actual.createTokenSource(...args);
      created.sources.push(source);
      return source;
    },
  };
});
afterEach(() => {
  for (const source of created.sources.splice(0)) source.close();
});

const PACKAGE = "@entra-sql/some-adapter";
const adapter: ResolveConnectionOptionsSettings = { packageName: PACKAGE };
const withShortcut: ResolveConnectionOptionsSettings = { packageName: PACKAGE, credentialShortcut: true };

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

describe("resolveConnectionOptions", () => {
  it("applies the defaults and creates (and owns) a default token source", () => {
    const resolved = resolveConnectionOptions(undefined, adapter);
    expect(resolved).toMatchObject({ tokenMode: "inline", scope: undefined, onEvent: undefined });
    expect(resolved.lifetime.settings).toEqual({
      maxAgeInMs: 30 * 60_000,
      maxAgeJitterRatio: 0.025,
      tokenExpiryMarginInMs: 60_000,
    });
    expect(CONNECTION_OPTION_DEFAULTS).toEqual({ tokenMode: "inline", ...resolved.lifetime.settings });
    expect(resolved.ownsTokenSource).toBe(true);
    expect(created.sources).toEqual([resolved.tokenSource]);
    expect(resolveConnectionOptions({ maxAgeInMs: null }, adapter).lifetime.settings.maxAgeInMs).toBeNull();
  });

  it("uses a given TokenSource without owning it, or creates one from token source options", () => {
    const tokenSource = createTokenSource({ credential: "cli" });
    expect(resolveConnectionOptions({ tokenSource }, adapter)).toMatchObject({
      tokenSource,
      ownsTokenSource: false,
    });
    const fromOptions = resolveConnectionOptions({ tokenSource: { credential: "cli" } }, adapter);
    expect(fromOptions.ownsTokenSource).toBe(true);
    expect(fromOptions.tokenSource.defaultScope).toBe("https://database.windows.net/.default");
  });

  it("keeps the listener", () => {
    const onEvent = (_event: ConnectionEvent) => {};
    const resolved = resolveConnectionOptions({ onEvent, tokenMode: "token-credential" }, adapter);
    expect(resolved).toMatchObject({ onEvent, tokenMode: "token-credential" });
  });

  it.each([
    [[], "options", "an array", `an object of ${PACKAGE} options, or nothing`],
    [{ tokenMode: "password" }, "tokenMode", '"password"', '"inline" or "token-credential"'],
    [{ scope: "" }, "scope", '""', "a token scope"],
    [{ scope: 5 }, "scope", "5", "a token scope"],
    [
      { tokenMode: "token-credential", scope: "https://database.windows.net/.default" },
      "scope",
      "https://database.windows.net/.default",
      'no scope with tokenMode "token-credential"',
    ],
    [{ onEvent: "log" }, "onEvent", '"log"', "a function"],
    [{ maxAgeInMs: 0 }, "maxAgeInMs", "0", "a positive number of milliseconds"],
    [{ maxAgeInMs: -1 }, "maxAgeInMs", "-1", "a positive number of milliseconds"],
    [{ maxAgeJitterRatio: 0.7 }, "maxAgeJitterRatio", "0.7", "[0, 0.5)"],
    [{ tokenExpiryMarginInMs: Number.NaN }, "tokenExpiryMarginInMs", "NaN", "expected"],
    [{ tokenSource: "default" }, "tokenSource", '"default"', "a TokenSource from createTokenSource()"],
    [
      { tokenSource: { getToken: async () => null } },
      "tokenSource",
      "a TokenCredential without getTokenDetails/invalidate",
      "wrap the credential with createTokenSource({ credential })",
    ],
    [{ tokenSource: { refreshWindowInMs: -5 } }, "tokenSource.refreshWindowInMs", "-5", "expected"],
  ])(
    "refuses %o, naming %s, the value and the fix under the adapter's name",
    (options, option, value, fix) => {
      const error = invalid(() => resolveConnectionOptions(options, adapter));
      expect(error.option).toBe(option);
      expect(error.message).toMatch(new RegExp(`^${PACKAGE.replace("/", "\\/")}: option "`));
      expect(error.message).toContain(value);
      expect(error.message).toContain(fix);
      expect(created.sources).toEqual([]);
    },
  );

  it("says the whole message: option, value and expected", () => {
    expect(invalid(() => resolveConnectionOptions({ maxAgeInMs: -5 }, adapter)).message).toBe(
      `${PACKAGE}: option "maxAgeInMs" is -5; expected a positive number of milliseconds (e.g. 1800000), or null / Infinity to disable the age cap.`,
    );
  });

  it("keeps the lifetime policy's and the token source's own error as the cause", () => {
    const error = invalid(() => resolveConnectionOptions({ maxAgeJitterRatio: 1 }, adapter));
    expect(isInvalidOptionError(error.cause)).toBe(true);
    expect((error.cause as Error).message).toMatch(/^@entra-sql\/core: /);
  });

  it("refuses unknown keys, naming them and the known ones", () => {
    const error = invalid(() => resolveConnectionOptions({ maxAgeMs: 5 }, adapter));
    expect(error.option).toBe("maxAgeMs");
    expect(error.message).toContain(
      "is not a known option; expected one of tokenSource, tokenMode, scope, maxAgeInMs, maxAgeJitterRatio, tokenExpiryMarginInMs, onEvent.",
    );
    expect(invalid(() => resolveConnectionOptions({ credential: "cli" }, adapter)).option).toBe("credential");
  });

  it("never creates a token source when another option is invalid", () => {
    for (const options of [
      { tokenSource: { credential: "cli" }, maxAgeInMs: -1 },
      { credential: "cli", onEvent: 1 },
      { credential: "cli", tokenMode: "password" },
      { tokenSource: { credential: "cli" }, unknown: 1 },
    ]) {
      invalid(() => resolveConnectionOptions(options, withShortcut));
    }
    expect(created.sources).toEqual([]);
  });
});

describe("resolveConnectionOptions with the credential shortcut", () => {
  it("takes a credential for tokenSource: { credential }, and owns the source it creates", () => {
    const resolved = resolveConnectionOptions({ credential: "cli" }, withShortcut);
    expect(resolved.ownsTokenSource).toBe(true);
    expect(created.sources).toEqual([resolved.tokenSource]);
  });

  it("lists credential first among the known options", () => {
    expect(invalid(() => resolveConnectionOptions({ maxAge: 1 }, withShortcut)).message).toMatch(
      /option "maxAge" is not a known option; expected one of credential, tokenSource, tokenMode/,
    );
  });

  it("refuses both together, names the credential's own options without a prefix", () => {
    expect(
      invalid(() => resolveConnectionOptions({ credential: "cli", tokenSource: {} }, withShortcut)).option,
    ).toBe("credential");
    expect(invalid(() => resolveConnectionOptions({ credential: "nope" }, withShortcut)).option).toBe(
      "credential",
    );
    expect(
      invalid(() => resolveConnectionOptions({ tokenSource: { getToken() {} } }, withShortcut)).message,
    ).toContain('or pass the credential as "credential"');
    expect(created.sources).toEqual([]);
  });
});

describe("safeEmitter", () => {
  it("builds nothing without a listener and never lets a listener throw", () => {
    const build = vi.fn((): ConnectionEvent => ({ type: "login-retried", verdict: "expired", scope: "s" }));
    safeEmitter<ConnectionEvent>(undefined)(build);
    expect(build).not.toHaveBeenCalled();
    const seen: ConnectionEvent[] = [];
    safeEmitter<ConnectionEvent>((event) => seen.push(event))(build);
    expect(seen).toEqual([{ type: "login-retried", verdict: "expired", scope: "s" }]);
    expect(() =>
      safeEmitter<ConnectionEvent>(() => {
        throw new Error("listener bug");
      })(build),
    ).not.toThrow();
  });
});
