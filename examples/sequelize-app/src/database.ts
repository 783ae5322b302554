import { type EntraSequelizeEvent, withEntraTokens } from "@entra-sql/sequelize";
import { Sequelize } from "sequelize";
import type { AppConfig } from "./config.js";
import type { RunningStandIns } from "./stand-ins.js";

// The Sequelize instance: Azure SQL with a credential preset, or the local stand-ins with the demo app's
// service principal. Either way a plain `new Sequelize({ dialect: "mssql", ... })` with no username,
// password or authentication, handed to withEntraTokens before its first query.

const SQL_SCOPE = "https://database.windows.net/.default";

export function createDatabase(
  config: AppConfig,
  standIns: RunningStandIns | undefined,
  onEvent: (event: EntraSequelizeEvent) => void,
): Sequelize {
  const common = { tokenMode: config.tokenMode, maxAgeInMs: config.maxAgeSeconds * 1000, onEvent };
  const pool = { min: 0, max: 5 };
  if (standIns === undefined) {
    return withEntraTokens(
      new Sequelize({
        dialect: "mssql",
        host: config.server,
        port: config.port,
        database: config.database,
        dialectOptions: { options: { encrypt: true } },
        pool,
        logging: false,
      }),
      {
        ...common,
        credential: config.credential,
        ...(config.scope === undefined ? {} : { scope: config.scope }),
      },
    );
  }
  const { entra, sql } = standIns.settings;
  return withEntraTokens(
    new Sequelize({
      dialect: "mssql",
      host: sql.host,
      port: sql.port,
      database: sql.database,
      dialectOptions: {
        options: {
          encrypt: true,
          trustServerCertificate: false,
          serverName: "localhost",
          cryptoCredentialsDetails: { ca: standIns.sqlCa },
        },
      },
      pool,
      logging: false,
    }),
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
}
