import type { TokenSource } from "@entra-sql/core";
import {
  type EntraPrismaEvent,
  type EntraPrismaOptions,
  entraPrismaMssql,
  type PrismaMssqlConfig,
} from "@entra-sql/prisma";
import type { StandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";
import { PrismaClient } from "./generated/client.js";

// Shared by the Prisma integration files: a PrismaClient (Prisma 7.10, generated from schema.prisma by
// `pnpm run build`) whose driver adapter is entraPrismaMssql(...) for the SQL stand-in, the tables of the
// schema created with SQL through the client (migrate's schema engine is not available offline), and an
// event recorder. Token sources and identity counters are the mssql suite's helpers.

export {
  demoApp,
  demoAppTokenSource,
  identityRequests,
  SQL_SCOPE,
  sleep,
} from "../mssql/helpers.js";
export { PrismaClient };

export type TokenMode = "inline" | "token-credential";

/** Both token modes, with the auth mode the stand-in records for each. */
export const TOKEN_MODES = [
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const;

/** Mode options: inline needs the scope (127.0.0.1 names no cloud). */
export function modeOptions(tokenMode: TokenMode) {
  return tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };
}

/** The node-mssql config PrismaMssql takes, for the stand-in (its CA trusted, never trustServerCertificate). */
export function prismaConfig(standIns: StandIns, pool: { min?: number; max?: number } = { min: 0, max: 4 }) {
  const { sql } = standIns;
  return { server: sql.host, port: sql.port, database: sql.database, options: sql.tlsOptions(), pool };
}

export interface TestClient {
  prisma: PrismaClient;
  adapter: ReturnType<typeof entraPrismaMssql>;
  events: EntraPrismaEvent[];
}

/** A PrismaClient on entraPrismaMssql over `tokenSource`; `events` records the adapter's events. */
export function prismaClient(
  standIns: StandIns,
  tokenSource: TokenSource,
  tokenMode: TokenMode,
  options: Omit<EntraPrismaOptions, "tokenSource" | "tokenMode" | "scope" | "onEvent"> & {
    pool?: { min?: number; max?: number };
    /** More node-mssql settings, e.g. `validateConnection: "socket"`. */
    config?: Partial<PrismaMssqlConfig>;
  } = {},
): TestClient {
  const { pool, config, ...rest } = options;
  const events: EntraPrismaEvent[] = [];
  const adapter = entraPrismaMssql(
    { ...prismaConfig(standIns, pool), ...config },
    {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent: (event) => events.push(event),
      ...rest,
    },
  );
  return { prisma: new PrismaClient({ adapter }), adapter, events };
}

/** The schema's tables, dropped first (each file's tests share one stand-in database). */
export async function createTables(prisma: {
  $executeRawUnsafe(sql: string): PromiseLike<number>;
}): Promise<void> {
  await prisma.$executeRawUnsafe("DROP TABLE IF EXISTS [dbo].[Book]");
  await prisma.$executeRawUnsafe("DROP TABLE IF EXISTS [dbo].[Author]");
  await prisma.$executeRawUnsafe(
    "CREATE TABLE [dbo].[Author] ([id] INT NOT NULL IDENTITY(1,1), [name] NVARCHAR(200) NOT NULL, CONSTRAINT [Author_pkey] PRIMARY KEY CLUSTERED ([id]))",
  );
  await prisma.$executeRawUnsafe(
    "CREATE TABLE [dbo].[Book] ([id] INT NOT NULL IDENTITY(1,1), [title] NVARCHAR(200) NOT NULL, [authorId] INT NOT NULL, CONSTRAINT [Book_pkey] PRIMARY KEY CLUSTERED ([id]), CONSTRAINT [Book_authorId_fkey] FOREIGN KEY ([authorId]) REFERENCES [dbo].[Author]([id]) ON DELETE NO ACTION ON UPDATE CASCADE)",
  );
}

export const ofType = <T extends EntraPrismaEvent["type"]>(events: EntraPrismaEvent[], type: T) =>
  events.filter((e): e is Extract<EntraPrismaEvent, { type: T }> => e.type === type);

/** The settled value of a promise that should reject: its error, or `undefined` when it resolved. */
export const failureOf = (promise: PromiseLike<unknown>): Promise<unknown> =>
  Promise.resolve(promise).then(
    () => undefined,
    (error: unknown) => error,
  );
