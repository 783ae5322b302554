import { readStandInSettings } from "@entra-sql/core";
import { createEntraKnexConfig } from "@entra-sql/knex";
import knex from "knex";

// Azure SQL when AZURE_SQL_SERVER is set; otherwise the local stand-ins, from the file they wrote.
function knexConfig() {
  const server = process.env.AZURE_SQL_SERVER;
  if (server) {
    return createEntraKnexConfig(
      knex,
      { connection: { server, database: process.env.AZURE_SQL_DATABASE, options: { encrypt: true } } },
      { credential: "default" }, // az login on a laptop, a managed identity in Azure, ...
    );
  }
  const local = readStandInSettings(process.env.STAND_INS_FILE ?? "../entra-sql/stand-ins.json");
  return createEntraKnexConfig(
    knex,
    { connection: local.sql },
    { tokenSource: local.tokenSource, scope: local.scope },
  );
}

async function main() {
  const db = knex(knexConfig());
  const [row] = await db.raw("SELECT SUSER_SNAME() AS who");
  console.log(`Knex is connected as ${row.who}`);
  await db.destroy();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
