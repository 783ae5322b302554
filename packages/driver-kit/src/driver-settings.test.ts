import { type InvalidOptionError, isInvalidOptionError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import { checkTarnPoolOptions, refuseAuthenticationSettings } from "./driver-settings.js";
import { expectNoTokenIn, fakeJwt } from "./test-support/fake-jwt.js";

const PACKAGE = "@entra-sql/some-adapter";

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

describe("refuseAuthenticationSettings", () => {
  const token = fakeJwt({ serial: 3, issuedAtTimestamp: 0, expiresOnTimestamp: 3_600_000 });

  it.each([
    ["authentication", { type: "azure-active-directory-access-token", options: { token } }],
    ["authentication_type", "ActiveDirectoryPassword"],
    ["type", "default"],
    ["token", token],
    ["credential", { getToken: async () => null }],
    ["user", "sa"],
    ["userName", "sa"],
    ["password", "hunter2-secret"],
    ["domain", "CONTOSO"],
    ["clientId", "cccccccc-3333-4444-5555-dddddddddddd"],
    ["clientSecret", "abc8Q~secret-value-that-is-long-enough"],
    ["tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47"],
    ["msiEndpoint", "http://169.254.169.254/"],
    ["msiSecret", "s3cr3t"],
  ])("refuses %s under the adapter's name, never showing its value", (key, value) => {
    const error = invalid(() =>
      refuseAuthenticationSettings({ server: "db", [key]: value }, "config", PACKAGE),
    );
    expect(error.option).toBe(`config.${key}`);
    expect(error.value).toBe("set (value not shown)");
    expect(error.message).toMatch(new RegExp(`^@entra-sql/some-adapter: option "config\\.${key}" is set`));
    expect(error.message).toContain("remove it");
    if (typeof value === "string") expect(error.message).not.toContain(value);
    expectNoTokenIn([error], [token]);
  });

  it("lets unset, null and empty values and every other setting pass", () => {
    expect(() =>
      refuseAuthenticationSettings(
        {
          server: "db",
          database: "app",
          options: { encrypt: true },
          user: undefined,
          password: null,
          token: "",
        },
        "config",
        PACKAGE,
      ),
    ).not.toThrow();
  });
});

describe("checkTarnPoolOptions", () => {
  it("accepts nothing, and every tarn option with a valid value", () => {
    expect(() => checkTarnPoolOptions(undefined, "config.pool", PACKAGE)).not.toThrow();
    expect(() => checkTarnPoolOptions(null, "config.pool", PACKAGE)).not.toThrow();
    expect(() =>
      checkTarnPoolOptions(
        {
          min: 0,
          max: 10,
          acquireTimeoutMillis: 30_000,
          createTimeoutMillis: 30_000,
          destroyTimeoutMillis: 5_000,
          idleTimeoutMillis: 30_000,
          reapIntervalMillis: 1_000,
          createRetryIntervalMillis: 200,
          propagateCreateError: false,
          log: () => {},
          validate: () => true,
          max_unused: undefined,
        },
        "config.pool",
        PACKAGE,
      ),
    ).not.toThrow();
    expect(() => checkTarnPoolOptions({ min: 2, max: 2 }, "pool", PACKAGE)).not.toThrow();
  });

  it.each([
    ["10", "config.pool", '"10"', "an object of pool options"],
    [[1], "config.pool", "[1]", "an object of pool options"],
    [
      { create: () => {} },
      "config.pool.create",
      "set",
      `nothing: ${PACKAGE} creates and destroys connections`,
    ],
    [{ destroy: () => {} }, "config.pool.destroy", "set", "creates and destroys connections"],
    [{ maxSize: 5 }, "config.pool.maxSize", "not a pool option", "one of min, max, acquireTimeoutMillis"],
    [{ min: -1 }, "config.pool.min", "-1", "an integer >= 0"],
    [{ min: 1.5 }, "config.pool.min", "1.5", "an integer >= 0"],
    [{ max: 0 }, "config.pool.max", "0", "an integer >= 1"],
    [{ max: "10" }, "config.pool.max", '"10"', "an integer >= 1"],
    [
      { acquireTimeoutMillis: 0 },
      "config.pool.acquireTimeoutMillis",
      "0",
      "a positive number of milliseconds",
    ],
    [
      { idleTimeoutMillis: "30s" },
      "config.pool.idleTimeoutMillis",
      '"30s"',
      "a positive number of milliseconds",
    ],
    [
      { reapIntervalMillis: Number.POSITIVE_INFINITY },
      "config.pool.reapIntervalMillis",
      "Infinity",
      "a positive number of milliseconds",
    ],
    [{ validate: true }, "config.pool.validate", "true", "a function"],
    [{ log: "console" }, "config.pool.log", '"console"', "a function"],
    [{ min: 5, max: 2 }, "config.pool.min", "5", "at most config.pool.max (2)"],
  ])("refuses %o, naming %s", (pool, option, value, expected) => {
    const error = invalid(() => checkTarnPoolOptions(pool, "config.pool", PACKAGE));
    expect(error).toMatchObject({ option, value });
    expect(error.message).toMatch(/^@entra-sql\/some-adapter: option "/);
    expect(error.expected).toContain(expected);
  });
});
