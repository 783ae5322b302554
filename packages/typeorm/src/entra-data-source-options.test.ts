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
      scope: "https://database.windows.net/.default",
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

  // Misspelt or misplaced Entra keys: TypeORM would ignore them without a word.
  it.each([
    [{ maxAgeMs: 60_000 }, "maxAgeMs", /did you mean maxAgeInMs, in milliseconds\?/],
    [{ maxAgeSeconds: 60 }, "maxAgeSeconds", /did you mean maxAgeInMs, in milliseconds\?/],
    [{ maxAgeJitter: 0.1 }, "maxAgeJitter", /did you mean maxAgeJitterRatio\?/],
    [{ tokenmode: "inline" }, "tokenmode", /did you mean tokenMode\?/],
    [{ credentials: "cli" }, "credentials", /did you mean credential\?/],
    [
      { tokenExpiryMarginMs: 1 },
      "tokenExpiryMarginMs",
      /did you mean tokenExpiryMarginInMs, in milliseconds\?/,
    ],
    [{ onEvents: () => {} }, "onEvents", /did you mean onEvent\?/],
    [{ identityOption: {} }, "identityOption", /did you mean identityOptions\?/],
  ])("refuses the misspelt Entra key in %o with a suggestion", (options, option, fix) => {
    const error = errorOf(() => entraDataSourceOptions(options as never));
    expect(error.option).toBe(option);
    expect(error.message).toContain(
      `option "${option}" is not a TypeORM mssql option nor an @entra-sql/typeorm option`,
    );
    expect(error.message).toMatch(fix);
  });

  it.each([
    [{ refreshWindowInMs: 1 }, "refreshWindowInMs", "tokenSource: { refreshWindowInMs }"],
    [
      { credential: "cli", minimumValidityInMs: 1 },
      "minimumValidityInMs",
      "tokenSource: { credential, minimumValidityInMs } in place of the top-level credential (it cannot be given next to tokenSource)",
    ],
    [
      { credential: "cli", identityOptions: {}, retryMaxDelayInMs: 1 },
      "retryMaxDelayInMs",
      "tokenSource: { credential, identityOptions, retryMaxDelayInMs } in place of the top-level credential and identityOptions (they cannot be given next to tokenSource)",
    ],
    [
      { tokenSource: { credential: "cli" }, retryInitialDelayInMs: 1 },
      "retryInitialDelayInMs",
      "tokenSource: { ..., retryInitialDelayInMs }",
    ],
    [{ allowedScopes: ["x"] }, "allowedScopes", "tokenSource: { allowedScopes }"],
  ])(
    "refuses the token source option at the top level in %o, saying where it goes",
    (options, option, fix) => {
      const error = errorOf(() => entraDataSourceOptions(options as never));
      expect(error.option).toBe(option);
      expect(error.message).toBe(
        `@entra-sql/typeorm: option "${option}" is a token source option, given at the top level; expected it inside the token source: ${fix}.`,
      );
    },
  );

  it("refuses a misspelt token source option at the top level, with the name and the place", () => {
    const error = errorOf(() => entraDataSourceOptions({ credential: "cli", refreshWindowMs: 1 } as never));
    expect(error.option).toBe("refreshWindowMs");
    expect(error.message).toContain(
      '"refreshWindowInMs" inside the token source (did you mean refreshWindowInMs, in milliseconds? tokenSource: { credential, refreshWindowInMs }',
    );
  });

  it("says to configure a TokenSource passed as tokenSource where it is created", () => {
    const tokens = tokenSource();
    const misplaced = errorOf(() =>
      entraDataSourceOptions({
        tokenSource: tokens,
        logger: "simple-console",
        refreshWindowInMs: 1,
      } as never),
    );
    expect(misplaced.option).toBe("refreshWindowInMs");
    expect(misplaced.message).toContain(
      "createTokenSource({ ..., refreshWindowInMs }), where you create the TokenSource you pass as tokenSource",
    );
    const identity = errorOf(() => entraDataSourceOptions({ tokenSource: tokens, identityOptions: {} }));
    expect(identity.option).toBe("identityOptions");
    expect(identity.message).toContain("createTokenSource({ ..., identityOptions })");
    tokens.close();
  });

  it("refuses identityOptions at the top level next to tokenSource: it goes inside", () => {
    const error = errorOf(() =>
      entraDataSourceOptions({
        tokenSource: { credential: "cli" },
        identityOptions: { authorityHost: "https://x" },
      }),
    );
    expect(error.option).toBe("identityOptions");
    expect(error.message).toMatch(/^@entra-sql\/typeorm: option "identityOptions" is /);
    expect(error.message).toContain(
      "; expected it inside the token source: tokenSource: { ..., identityOptions } (at the top level it is " +
        "a shortcut for tokenSource: { credential, identityOptions }, so only without tokenSource).",
    );
  });

  it("takes identityOptions at the top level with credential, or alone, for the token source it builds", () => {
    for (const options of [{ credential: "cli" as const }, {}]) {
      const result = entraDataSourceOptions({
        ...options,
        identityOptions: { authorityHost: "https://x" },
        host: "h",
      });
      expect(Object.keys(result).sort()).toEqual(["driver", "host", "type"]);
      expect(typeof result.driver.tokenSource.getToken).toBe("function");
      result.driver.tokenSource.close();
      // Validated by the token source, named as the user wrote it.
      const error = errorOf(() => entraDataSourceOptions({ ...options, identityOptions: "x" } as never));
      expect(error.option).toBe("identityOptions");
      expect(error.message).toMatch(/^@entra-sql\/typeorm: option "identityOptions" is "x"/);
    }
  });

  it("refuses a credential preset's field at the top level without printing its value", () => {
    const secret = errorOf(() => entraDataSourceOptions({ clientSecret: "s3cr3t-value" } as never));
    expect(secret.option).toBe("clientSecret");
    expect(secret.message).toBe(
      '@entra-sql/typeorm: option "clientSecret" is a credential setting, given at the top level; expected it ' +
        'inside a credential preset: credential: { type: "service-principal", clientSecret, ... }.',
    );
    const resource = errorOf(() =>
      entraDataSourceOptions({ tokenSource: { credential: "cli" }, resourceId: "/subscriptions/x" } as never),
    );
    expect(resource.message).toContain(
      'tokenSource: { credential: { type: "managed-identity", resourceId, ... } }',
    );
  });

  it("passes TypeORM's keys of every supported version and other tools' keys through; not identityOptions", () => {
    const result = entraDataSourceOptions({
      credential: "cli",
      identityOptions: {},
      logger: "advanced-console", // TypeORM's logger, not the token source's
      name: "reporting", // TypeORM 0.3
      isolationLevel: "READ COMMITTED", // TypeORM 1.x
      autoLoadEntities: true, // NestJS TypeOrmModule
      retryAttempts: 3, // NestJS TypeOrmModule
      seeds: [], // typeorm-extension
      ssl: true, // another driver's option: TypeORM's mssql driver ignores it, and so do we
    } as never) as unknown as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual([
      "autoLoadEntities",
      "driver",
      "isolationLevel",
      "logger",
      "name",
      "retryAttempts",
      "seeds",
      "ssl",
      "type",
    ]);
    (result.driver as { tokenSource: { close(): void } }).tokenSource.close();
  });
});
