import { type EntraKyselyEvent, entraMssqlDialectConfig } from "@entra-sql/kysely";
import { Kysely, MssqlDialect } from "kysely";
import * as Tarn from "tarn";
import * as Tedious from "tedious";
import type { AppConfig } from "./config.js";
import type { Database } from "./schema.js";
import type { RunningStandIns } from "./stand-ins.js";

// The Kysely instance: Azure SQL with a credential preset, or the local stand-ins with the demo app's
// service principal. Either way Kysely's own MssqlDialect gets its config from entraMssqlDialectConfig
// (the tedious and tarn modules are handed in: the package imports neither).

const SQL_SCOPE = "https://database.windows.net/.default";

export function createDatabase(
  config: AppConfig,
  standIns: RunningStandIns | undefined,
  onEvent: (event: EntraKyselyEvent) => void,
): Kysely<Database> {
  const common = { tokenMode: config.tokenMode, maxAgeInMs: config.maxAgeSeconds * 1000, onEvent };
  const pool = { min: 0, max: 5 };
  if (standIns === undefined) {
    return new Kysely<Database>({
      dialect: new MssqlDialect(
        entraMssqlDialectConfig(
          {
            tedious: Tedious,
            tarn: Tarn,
            server: config.server as string,
            port: config.port,
            database: config.database as string,
            options: { encrypt: true },
            pool,
          },
          {
            ...common,
            credential: config.credential,
            ...(config.scope === undefined ? {} : { scope: config.scope }),
          },
        ),
      ),
    });
  }
  const { entra, sql } = standIns.settings;
  return new Kysely<Database>({
    dialect: new MssqlDialect(
      entraMssqlDialectConfig(
        {
          tedious: Tedious,
          tarn: Tarn,
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
      ),
    ),
  });
}
