import type { TokenSource } from "@entra-sql/core";
import { type EntraPrismaEvent, entraPrismaMssql } from "@entra-sql/prisma";
import type { AppConfig } from "./config.js";
import { PrismaClient } from "./generated/prisma/client.js";
import type { RunningStandIns } from "./stand-ins.js";

// The PrismaClient: Azure SQL with a credential preset, or the local stand-ins with the demo app's
// service principal. Either way Prisma gets its driver adapter from entraPrismaMssql.

const SQL_SCOPE = "https://database.windows.net/.default";

export interface Database {
  prisma: PrismaClient;
  /** The adapter's token source: close it after `prisma.$disconnect()`. */
  tokenSource: TokenSource;
}

export function createDatabase(
  config: AppConfig,
  standIns: RunningStandIns | undefined,
  onEvent: (event: EntraPrismaEvent) => void,
): Database {
  const common = { tokenMode: config.tokenMode, maxAgeInMs: config.maxAgeSeconds * 1000, onEvent };
  const pool = { min: 0, max: 5 };
  if (standIns === undefined) {
    const adapter = entraPrismaMssql(
      {
        server: config.server ?? "",
        port: config.port,
        database: config.database,
        options: { encrypt: true },
        pool,
      },
      {
        ...common,
        credential: config.credential,
        ...(config.scope === undefined ? {} : { scope: config.scope }),
      },
    );
    return { prisma: new PrismaClient({ adapter }), tokenSource: adapter.tokenSource };
  }
  const { entra, sql } = standIns.settings;
  const adapter = entraPrismaMssql(
    {
      server: sql.host,
      port: sql.port,
      database: sql.database,
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: "localhost",
        cryptoCredentialsDetails: { ca: standIns.sqlCa },
      },
      pool,
    },
    {
      ...common,
      tokenSource: {
        credential: {
          type: "service-principal",
          tenantId: entra.tenantId,
          clientId: entra.clientId,
          clientSecret: entra.clientSecret,
        },
        identityOptions: {
          authorityHost: entra.authorityHost,
          disableInstanceDiscovery: true,
          tlsOptions: { ca: standIns.entraCa },
        },
      },
      // A loopback host names no cloud: say which scope the token is for ("inline" mode only).
      ...(config.tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
    },
  );
  return { prisma: new PrismaClient({ adapter }), tokenSource: adapter.tokenSource };
}
