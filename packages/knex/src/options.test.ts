import { createTokenSource, isInvalidOptionError } from "@entra-sql/core";
import { CONNECTION_OPTION_DEFAULTS, resolveConnectionOptions } from "@entra-sql/driver-kit";
import knex from "knex";
import { describe, expect, it } from "vitest";
import { ENTRA_KNEX_DEFAULTS } from "./index.js";
import { checkConnection, checkKnexConfig } from "./knex-config.js";
import { mssqlDialectOf } from "./knex-dialect.js";
import { PACKAGE_NAME } from "./options.js";

const resolveOptions = (options: unknown) => resolveConnectionOptions(options, PACKAGE_NAME);

// Option and config validation, and the detection of what the Knex at hand does natively. Pure: no
// connection is made (the integration tests in test/integration/knex make them).

const invalid = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionError");
};

// The shared options' defaults, each bad value and the credential shortcut are core's
// resolveConnectionOptions tests; these check that this package uses them, under its own name.
describe("resolveOptions", () => {
  it("applies the defaults of @entra-sql/mssql (core's) and creates (and owns) a default token source", () => {
    const resolved = resolveOptions(undefined);
    expect(resolved.tokenMode).toBe(ENTRA_KNEX_DEFAULTS.tokenMode);
    expect(ENTRA_KNEX_DEFAULTS).toBe(CONNECTION_OPTION_DEFAULTS);
    expect(resolved.ownsTokenSource).toBe(true);
    resolved.tokenSource.close();
  });

  it("takes a credential as a shortcut, or a token source it does not own", () => {
    const fromCredential = resolveOptions({ credential: "cli" });
    expect(fromCredential.ownsTokenSource).toBe(true);
    fromCredential.tokenSource.close();
    const tokenSource = createTokenSource({ credential: "cli" });
    expect(resolveOptions({ tokenSource, maxAgeInMs: null })).toMatchObject({
      tokenSource,
      ownsTokenSource: false,
    });
    tokenSource.close();
  });

  it("refuses a max age that looks like seconds (Django's CONN_MAX_AGE)", () => {
    const error = invalid(() => resolveOptions({ maxAgeInMs: 900 }));
    expect(error.option).toBe("maxAgeInMs");
    expect(error.message).toMatch(/^@entra-sql\/knex: .*looks like seconds.*900 \* 1000/);
  });

  it("names the option, the value and the fix under this package's name", () => {
    expect(invalid(() => resolveOptions({ maxAgeInMs: -5 })).message).toBe(
      '@entra-sql/knex: option "maxAgeInMs" is -5; expected a positive number of milliseconds (e.g. 1800000), or null / Infinity to disable the age cap.',
    );
    expect(invalid(() => resolveOptions({ maxAge: 1 })).message).toMatch(
      /option "maxAge" is not a known option; expected one of credential, identityOptions, tokenSource/,
    );
    expect(invalid(() => resolveOptions({ credential: "cli", tokenSource: {} })).option).toBe("credential");
  });
});

describe("checkKnexConfig", () => {
  const connection = { server: "myserver.database.windows.net", database: "app" };

  it("accepts a connection object or provider function and Knex's other settings", () => {
    expect(() =>
      checkKnexConfig({ connection, pool: { min: 0, max: 5 }, useNullAsDefault: true }),
    ).not.toThrow();
    expect(() => checkKnexConfig({ client: "mssql", connection: async () => connection })).not.toThrow();
    expect(checkConnection({ host: "h.database.windows.net" }, "connection")).toBe("h.database.windows.net");
  });

  it("refuses authentication settings without printing their value, and the pool's own lifetime keys", () => {
    const error = invalid(() =>
      checkKnexConfig({ connection: { ...connection, token: "eyJ0eXAi.secret.sig" } }),
    );
    expect(error.option).toBe("config.connection.token");
    expect(error.message).not.toContain("secret");
    expect(invalid(() => checkKnexConfig({ connection: "Server=x;" })).option).toBe("config.connection");
    expect(invalid(() => checkKnexConfig({ connection: { database: "app" } })).option).toBe(
      "config.connection.server",
    );
    expect(invalid(() => checkKnexConfig({ connection, connectionPool: {} })).option).toBe(
      "config.connectionPool",
    );
    expect(
      invalid(() => checkKnexConfig({ connection, pool: { maxConnectionLifetimeJitterMillis: 5 } })).message,
    ).toMatch(/maxAgeJitterRatio/);
    expect(invalid(() => checkKnexConfig({ client: "pg", connection })).option).toBe("config.client");
    expect(invalid(() => checkKnexConfig({})).option).toBe("config.connection");
  });
});

describe("mssqlDialectOf", () => {
  it("finds Knex 3.3's mssql client and what it does natively", () => {
    const dialect = mssqlDialectOf(knex);
    expect(dialect.Client.name).toBe("Client_MSSQL");
    expect(dialect).toMatchObject({ passesCredential: true });
  });

  it("refuses anything else, and a Knex whose client lacks a method this package overrides", () => {
    expect(invalid(() => mssqlDialectOf({})).option).toBe("knex");
    expect(invalid(() => mssqlDialectOf(() => ({ client: {} }))).option).toBe("knex");
    const Client = mssqlDialectOf(knex).Client;
    class WithoutStream extends Client {}
    Object.defineProperty(WithoutStream.prototype, "_stream", { value: undefined });
    const error = invalid(() => mssqlDialectOf(() => ({ client: new WithoutStream({} as never) })));
    expect(error.message).toMatch(
      /knex (\d+\.\d+\.\d+|\(version unknown\)), whose mssql client, which lacks _stream/,
    );
  });
});
