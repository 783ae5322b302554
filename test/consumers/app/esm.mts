// The ES module consumer: every package through import.
import * as core from "@entra-sql/core";
import * as knexAdapter from "@entra-sql/knex";
import * as kyselyAdapter from "@entra-sql/kysely";
import * as mssqlAdapter from "@entra-sql/mssql";
import * as opentelemetry from "@entra-sql/opentelemetry";
import * as prismaAdapter from "@entra-sql/prisma";
import * as sequelizeAdapter from "@entra-sql/sequelize";
import * as typeormAdapter from "@entra-sql/typeorm";
import knexModule from "knex";
import mssql from "mssql";
import { Sequelize } from "sequelize";
import typeorm from "typeorm";
import { run } from "./scenario.js";

const { knex } = knexModule;
await run("esm", {
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
  DataSource: typeorm.DataSource,
});
