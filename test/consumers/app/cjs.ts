// The CommonJS consumer (what `npm init -y` and `nest new` create): every package through require().
import * as core from "@entra-sql/core";
import * as knexAdapter from "@entra-sql/knex";
import * as kyselyAdapter from "@entra-sql/kysely";
import * as mssqlAdapter from "@entra-sql/mssql";
import * as opentelemetry from "@entra-sql/opentelemetry";
import * as prismaAdapter from "@entra-sql/prisma";
import * as sequelizeAdapter from "@entra-sql/sequelize";
import * as typeormAdapter from "@entra-sql/typeorm";
import { knex } from "knex";

import mssql = require("mssql");

import { Sequelize } from "sequelize";
import { DataSource } from "typeorm";
import { run } from "./scenario";

run("cjs", {
  core,
  mssqlAdapter,
  knexAdapter,
  typeormAdapter,
  prismaAdapter,
  sequelizeAdapter,
  kyselyAdapter,
  opentelemetry,
  Sequelize,
  mssql,
  knex,
  DataSource,
}).catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
