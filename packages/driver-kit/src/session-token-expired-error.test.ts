import { isEntraSqlError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import {
  isSessionTokenExpiredError,
  isUnnamedRefusal,
  nameRefusal,
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

describe("isUnnamedRefusal and nameRefusal", () => {
  it("names a driver's 37396 once, and leaves every other error as it is", () => {
    const refusal = driverError();
    expect(isUnnamedRefusal(refusal)).toBe(true);
    const named = nameRefusal(refusal, "begin", "@entra-sql/knex");
    expect(isSessionTokenExpiredError(named)).toBe(true);
    expect(named).toMatchObject({ during: "begin", cause: refusal });
    expect((named as Error).message).toMatch(/^@entra-sql\/knex: /);

    expect(isUnnamedRefusal(named)).toBe(false);
    expect(nameRefusal(named, "transaction", "p")).toBe(named);
    const other = new Error("Invalid object name 'users'.");
    expect(isUnnamedRefusal(other)).toBe(false);
    expect(nameRefusal(other, "begin", "p")).toBe(other);
    for (const nothing of [undefined, null]) {
      expect(isUnnamedRefusal(nothing)).toBe(false);
      expect(nameRefusal(nothing, "begin", "p")).toBe(nothing);
    }
  });

  it("recognises a refusal the driver wrapped (mssql's RequestError keeps it in originalError)", () => {
    const wrapped = Object.assign(new Error("RequestError"), { originalError: driverError() });
    expect(isUnnamedRefusal(wrapped)).toBe(true);
    expect(nameRefusal(wrapped, "prepared-statement", "p")).toMatchObject({ cause: wrapped });
  });
});
