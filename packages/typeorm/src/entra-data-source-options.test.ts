import { createTokenSource, isInvalidOptionError } from "@entra-sql/core";
import mssql from "mssql";
import { describe, expect, it } from "vitest";
import { entraDataSourceOptions } from "./index.js";

// Option handling only; logins through real TypeORM are in test/integration/typeorm.

const tokenSource = () => createTokenSource({ credential: { getToken: async () => null } });

function errorOf(fn: () => unknown): { option?: string; message?: string } {
  try {
    fn();
  } catch (error) {
    expect(isInvalidOptionError(error)).toBe(true);
    return error as { option: string; message: string };
  }
  throw new Error("no error thrown");
}

describe("entraDataSourceOptions", () => {
  it("passes TypeORM options through unchanged and adds type and driver", () => {
    const entities = [class A {}];
    const pool = { max: 3 };
    const tokens = tokenSource();
    const result = entraDataSourceOptions({
      tokenSource: tokens,
      mssql,
      host: "h",
      entities,
      pool,
      scope: "x",
    });
    expect(result.type).toBe("mssql");
    expect(result.entities).toBe(entities);
    expect(result.pool).toBe(pool);
    expect(result.driver.tokenSource).toBe(tokens);
    expect(result.driver.Int).toBe(mssql.Int);
    expect(result.driver.ConnectionPool).not.toBe(mssql.ConnectionPool);
    expect(Object.keys(result).sort()).toEqual(["driver", "entities", "host", "pool", "type"]);
    tokens.close();
  });

  it("resolves mssql itself and builds a token source from `credential`", () => {
    const result = entraDataSourceOptions({ credential: "cli" });
    // Without an `mssql` option the driver is typed structurally; it is still the whole module.
    expect((result.driver as unknown as typeof mssql).Int).toBe(mssql.Int);
    expect(typeof result.driver.tokenSource.getToken).toBe("function");
    result.driver.tokenSource.close();
  });

  it.each([
    [{ authentication: { type: "default" } }, "authentication"],
    [{ username: "sa" }, "username"],
    [{ password: "hunter2" }, "password"],
    [{ driver: mssql }, "driver"],
    [{ type: "postgres" }, "type"],
    [{ replication: { master: {}, slaves: [{ password: "p" }] } }, "replication.slaves[0].password"],
    [{ replication: { master: { username: "u" }, slaves: [] } }, "replication.master.username"],
    [{ credential: "cli", tokenSource: {} }, "credential"],
    [{ mssql: {} }, "mssql"],
    [{ tokenMode: "fast" }, "tokenMode"],
    [{ maxAgeInMs: -1 }, "maxAgeInMs"],
    [{ credential: "nope" }, "credential"],
  ])("refuses %o naming %s", (options, option) => {
    const error = errorOf(() => entraDataSourceOptions(options as never));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(/^@entra-sql\/typeorm: option /);
    expect(error.message).not.toContain("hunter2");
  });
});
