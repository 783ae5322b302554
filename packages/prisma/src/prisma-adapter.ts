import { createRequire } from "node:module";
import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { installedVersion, requireMethods } from "@entra-sql/driver-kit";
import { PACKAGE_NAME, type PrismaAdapterModules } from "./options.js";

// The slice of @prisma/adapter-mssql (6.16+ and 7) this package relies on: `PrismaMssql.connect()` builds
// its pool as `new mssql.ConnectionPool(config)` from the mssql module it requires, synchronously, before
// its first await (src/mssql.ts of prisma/prisma-engines' adapter). Checked when the adapter is created;
// that the pool is ours is checked after every connect().

const SUPPORTED =
  "@prisma/adapter-mssql 6.16 or later (7.x), whose PrismaMssql builds a node-mssql ConnectionPool";

/** The installed @prisma/adapter-mssql and the mssql it resolves (not necessarily the app's own). */
export function loadPrismaAdapter(): PrismaAdapterModules {
  let entry: string;
  try {
    entry = require.resolve("@prisma/adapter-mssql");
  } catch (error) {
    throw invalidOptionFor(PACKAGE_NAME)(
      "modules",
      "not given, and @prisma/adapter-mssql could not be loaded",
      "npm install @prisma/adapter-mssql (the Prisma driver adapter for SQL Server)",
      error,
    );
  }
  return { PrismaMssql: require(entry).PrismaMssql, mssql: createRequire(entry)("mssql") };
}

export function checkPrismaAdapter(modules: unknown): PrismaAdapterModules {
  const given = modules as Partial<PrismaAdapterModules> | null;
  if (
    typeof given !== "object" ||
    given === null ||
    typeof given.mssql !== "object" ||
    given.mssql === null
  ) {
    throw invalidOptionFor(PACKAGE_NAME)(
      "modules",
      describeOptionValue(modules),
      `{ PrismaMssql, mssql }: ${SUPPORTED}`,
    );
  }
  requireMethods(
    typeof given.PrismaMssql === "function" ? given.PrismaMssql.prototype : undefined,
    ["connect"],
    {
      packageName: PACKAGE_NAME,
      option: "modules.PrismaMssql",
      driver: adapterVersion(),
      supported: SUPPORTED,
    },
  );
  return given as PrismaAdapterModules;
}

export const adapterVersion = (): string => installedVersion("@prisma/adapter-mssql", __filename);
