import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEntraKnexConfig, type EntraKnexEvent } from "@entra-sql/knex";
import knex, { type Knex } from "knex";
import type { AppConfig } from "./config.js";
import type { RunningStandIns } from "./stand-ins.js";

// The Knex instance: Azure SQL with a credential preset, or the local stand-ins with the demo app's
// service principal. Either way Knex gets its config from createEntraKnexConfig.

const SQL_SCOPE = "https://database.windows.net/.default";
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Knex's migrations and seeds: the compiled files next to this one (dist/migrations, dist/seeds), so
 * plain `node` runs them with no TypeScript loader.
 */
export const migrations: Knex.MigratorConfig = {
  directory: join(HERE, "migrations"),
  loadExtensions: [".js"],
};
export const seeds: Knex.SeederConfig = { directory: join(HERE, "seeds"), loadExtensions: [".js"] };

export function createDatabase(
  config: AppConfig,
  standIns: RunningStandIns | undefined,
  onEvent: (event: EntraKnexEvent) => void,
): Knex {
  const common = { tokenMode: config.tokenMode, maxAgeInMs: config.maxAgeSeconds * 1000, onEvent };
  const pool = { min: 0, max: 5 };
  if (standIns === undefined) {
    return knex(
      createEntraKnexConfig(
        knex,
        {
          connection: {
            server: config.server,
            port: config.port,
            database: config.database,
            options: { encrypt: true },
          },
          pool,
          migrations,
          seeds,
        },
        {
          ...common,
          credential: config.credential,
          ...(config.scope === undefined ? {} : { scope: config.scope }),
        },
      ),
    );
  }
  const { entra, sql } = standIns.settings;
  return knex(
    createEntraKnexConfig(
      knex,
      {
        connection: {
          server: sql.host,
          port: sql.port,
          database: sql.database,
          options: {
            encrypt: true,
            trustServerCertificate: false,
            serverName: "localhost",
            cryptoCredentialsDetails: { ca: standIns.sqlCa },
          },
        },
        pool,
        migrations,
        seeds,
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
  );
}
