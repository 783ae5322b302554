import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import { DataSource } from "typeorm";
import type { AppConfig } from "./config.js";
import { Customer, Order } from "./entities.js";
import { Init1700000000000 } from "./migrations/1700000000000-init.js";
import type { RunningStandIns } from "./stand-ins.js";

// The DataSource: Azure SQL with a credential preset, or the local stand-ins with the demo app's
// service principal. Either way TypeORM gets its options from entraDataSourceOptions.

const SQL_SCOPE = "https://database.windows.net/.default";

export function createDataSource(
  config: AppConfig,
  standIns: RunningStandIns | undefined,
  onEvent: (event: EntraMssqlEvent) => void,
) {
  const common = {
    tokenMode: config.tokenMode,
    maxAgeInMs: config.maxAgeSeconds * 1000,
    onEvent,
    entities: [Customer, Order],
    migrations: [Init1700000000000],
    migrationsRun: true,
    synchronize: false,
    pool: { max: 5, min: 0 },
  };
  if (standIns === undefined) {
    const options = entraDataSourceOptions({
      ...common,
      credential: config.credential,
      ...(config.scope === undefined ? {} : { scope: config.scope }),
      host: config.server,
      port: config.port,
      database: config.database,
      options: { encrypt: true },
    });
    return { dataSource: new DataSource(options), tokenSource: options.driver.tokenSource };
  }
  const { entra, sql } = standIns.settings;
  const options = entraDataSourceOptions({
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
    host: sql.host,
    port: sql.port,
    database: sql.database,
    options: {
      encrypt: true,
      trustServerCertificate: false,
      serverName: "localhost",
      cryptoCredentialsDetails: { ca: standIns.sqlCa },
    },
  });
  return { dataSource: new DataSource(options), tokenSource: options.driver.tokenSource };
}
