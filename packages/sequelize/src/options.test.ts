import { createTokenSource, isInvalidOptionError, isUnknownSqlHostError } from "@entra-sql/core";
import { CONNECTION_OPTION_DEFAULTS } from "@entra-sql/driver-kit";
import { Sequelize } from "sequelize";
import { describe, expect, it } from "vitest";
import { ENTRA_SEQUELIZE_DEFAULTS, entraTokenSourceOf, withEntraTokens } from "./index.js";
import { checkSequelize } from "./sequelize-checks.js";

// Option and instance validation. Pure: no connection is made (test/integration/sequelize makes them).

const invalid = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionError");
};

const SCOPE = "https://database.windows.net/.default";
const mssql = (options: Record<string, unknown> = {}) =>
  new Sequelize({
    dialect: "mssql",
    host: "myserver.database.windows.net",
    database: "app",
    logging: false,
    ...options,
  });

describe("withEntraTokens", () => {
  it("wires an mssql instance, returns it, and owns the token source it creates", async () => {
    const sequelize = mssql();
    expect(withEntraTokens(sequelize, { credential: "cli" })).toBe(sequelize);
    expect(entraTokenSourceOf(sequelize)).toBeDefined();
    expect(ENTRA_SEQUELIZE_DEFAULTS).toBe(CONNECTION_OPTION_DEFAULTS);
    await sequelize.close();
  });

  it("uses a given token source without owning it, and refuses a second call on the same instance", async () => {
    const tokenSource = createTokenSource({ credential: "cli" });
    const sequelize = withEntraTokens(mssql(), { tokenSource, maxAgeInMs: null });
    expect(entraTokenSourceOf(sequelize)).toBe(tokenSource);
    expect(invalid(() => withEntraTokens(sequelize, { tokenSource })).option).toBe("sequelize");
    await sequelize.close();
    tokenSource.close();
  });

  it("names the option, the value and the fix under this package's name", () => {
    expect(invalid(() => withEntraTokens(mssql(), { maxAgeInMs: -5 })).message).toBe(
      '@entra-sql/sequelize: option "maxAgeInMs" is -5; expected a positive number of milliseconds (e.g. 1800000), or null / Infinity to disable the age cap.',
    );
    expect(invalid(() => withEntraTokens(mssql(), { maxAgeInMs: 900 })).message).toMatch(
      /looks like seconds/,
    );
    expect(invalid(() => withEntraTokens(mssql(), { maxAge: 1 } as never)).option).toBe("maxAge");
    expect(
      invalid(() => withEntraTokens(mssql(), { credential: "cli", tokenSource: {} } as never)).option,
    ).toBe("credential");
  });

  it("inline mode needs a host whose scope is known, or the scope option; token-credential does not", async () => {
    let caught: unknown;
    try {
      withEntraTokens(mssql({ host: "db.internal" }), { credential: "cli" });
    } catch (error) {
      caught = error;
    }
    expect(isUnknownSqlHostError(caught)).toBe(true);
    const scoped = withEntraTokens(mssql({ host: "db.internal" }), { credential: "cli", scope: SCOPE });
    const credential = withEntraTokens(mssql({ host: "db.internal" }), {
      credential: "cli",
      tokenMode: "token-credential",
    });
    await scoped.close();
    await credential.close();
  });
});

describe("checkSequelize", () => {
  it("accepts an mssql instance and gives its host", () => {
    expect(checkSequelize(mssql())).toBe("myserver.database.windows.net");
  });

  it("refuses anything else, another dialect, and competing authentication without printing it", () => {
    expect(invalid(() => checkSequelize({})).option).toBe("sequelize");
    expect(invalid(() => checkSequelize(new Sequelize({ dialect: "mysql", logging: false }))).option).toBe(
      "sequelize.options.dialect",
    );
    const password = invalid(() => checkSequelize(mssql({ username: "sa", password: "hunter2-secret" })));
    expect(password.option).toBe("sequelize.options.username");
    expect(password.message).not.toContain("hunter2");
    const token = invalid(() =>
      checkSequelize(
        mssql({
          dialectOptions: {
            authentication: {
              type: "azure-active-directory-access-token",
              options: { token: "eyJ.secret.sig" },
            },
          },
        }),
      ),
    );
    expect(token.option).toBe("sequelize.options.dialectOptions.authentication");
    expect(token.message).not.toContain("secret");
  });

  it("refuses replication, a pool validate of its own, and an instance that already connected", () => {
    const replicated = mssql({
      replication: { read: [{ host: "r.database.windows.net" }], write: { host: "w.database.windows.net" } },
    });
    expect(invalid(() => checkSequelize(replicated)).option).toBe("sequelize.options.replication");
    expect(invalid(() => checkSequelize(mssql({ pool: { validate: () => true } }))).option).toBe(
      "sequelize.options.pool.validate",
    );
    const used = mssql();
    (used.connectionManager as unknown as { pool: { _count: number } }).pool._count = 1;
    expect(invalid(() => checkSequelize(used)).message).toMatch(/has not connected yet/);
  });

  it("fails naming the Sequelize version when an internal this package overrides is missing", () => {
    const sequelize = mssql();
    Object.defineProperty(sequelize.connectionManager, "releaseConnection", { value: undefined });
    expect(invalid(() => checkSequelize(sequelize)).message).toMatch(
      /sequelize 6\.\d+\.\d+, whose mssql connection manager, which lacks releaseConnection/,
    );
    const old = mssql();
    Object.defineProperty(old, "constructor", { value: { version: "6.28.0" } });
    expect(invalid(() => checkSequelize(old)).value).toBe("sequelize 6.28.0");
  });
});
