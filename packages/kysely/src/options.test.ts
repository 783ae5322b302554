import { inspect } from "node:util";
import { createTokenSource, isInvalidOptionError } from "@entra-sql/core";
import { CONNECTION_OPTION_DEFAULTS } from "@entra-sql/driver-kit";
import * as Tarn from "tarn";
import * as Tedious from "tedious";
import { describe, expect, it } from "vitest";
import { checkDialectSettings } from "./dialect-settings.js";
import { ENTRA_KYSELY_DEFAULTS, entraMssqlDialectConfig } from "./index.js";

// Settings and option validation, and the config's shape. Pure: no connection is made (the integration
// tests in test/integration/kysely make them, through real Kysely).

const invalid = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionError");
};

const base = { tedious: Tedious, tarn: Tarn, server: "myserver.database.windows.net", database: "app" };

describe("entraMssqlDialectConfig", () => {
  it("gives Kysely's MssqlDialect config: tedious with connectionFactory, tarn with its Pool and options", () => {
    const config = entraMssqlDialectConfig({ ...base, pool: { max: 5 } }, { credential: "cli" });
    expect(typeof config.tedious.connectionFactory).toBe("function");
    expect(config.tedious.Request).toBe(Tedious.Request);
    expect(config.tarn.options).toEqual({ min: 0, max: 5, propagateCreateError: true });
    expect(config.tarn.Pool.prototype).toBeInstanceOf(Tarn.Pool);
    expect(Object.keys(config)).toEqual(["tedious", "tarn"]);
    expect(ENTRA_KYSELY_DEFAULTS).toBe(CONNECTION_OPTION_DEFAULTS);
    expect(inspect(config, { depth: 1 })).not.toMatch(/tokenSource/);
    config.tokenSource.close();
  });

  it("passes Kysely's own switches and uses a token source it does not own", () => {
    const tokenSource = createTokenSource({ credential: "cli" });
    const config = entraMssqlDialectConfig(
      { ...base, validateConnections: false, resetConnectionsOnRelease: true },
      { tokenSource },
    );
    expect(config).toMatchObject({ validateConnections: false, resetConnectionsOnRelease: true });
    expect(config.tokenSource).toBe(tokenSource);
    tokenSource.close();
  });

  it("refuses a host with no known scope in inline mode, unless the scope is given", () => {
    expect(() => entraMssqlDialectConfig({ ...base, server: "10.0.0.5" }, { credential: "cli" })).toThrow(
      /UnknownSqlHost|scope/i,
    );
    const config = entraMssqlDialectConfig(
      { ...base, server: "10.0.0.5" },
      { credential: "cli", scope: "https://database.windows.net/.default" },
    );
    config.tokenSource.close();
  });

  it("names the option, the value and the fix under this package's name", () => {
    expect(invalid(() => entraMssqlDialectConfig(base, { maxAgeInMs: -5 })).message).toMatch(
      /^@entra-sql\/kysely: option "maxAgeInMs" is -5/,
    );
    expect(invalid(() => entraMssqlDialectConfig(base, { maxAgeInMs: 900 })).message).toMatch(
      /looks like seconds/,
    );
    expect(invalid(() => entraMssqlDialectConfig(base, { maxAge: 1 } as never)).option).toBe("maxAge");
  });
});

describe("checkDialectSettings", () => {
  it("folds database and port into tedious' options", () => {
    expect(checkDialectSettings({ ...base, port: 1444, options: { encrypt: true } })).toEqual({
      server: base.server,
      database: "app",
      tediousOptions: { encrypt: true, database: "app", port: 1444 },
      pool: { min: 0, max: 10, propagateCreateError: true },
    });
  });

  it("refuses authentication settings without printing their value", () => {
    const top = invalid(() =>
      checkDialectSettings({ ...base, authentication: { token: "eyJ0eXAi.secret.sig" } }),
    );
    expect(top.option).toBe("settings.authentication");
    expect(top.message).not.toContain("secret");
    const inOptions = invalid(() =>
      checkDialectSettings({ ...base, options: { token: "eyJ0eXAi.secret.sig" } }),
    );
    expect(inOptions.option).toBe("settings.options.token");
    expect(inOptions.message).not.toContain("secret");
    expect(invalid(() => checkDialectSettings({ ...base, password: "p" })).option).toBe("settings.password");
  });

  it("refuses bad settings, naming each", () => {
    expect(invalid(() => checkDialectSettings(undefined)).option).toBe("settings");
    expect(invalid(() => checkDialectSettings({ ...base, server: undefined })).option).toBe(
      "settings.server",
    );
    expect(invalid(() => checkDialectSettings({ ...base, dialect: 1 })).option).toBe("settings.dialect");
    expect(invalid(() => checkDialectSettings({ ...base, port: "1433" })).option).toBe("settings.port");
    expect(invalid(() => checkDialectSettings({ ...base, options: { database: "other" } })).option).toBe(
      "settings.options.database",
    );
    expect(invalid(() => checkDialectSettings({ ...base, pool: { max: 0 } })).option).toBe(
      "settings.pool.max",
    );
    expect(invalid(() => checkDialectSettings({ ...base, pool: { create: () => {} } })).option).toBe(
      "settings.pool.create",
    );
    expect(invalid(() => checkDialectSettings({ ...base, pool: { validate: () => true } })).option).toBe(
      "settings.pool.validate",
    );
    expect(invalid(() => checkDialectSettings({ ...base, pool: { min: 5, max: 2 } })).option).toBe(
      "settings.pool.min",
    );
    expect(invalid(() => checkDialectSettings({ ...base, validateConnections: "no" })).option).toBe(
      "settings.validateConnections",
    );
  });

  it("checks the tedious and tarn modules for what this package and Kysely call, naming the version", () => {
    const noTedious = invalid(() => checkDialectSettings({ ...base, tedious: {} }));
    expect(noTedious.option).toBe("settings.tedious");
    expect(noTedious.message).toMatch(
      /tedious (\d+\.\d+\.\d+|\(version unknown\)), which lacks Connection, Request/,
    );
    class Connection extends Tedious.Connection {}
    Object.defineProperty(Connection.prototype, "reset", { value: undefined });
    expect(
      invalid(() => checkDialectSettings({ ...base, tedious: { ...Tedious, Connection } })).message,
    ).toMatch(/whose Connection, which lacks reset/);
    expect(
      invalid(() => checkDialectSettings({ ...base, tedious: { ...Tedious, TYPES: undefined } })).message,
    ).toMatch(/lacks TYPES/);
    expect(invalid(() => checkDialectSettings({ ...base, tarn: {} })).option).toBe("settings.tarn");
    expect(invalid(() => checkDialectSettings({ ...base, tarn: { Pool: class {} } })).message).toMatch(
      /whose Pool, which lacks acquire, release, destroy/,
    );
  });
});
