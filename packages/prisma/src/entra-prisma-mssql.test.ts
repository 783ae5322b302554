import { createServer } from "node:net";
import { inspect } from "node:util";
import { type InvalidOptionError, isInvalidOptionError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import { entraPrismaMssql } from "./entra-prisma-mssql.js";
import { loadPrismaAdapter } from "./prisma-adapter.js";

// What entraPrismaMssql checks when it is created, with the real @prisma/adapter-mssql and mssql (no
// server needed). test/integration/prisma runs it with Prisma against the stand-ins.

const config = { server: "myserver.database.windows.net", database: "app" };
const credential = {
  type: "service-principal",
  tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  clientId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  clientSecret: "s3cr3t-value",
} as const;

function thrown(create: () => unknown): InvalidOptionError {
  try {
    create();
  } catch (error) {
    expect(isInvalidOptionError(error), String(error)).toBe(true);
    return error as InvalidOptionError;
  }
  throw new Error("expected an InvalidOptionError");
}

describe("entraPrismaMssql", () => {
  it("gives a PrismaMssql (the factory PrismaClient takes) with its token source", () => {
    const adapter = entraPrismaMssql(config, { credential });
    try {
      // The adapter's CommonJS build (require() from this package); Prisma itself only needs the shape.
      expect(adapter).toBeInstanceOf(loadPrismaAdapter().PrismaMssql);
      expect(adapter.provider).toBe("sqlserver");
      expect(adapter.adapterName).toBe("@prisma/adapter-mssql");
      expect(adapter.constructor.name).toBe("EntraPrismaMssql");
      expect(typeof adapter.tokenSource.getToken).toBe("function");
      expect(inspect(adapter, { depth: 8 })).not.toContain("s3cr3t-value");
    } finally {
      adapter.tokenSource.close();
    }
  });

  it("refuses a connection string, which carries a password, without printing it", () => {
    const error = thrown(() =>
      entraPrismaMssql("sqlserver://h;user=u;password=hunter2" as never, { credential }),
    );
    expect(error.option).toBe("config");
    expect(error.message).toContain("@entra-sql/prisma");
    expect(error.message).toContain("a connection string");
    expect(error.message).not.toContain("hunter2");
  });

  it("names itself in the Entra option errors @entra-sql/mssql finds", () => {
    const error = thrown(() => entraPrismaMssql(config, { credential, maxAgeInMs: 5 }));
    expect(error.option).toBe("maxAgeInMs");
    expect(error.message.startsWith("@entra-sql/prisma:")).toBe(true);
  });

  it("checks the adapter module it is given: a PrismaMssql without connect() names the installed version", () => {
    const { mssql } = loadPrismaAdapter();
    const error = thrown(() =>
      entraPrismaMssql(config, { credential, modules: { PrismaMssql: class {} as never, mssql } }),
    );
    expect(error.option).toBe("modules.PrismaMssql");
    expect(error.message).toMatch(/@prisma\/adapter-mssql \d+\.\d+\.\d+, which lacks connect/);
    expect(thrown(() => entraPrismaMssql(config, { credential, modules: 42 as never })).option).toBe(
      "modules",
    );
  });

  it("swaps mssql's ConnectionPool only while connect() builds its pool, also when the login fails", async () => {
    const { mssql } = loadPrismaAdapter();
    const original = (mssql as { ConnectionPool: unknown }).ConnectionPool;
    // A loopback port that refuses: the pool's first connect fails fast.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const adapter = entraPrismaMssql(
      { server: "127.0.0.1", port, database: "app", options: { encrypt: false }, connectionTimeout: 2000 },
      { credential, scope: "https://database.windows.net/.default" },
    );
    try {
      const connecting = adapter.connect();
      expect((mssql as { ConnectionPool: unknown }).ConnectionPool).toBe(original);
      await expect(connecting).rejects.toThrow();
      expect((mssql as { ConnectionPool: unknown }).ConnectionPool).toBe(original);
    } finally {
      adapter.tokenSource.close();
    }
  });
});
