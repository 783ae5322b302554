import { describe, expect, it } from "vitest";
import {
  InvalidOptionError,
  isEntraSqlError,
  isInvalidOptionError,
  ScopeNotAllowedError,
  TokenAcquisitionError,
  UnknownSqlHostError,
} from "./errors.js";
import { SQL_SCOPES } from "./sql-audiences.js";
import { fakeJwt } from "./test-support/fake-clock-credential.js";

describe("InvalidOptionError", () => {
  it("names the option, the value and the expected form, under core's name by default", () => {
    const error = new InvalidOptionError("refreshWindowInMs", "-1", "a number of ms >= 0");
    expect(error.message).toBe(
      '@entra-sql/core: option "refreshWindowInMs" is -1; expected a number of ms >= 0.',
    );
    expect(error.cause).toBeUndefined();
    expect(isInvalidOptionError(error) && isEntraSqlError(error)).toBe(true);
  });

  it("carries the owning package's name and a cause for the adapters", () => {
    const cause = new Error("inner");
    const error = new InvalidOptionError("pool.max", "0", "an integer >= 1", {
      packageName: "@entra-sql/mssql",
      cause,
    });
    expect(error.message).toMatch(/^@entra-sql\/mssql: option "pool.max" is 0;/);
    expect(error.cause).toBe(cause);
  });
});

describe("isEntraSqlError", () => {
  it("recognises every error of the package by its brand, and nothing else", () => {
    expect(isEntraSqlError(new TokenAcquisitionError("s", []))).toBe(true);
    expect(isEntraSqlError(Object.assign(new Error("x"), { name: "InvalidOptionError" }))).toBe(false);
    expect(isEntraSqlError(null)).toBe(false);
  });
});

describe("errors that show text someone else chose", () => {
  it("ScopeNotAllowedError never shows a token or control characters from the scope", () => {
    const jwt = fakeJwt(3);
    const error = new ScopeNotAllowedError(`https://evil.example/${jwt}\r\n\u001b[31m/.default`, SQL_SCOPES);
    for (const text of [error.message, error.scope]) {
      expect(text).not.toContain("eyJ");
      for (const segment of jwt.split(".")) expect(text).not.toContain(segment);
      expect(text).not.toMatch(/\p{Cc}/u);
    }
    expect(error.scope).toBe("https://evil.example/[redacted token]???[31m/.default");
  });

  it("UnknownSqlHostError shows the host the same way", () => {
    const error = new UnknownSqlHostError(`sql.example\n${fakeJwt(4)}`);
    expect(error.message).not.toContain("eyJ");
    expect(error.host).toBe("sql.example?[redacted token]");
  });
});

describe("TokenAcquisitionError", () => {
  const outage = {
    source: "ClientSecretCredential",
    kind: "transient",
    message: "temporarily_unavailable",
  } as const;

  it("says the identity provider is unreachable or failing when no source was refused, and that the next request retries", () => {
    const error = new TokenAcquisitionError(
      "https://database.windows.net/.default",
      [
        {
          source: "AzureCliCredential",
          kind: "unavailable",
          message: "Please run 'az login'",
          fix: "Run `az login`.",
        },
        outage,
      ],
      { cachedTokenExpiresOnTimestamp: Date.UTC(2020, 0, 1) },
    );
    expect(error.message).toBe(
      '@entra-sql/core: could not get a token for "https://database.windows.net/.default": the identity ' +
        "provider is unreachable or failing right now (no credential was refused). The last token for this " +
        "scope expired at 2020-01-01T00:00:00.000Z. The next request for a token tries again. Sources tried:\n" +
        "  - AzureCliCredential (unavailable): Please run 'az login'\n    fix: Run `az login`.\n" +
        "  - ClientSecretCredential (transient): temporarily_unavailable",
    );
    expect(error.cachedTokenExpiresOnTimestamp).toBe(Date.UTC(2020, 0, 1));
  });

  it("says until when a cached token is still valid", () => {
    const until = Date.now() + 60_000;
    const error = new TokenAcquisitionError("s", [outage], { cachedTokenExpiresOnTimestamp: until });
    expect(error.message).toContain(
      `The last token for this scope is valid until ${new Date(until).toISOString()}.`,
    );
  });

  it("keeps the plain headline when a source was refused, and never prints undefined", () => {
    const error = new TokenAcquisitionError("s", [
      outage,
      { source: "custom[1]", kind: "authentication", message: "refused" },
    ]);
    expect(error.message).toMatch(/^@entra-sql\/core: could not get a token for "s"\. Sources tried:/);
    expect(error.message).not.toContain("undefined");
    expect(error.message).not.toContain("fix:");
    expect(new TokenAcquisitionError("s", []).message).toContain("No source was tried.");
  });
});
