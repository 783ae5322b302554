import { describe, expect, it } from "vitest";
import { type InvalidOptionError, isInvalidOptionError } from "./errors.js";
import { FakeClockCredential, fakeJwt } from "./test-support/fake-clock-credential.js";
import { DEFAULTS } from "./token-source-options.js";
import { MAX_TIMER_DELAY_IN_MS, resolveTokenSourceOptions } from "./validate-options.js";

function failure(options: unknown): InvalidOptionError {
  try {
    resolveTokenSourceOptions(options);
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error(`expected InvalidOptionError for ${String(options)}`);
}

const secret = "abc8Q~not-a-real-secret-but-long-enough";
const token = fakeJwt(1);

// [rule, options, option named, value printed (substring), expected form (substring)]
const rejected: [string, unknown, string, string, string][] = [
  ["options must be an object", "cli", "options", '"cli"', "an object of token source options"],
  ["options may not be a list", ["cli"], "options", '["cli"]', "an object"],
  [
    "unknown key, with a suggestion",
    { refreshWindowMs: 1 },
    "refreshWindowMs",
    "not a known option",
    'did you mean "refreshWindowInMs"?',
  ],
  [
    "unknown key lists the valid ones",
    { foo: 1 },
    "foo",
    "not a known option",
    "credential, scope, allowedScopes",
  ],
  [
    "unknown key: its value is never printed",
    { clientSecret: secret },
    "clientSecret",
    "not a known option",
    "one of",
  ],
  ["case-insensitive suggestion", { Scope: "x" }, "Scope", "not a known option", 'did you mean "scope"?'],
  ["credential: unknown preset name", { credential: "azure-cli" }, "credential", '"azure-cli"', '"cli"'],
  [
    "credential: a token pasted as credential is not printed",
    { credential: token },
    "credential",
    "[redacted]",
    "preset name",
  ],
  [
    "credential: preset object with unknown type",
    { credential: { type: "secret-principal", clientSecret: secret } },
    "credential.type",
    '"secret-principal"',
    '"service-principal"',
  ],
  [
    "credential: a preset object's fields are checked too",
    { credential: { type: "managed-identity", clientId: "orders" } },
    "credential.clientId",
    '"orders"',
    "a client id (GUID)",
  ],
  [
    "credential: object with no type and no getToken",
    { credential: { clientId: "x" } },
    "credential",
    '{ clientId: "x" }',
    "TokenCredential",
  ],
  [
    "credential: getToken that is not a function",
    { credential: { getToken: "nope" } },
    "credential",
    "getToken",
    "TokenCredential",
  ],
  ["credential: empty list", { credential: [] }, "credential", "an empty list", "non-empty list"],
  [
    "credential: bad list entry is named by index",
    { credential: ["cli", 42] },
    "credential[1]",
    "42",
    "preset name",
  ],
  ["credential: nested list", { credential: [["cli"]] }, "credential[0]", "a nested list", "a preset"],
  ["credential: null", { credential: null }, "credential", "null", "preset name"],
  ["scope: not a string", { scope: 5 }, "scope", "5", '"/.default"'],
  [
    "scope: resource form without /.default",
    { scope: "https://database.windows.net/" },
    "scope",
    '"https://database.windows.net/"',
    '"/.default"',
  ],
  [
    "scope: not allowed (Graph)",
    { scope: "https://graph.microsoft.com/.default" },
    "scope",
    "graph.microsoft.com",
    "allowedScopes allows",
  ],
  [
    "scope: not in a custom allow-list",
    {
      scope: "https://database.windows.net/.default",
      allowedScopes: ["https://database.usgovcloudapi.net/.default"],
    },
    "scope",
    "database.windows.net",
    "usgovcloudapi",
  ],
  [
    "allowedScopes: not a list",
    { allowedScopes: "https://database.windows.net/.default" },
    "allowedScopes",
    "",
    "non-empty list",
  ],
  ["allowedScopes: empty list", { allowedScopes: [] }, "allowedScopes", "an empty list", "non-empty list"],
  ["allowedScopes: empty string entry", { allowedScopes: [""] }, "allowedScopes[0]", '""', "https URL"],
  [
    "allowedScopes: non-string entry",
    { allowedScopes: ["https://database.windows.net/.default", 3] },
    "allowedScopes[1]",
    "3",
    "https URL",
  ],
  ["refreshWindowInMs: negative", { refreshWindowInMs: -1 }, "refreshWindowInMs", "-1", ">= 0"],
  ["refreshWindowInMs: NaN", { refreshWindowInMs: Number.NaN }, "refreshWindowInMs", "NaN", "finite number"],
  [
    "refreshWindowInMs: Infinity",
    { refreshWindowInMs: Number.POSITIVE_INFINITY },
    "refreshWindowInMs",
    "Infinity",
    "finite number",
  ],
  [
    "refreshWindowInMs: a string",
    { refreshWindowInMs: "45m" },
    "refreshWindowInMs",
    '"45m"',
    "default 2700000, 45 min",
  ],
  ["minimumValidityInMs: negative", { minimumValidityInMs: -5 }, "minimumValidityInMs", "-5", ">= 0"],
  [
    "minimumValidityInMs must be below refreshWindowInMs",
    { minimumValidityInMs: 10, refreshWindowInMs: 10 },
    "minimumValidityInMs",
    "10",
    "less than refreshWindowInMs (10)",
  ],
  [
    "a small refresh window vs the default minimum validity",
    { refreshWindowInMs: 60_000 },
    "refreshWindowInMs",
    "60000",
    "more than minimumValidityInMs (600000, the default)",
  ],
  [
    "retryInitialDelayInMs: zero would never grow",
    { retryInitialDelayInMs: 0 },
    "retryInitialDelayInMs",
    "0",
    "from 1 to 2147483647",
  ],
  [
    "retryMaxDelayInMs: beyond what setTimeout can wait",
    { retryMaxDelayInMs: MAX_TIMER_DELAY_IN_MS + 1 },
    "retryMaxDelayInMs",
    "2147483648",
    "from 1 to 2147483647",
  ],
  [
    "retryInitialDelayInMs must not exceed retryMaxDelayInMs",
    { retryInitialDelayInMs: 5_000, retryMaxDelayInMs: 1_000 },
    "retryInitialDelayInMs",
    "5000",
    "at most retryMaxDelayInMs (1000)",
  ],
  [
    "a small retry max vs the default initial delay",
    { retryMaxDelayInMs: 500 },
    "retryMaxDelayInMs",
    "500",
    "at least retryInitialDelayInMs (1000, the default)",
  ],
  [
    "identityOptions: not an object",
    { identityOptions: "https://login.microsoftonline.us" },
    "identityOptions",
    "login.microsoftonline.us",
    "authorityHost",
  ],
  ["logger: not a function", { logger: console }, "logger", "log", "a function"],
  ["onEvent: not a function", { onEvent: true }, "onEvent", "true", "a function"],
];

describe("resolveTokenSourceOptions rejects", () => {
  it.each(rejected)("%s", (_, options, option, value, expected) => {
    const error = failure(options);
    expect(error.option).toBe(option);
    expect(error.value).toContain(value);
    expect(error.expected).toContain(expected);
    expect(error.message).toMatch(/^@entra-sql\/core: option "/);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain("eyJ");
  });
});

describe("resolveTokenSourceOptions accepts", () => {
  it("nothing, and resolves every default in one place", () => {
    const resolved = resolveTokenSourceOptions(undefined);
    expect(resolved).toMatchObject({
      credential: "default",
      scope: DEFAULTS.scope,
      refreshWindowInMs: 45 * 60_000,
      minimumValidityInMs: 10 * 60_000,
      retryInitialDelayInMs: 1_000,
      retryMaxDelayInMs: 60_000,
      logger: undefined,
      onEvent: undefined,
    });
    expect(resolved.scopeGuard.isAllowed("https://database.usgovcloudapi.net/.default")).toBe(true);
    expect(resolved.scopeGuard.isAllowed("https://graph.microsoft.com/.default")).toBe(false);
  });

  it("keys set to undefined as if they were absent", () => {
    expect(resolveTokenSourceOptions({ scope: undefined, refreshWindowInMs: undefined }).scope).toBe(
      DEFAULTS.scope,
    );
  });

  it.each([
    ["a preset name", { credential: "managed-identity" }],
    [
      "a preset object",
      { credential: { type: "managed-identity", clientId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0" } },
    ],
    ["a TokenCredential", { credential: new FakeClockCredential() }],
    ["a list of all three", { credential: ["cli", { type: "developer-cli" }, new FakeClockCredential()] }],
    ["the double-slash spelling of the SQL scope", { scope: "https://database.windows.net//.default" }],
    [
      "a custom allow-list with its scope",
      { scope: "https://sql.contoso.com/.default", allowedScopes: ["https://sql.contoso.com/.default"] },
    ],
    ["zero windows where allowed", { refreshWindowInMs: 1, minimumValidityInMs: 0 }],
    ["equal retry delays", { retryInitialDelayInMs: 5_000, retryMaxDelayInMs: 5_000 }],
    ["functions for logger and onEvent", { logger: () => {}, onEvent: () => {} }],
    ["identity options", { identityOptions: { authorityHost: "https://login.microsoftonline.us" } }],
  ])("%s", (_, options) => {
    expect(() => resolveTokenSourceOptions(options)).not.toThrow();
  });
});
