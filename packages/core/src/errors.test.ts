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
