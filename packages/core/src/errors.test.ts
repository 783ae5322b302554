import { describe, expect, it } from "vitest";
import {
  describeOptionValue,
  InvalidOptionError,
  isEntraSqlError,
  isInvalidOptionError,
  TokenAcquisitionError,
} from "./errors.js";

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

describe("describeOptionValue", () => {
  it("renders short values and never a long string (a secret or token)", () => {
    expect(describeOptionValue(5)).toBe("5");
    expect(describeOptionValue("cli")).toBe('"cli"');
    expect(describeOptionValue(null)).toBe("null");
    expect(describeOptionValue([1])).toBe("an array");
    expect(describeOptionValue({ a: 1 })).toBe("an object");
    const secret = "x".repeat(61);
    expect(describeOptionValue(secret)).toBe("a string of 61 characters");
  });
});
