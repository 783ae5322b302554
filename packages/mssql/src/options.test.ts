import { createTokenSource, isInvalidOptionError, type TokenSource } from "@entra-sql/core";
import { CONNECTION_OPTION_DEFAULTS } from "@entra-sql/driver-kit";
import { afterEach, describe, expect, it } from "vitest";
import { createEntraMssql } from "./entra-mssql.js";
import { ENTRA_MSSQL_DEFAULTS } from "./index.js";
import { checkPoolConfig } from "./pool-config.js";

// Option and pool-config validation, against a hand-written fake of mssql's pool (the real one is
// exercised by test/integration/mssql).

class FakePool {
  config: Record<string, unknown>;
  constructor(config: Record<string, unknown>) {
    this.config = config;
  }
  _config() {
    return { server: String(this.config.server) };
  }
  async _poolCreate() {
    return { close() {} };
  }
  _poolValidate() {
    return true;
  }
  async _poolDestroy() {}
  release() {
    return this;
  }
  acquire() {
    return this;
  }
  close() {
    return this;
  }
  async connect() {
    return this;
  }
}
/** mssql's classes with the hooks this package overrides (checked by createEntraMssql). */
const withHooks = (...names: string[]) => {
  const Class = class {};
  for (const name of names) Object.defineProperty(Class.prototype, name, { value: () => undefined });
  return Class;
};
const fakeMssql = {
  ConnectionPool: FakePool,
  Request: withHooks("_query", "_batch", "_execute", "_bulk", "emit"),
  Transaction: withHooks("_begin", "_commit"),
  PreparedStatement: withHooks("_prepare", "_execute", "_unprepare"),
  Int: "Int",
};

const sources: TokenSource[] = [];
function tokenSource(): TokenSource {
  const source = createTokenSource({ credential: { getToken: async () => null } });
  sources.push(source);
  return source;
}
afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});

function invalid(run: () => unknown): { option: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(isInvalidOptionError(error)).toBe(true);
    const { option, message } = error as { option: string; message: string };
    expect(message).toMatch(/^@entra-sql\/mssql: option "/);
    return { option, message };
  }
  throw new Error("expected an InvalidOptionError");
}

// The shared options' defaults and each bad value are core's resolveConnectionOptions tests; these
// check that createEntraMssql applies them under this package's name.
describe("createEntraMssql options", () => {
  it("applies core's defaults", () => {
    const sql = createEntraMssql(fakeMssql, { tokenSource: tokenSource() });
    expect(sql.ConnectionPool.name).toBe("EntraConnectionPool");
    expect(ENTRA_MSSQL_DEFAULTS).toBe(CONNECTION_OPTION_DEFAULTS);
  });

  it("rejects unknown keys, naming them and the known ones", () => {
    const { option, message } = invalid(() => createEntraMssql(fakeMssql, { maxAgeMs: 5 } as never));
    expect(option).toBe("maxAgeMs");
    expect(message).toContain("maxAgeInMs");
  });

  it.each([
    [{ maxAgeInMs: 0 }, "maxAgeInMs", "0"],
    [
      { tokenSource: { getToken: async () => null } },
      "tokenSource",
      'or pass the credential as "credential"',
    ],
    [{ maxAgeInMs: 30 }, "maxAgeInMs", "looks like seconds"],
    [{ credential: "cli", tokenSource: { credential: "cli" } }, "credential", "not both"],
  ])("rejects %o naming %s", (options, expectedOption, inMessage) => {
    const { option, message } = invalid(() => createEntraMssql(fakeMssql, options as never));
    expect(option).toBe(expectedOption);
    expect(message).toContain(inMessage);
  });

  it("accepts a TokenSource, or token source options and creates one", () => {
    const source = tokenSource();
    expect(createEntraMssql(fakeMssql, { tokenSource: source }).tokenSource).toBe(source);
    const created = createEntraMssql(fakeMssql, { tokenSource: { credential: "cli" }, maxAgeInMs: null });
    sources.push(created.tokenSource);
    expect(created.tokenSource.defaultScope).toBe("https://database.windows.net/.default");
  });

  it("takes the credential shortcut, with identityOptions for the credentials it creates", () => {
    const sql = createEntraMssql(fakeMssql, {
      credential: "cli",
      identityOptions: { disableInstanceDiscovery: true },
    });
    sources.push(sql.tokenSource);
    expect(sql.tokenSource.defaultScope).toBe("https://database.windows.net/.default");
  });

  it("rejects a module that is not node-mssql with its tedious pool, naming the hook and the version", () => {
    expect(invalid(() => createEntraMssql({} as never)).option).toBe("mssql");
    const noHooks = { ...fakeMssql, ConnectionPool: class {} };
    const { message } = invalid(() => createEntraMssql(noHooks));
    expect(message).toContain("_poolCreate");
    expect(message).toMatch(/mssql (\d+\.\d+\.\d+|\(version unknown\))/);
    const oldRequest = { ...fakeMssql, Request: withHooks("_query", "_batch", "_execute", "emit") };
    expect(invalid(() => createEntraMssql(oldRequest)).message).toContain("its Request");
  });

  it("returns the module with ConnectionPool replaced and everything else kept", () => {
    const sql = createEntraMssql(fakeMssql, {
      tokenSource: tokenSource(),
      scope: "https://database.windows.net/.default",
    });
    expect(sql.Int).toBe("Int");
    expect(sql.ConnectionPool).not.toBe(FakePool);
    expect(sql.ConnectionPool.name).toBe("EntraConnectionPool");
    expect(new sql.ConnectionPool({ server: "x.database.windows.net" })).toBeInstanceOf(FakePool);
  });
});

describe("pool config", () => {
  const base = { server: "myserver.database.windows.net" };

  it.each([
    [{ pool: { maxConnections: 5 } }, "config.pool.maxConnections"],
    [{ pool: { max: 0 } }, "config.pool.max"],
    [{ pool: { min: 1.5 } }, "config.pool.min"],
    [{ pool: { min: 4, max: 2 } }, "config.pool.min"],
    [{ pool: { idleTimeoutMillis: -1 } }, "config.pool.idleTimeoutMillis"],
    [{ pool: { destroy: () => undefined } }, "config.pool.destroy"],
    [{ pool: { validate: true } }, "config.pool.validate"],
    [{ pool: [] }, "config.pool"],
    [{ password: "p" }, "config.password"],
    [{ authentication: { type: "default" } }, "config.authentication"],
    [{ server: "" }, "config.server"],
  ])("rejects %o naming %s", (config, expectedOption) => {
    expect(invalid(() => checkPoolConfig({ ...base, ...config })).option).toBe(expectedOption);
  });

  it("accepts tarn's options and takes out the user's validate and beforeConnect, to compose them", () => {
    const validate = () => true;
    const beforeConnect = () => undefined;
    const pool = { min: 0, max: 4, idleTimeoutMillis: 1000, validate };
    const config: Record<string, unknown> = { ...base, pool, beforeConnect };
    expect(checkPoolConfig(config)).toEqual({ validate, beforeConnect });
    expect(config.pool).toEqual({ min: 0, max: 4, idleTimeoutMillis: 1000 });
    expect(pool.validate).toBe(validate); // the user's object is not changed
    expect(checkPoolConfig({ ...base, user: undefined, pool: { max: undefined } })).toEqual({
      validate: undefined,
      beforeConnect: undefined,
    });
    expect(invalid(() => checkPoolConfig({ ...base, beforeConnect: 1 })).option).toBe("config.beforeConnect");
  });

  it("validates the config when a pool is created, and a host with no known cloud needs a scope", () => {
    const sql = createEntraMssql(fakeMssql, { tokenSource: tokenSource() });
    expect(invalid(() => new sql.ConnectionPool({ ...base, pool: { maxx: 1 } })).option).toBe(
      "config.pool.maxx",
    );
    expect(() => new sql.ConnectionPool({ server: "sql.contoso.internal" })).toThrow(
      /cannot tell the token scope/,
    );
    const credentialMode = createEntraMssql(fakeMssql, {
      tokenSource: tokenSource(),
      tokenMode: "token-credential",
    });
    expect(() => new credentialMode.ConnectionPool({ server: "sql.contoso.internal" })).not.toThrow();
  });
});
