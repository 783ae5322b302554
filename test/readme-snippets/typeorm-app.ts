import "reflect-metadata";
import { readStandInSettings } from "@entra-sql/core";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import { DataSource } from "typeorm";

// Azure SQL when AZURE_SQL_SERVER is set; otherwise the local stand-ins, from the file they wrote.
function dataSourceOptions() {
  const server = process.env.AZURE_SQL_SERVER;
  if (server) {
    return entraDataSourceOptions({
      credential: "default", // az login on a laptop, a managed identity in Azure, ...
      host: server, // e.g. myserver.database.windows.net
      database: process.env.AZURE_SQL_DATABASE,
      options: { encrypt: true },
    });
  }
  const local = readStandInSettings(process.env.STAND_INS_FILE ?? "../entra-sql/stand-ins.json");
  return entraDataSourceOptions({
    tokenSource: local.tokenSource,
    scope: local.scope,
    host: local.sql.server,
    port: local.sql.port,
    database: local.sql.database,
    options: local.sql.options,
  });
}

async function main() {
  const dataSource = new DataSource({ ...dataSourceOptions(), entities: [] });
  await dataSource.initialize();
  const [row] = await dataSource.query("SELECT SUSER_SNAME() AS who");
  console.log(`TypeORM is connected as ${row.who}`);
  await dataSource.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
