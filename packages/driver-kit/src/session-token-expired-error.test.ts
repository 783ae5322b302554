import { describe, expect, it } from "vitest";
import { isEntraSqlError } from "./errors.js";
import { isSessionTokenExpiredError, SessionTokenExpiredError } from "./session-token-expired-error.js";

describe("SessionTokenExpiredError", () => {
  it("carries the adapter's case, error number 37396, its message and the driver's error as cause", () => {
    const driverError = Object.assign(new Error("Query cannot be executed, access token is expired."), {
      number: 37396,
    });
    const error = new SessionTokenExpiredError<"transaction" | "retry">("retry", "my-adapter: refused", {
      cause: driverError,
    });
    expect(error).toMatchObject({ name: "SessionTokenExpiredError", during: "retry", number: 37396 });
    expect(error.message).toBe("my-adapter: refused");
    expect(error.cause).toBe(driverError);
    expect(isEntraSqlError(error)).toBe(true);
  });

  it("is recognised by name, also from a subclass or another copy of the package", () => {
    class AdapterError extends SessionTokenExpiredError<"stream"> {}
    expect(isSessionTokenExpiredError(new AdapterError("stream", "x", { cause: undefined }))).toBe(true);
    const fromAnotherCopy = Object.assign(new Error("x"), { name: "SessionTokenExpiredError" });
    expect(isSessionTokenExpiredError(fromAnotherCopy)).toBe(true);
    expect(isSessionTokenExpiredError(new Error("x"))).toBe(false);
    expect(isSessionTokenExpiredError(undefined)).toBe(false);
  });
});
