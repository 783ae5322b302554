// The README's usage steps as code, so that they type-check. Not exported from the package.
import { createTokenSource } from "@entra-sql/core";
import mssql from "mssql";
import { DataSource, EntitySchema } from "typeorm";
import { entraDataSourceOptions } from "./index.js";

const Customer = new EntitySchema<{ id: number; name: string }>({
  name: "Customer",
  columns: { id: { type: Number, primary: true, generated: true }, name: { type: String } },
});

// Step 2: one line of Entra options next to the usual TypeORM ones.
export const options = entraDataSourceOptions({
  credential: "managed-identity", // Django: "TOKEN": DatabaseToken()
  maxAgeInMs: 30 * 60_000, // Django: "CONN_MAX_AGE": 30 * 60
  host: "myserver.database.windows.net", // Django: "HOST"
  database: "app", // Django: "NAME"
  entities: [Customer],
  migrationsRun: true,
  synchronize: false,
  pool: { max: 10 },
});

export const dataSource = new DataSource(options);

// Your own token source, shared with other data sources, and your own mssql module.
const tokens = createTokenSource({ credential: ["cli", "managed-identity"] });
export const reporting = new DataSource({
  ...entraDataSourceOptions({ tokenSource: tokens, mssql }),
  replication: {
    master: { host: "primary.database.windows.net", database: "app" },
    slaves: [{ host: "replica.database.windows.net", database: "app" }],
  },
  entities: [Customer],
});

// Step 4: on shutdown.
export async function shutdown(): Promise<void> {
  await dataSource.destroy();
  options.driver.tokenSource.close(); // this package created it
  await reporting.destroy();
  tokens.close(); // yours
}
