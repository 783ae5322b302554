import { isEntraSqlError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import {
  isSessionTokenExpiredError,
  type SessionTokenExpiredDuring,
  SessionTokenExpiredError,
} from "./session-token-expired-error.js";

const driverError = () =>
  Object.assign(new Error("Query cannot be executed, access token is expired."), { number: 37396 });

describe("SessionTokenExpiredError", () => {
  it("carries the case, error number 37396, the adapter's name and the driver's error as cause", () => {
    const cause = driverError();
    const error = new SessionTokenExpiredError("retry", { cause, packageName: "@entra-sql/mssql" });
    expect(error).toMatchObject({ name: "SessionTokenExpiredError", during: "retry", number: 37396 });
    expect(error.message).toMatch(
      /^@entra-sql\/mssql: the server refused a statement because the login token of its session expired \(error 37396/,
    );
    expect(error.cause).toBe(cause);
    expect(isEntraSqlError(error)).toBe(true);
  });

  it.each<[SessionTokenExpiredDuring, string]>([
    ["transaction", "the transaction was NOT committed"],
    ["begin", "Nothing of the transaction ran"],
    ["prepared-statement", "unprepare()"],
    ["retry", "again after one retry"],
    ["stream", "had already delivered results"],
  ])("says what to do during %s", (during, advice) => {
    const error = new SessionTokenExpiredError(during, { cause: undefined, packageName: "p" });
    expect(error.during).toBe(during);
    expect(error.message).toContain(advice);
  });

  it("gives each case its own advice", () => {
    const cases: SessionTokenExpiredDuring[] = [
      "transaction",
      "begin",
      "prepared-statement",
      "retry",
      "stream",
    ];
    const messages = cases.map(
      (during) => new SessionTokenExpiredError(during, { cause: 1, packageName: "p" }).message,
    );
    expect(new Set(messages).size).toBe(cases.length);
  });

  it("is recognised by name, also from a subclass or another copy of the package", () => {
    class AdapterError extends SessionTokenExpiredError {}
    expect(
      isSessionTokenExpiredError(new AdapterError("stream", { cause: undefined, packageName: "p" })),
    ).toBe(true);
    const fromAnotherCopy = Object.assign(new Error("x"), { name: "SessionTokenExpiredError" });
    expect(isSessionTokenExpiredError(fromAnotherCopy)).toBe(true);
    expect(isSessionTokenExpiredError(driverError())).toBe(false);
    expect(isSessionTokenExpiredError(undefined)).toBe(false);
  });
});
