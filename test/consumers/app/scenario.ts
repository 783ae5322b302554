// What a consumer app does with the packages, whichever way it loaded them (cjs.ts: require(),
// esm.mts: import): one token source, then one login + query through each adapter against the
// stand-ins. Settings come from the environment (the test passes the stand-ins' settings).
import type * as Core from "@entra-sql/core";
import type * as KnexAdapter from "@entra-sql/knex";
import type * as KyselyAdapter from "@entra-sql/kysely";
import type * as MssqlAdapter from "@entra-sql/mssql";
import type * as Opentelemetry from "@entra-sql/opentelemetry";
import type * as PrismaAdapter from "@entra-sql/prisma";
import type * as SequelizeAdapter from "@entra-sql/sequelize";
import type * as TypeormAdapter from "@entra-sql/typeorm";
import * as tarn from "tarn";
import * as tedious from "tedious";

export interface Modules {
  core: typeof Core;
  mssqlAdapter: typeof MssqlAdapter;
  knexAdapter: typeof KnexAdapter;
  typeormAdapter: typeof TypeormAdapter;
  prismaAdapter: typeof PrismaAdapter;
  sequelizeAdapter: typeof SequelizeAdapter;
  kyselyAdapter: typeof KyselyAdapter;
  opentelemetry: typeof Opentelemetry;
  Sequelize: typeof import("sequelize").Sequelize;
  mssql: typeof import("mssql");
  knex: typeof import("knex").knex;
  DataSource: typeof import("typeorm").DataSource;
}

interface Settings {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityHost: string;
  entraCa: string;
  sqlHost: string;
  sqlPort: number;
  sqlCa: string;
  database: string;
}

export async function run(format: string, m: Modules): Promise<void> {
  const s = JSON.parse(process.env.CONSUMER_SETTINGS ?? "{}") as Settings;
  const tls = { encrypt: true, serverName: "localhost", cryptoCredentialsDetails: { ca: s.sqlCa } };
  const tokenSource: Core.TokenSource = m.core.createTokenSource({
    credential: {
      type: "service-principal",
      tenantId: s.tenantId,
      clientId: s.clientId,
      clientSecret: s.clientSecret,
    },
    identityOptions: {
      authorityHost: s.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: s.entraCa },
    },
  });
  // The stand-in's host (127.0.0.1) names no Azure SQL endpoint, so the scope is given.
  const scope = "https://database.windows.net/.default";
  const events: string[] = [];
  const onEvent = (event: { type: string }) => events.push(event.type);
  const results: Record<string, unknown> = { format, node: process.version };
  // Against the global MeterProvider (the API's no-op one here): it loads and subscribes.
  const instrumentation = m.opentelemetry.instrumentEntraSql();
  try {
    results.opentelemetry =
      require("node:diagnostics_channel").channel("entra-sql:connection").hasSubscribers;
    const sql = m.mssqlAdapter.createEntraMssql(m.mssql, { tokenSource, scope, onEvent });
    const pool = await new sql.ConnectionPool({
      server: s.sqlHost,
      port: s.sqlPort,
      database: s.database,
      options: tls,
    }).connect();
    results.mssql = (await pool.request().query<{ n: number }>("SELECT 1 AS n")).recordset[0]?.n;
    await pool.close();

    const db = m.knex(
      m.knexAdapter.createEntraKnexConfig(
        m.knex,
        { connection: { server: s.sqlHost, port: s.sqlPort, database: s.database, options: tls } },
        { tokenSource, scope, onEvent },
      ),
    );
    results.knex = ((await db.raw("SELECT 2 AS n")) as Array<{ n: number }>)[0]?.n;
    await db.destroy();

    const dataSource = new m.DataSource(
      m.typeormAdapter.entraDataSourceOptions({
        host: s.sqlHost,
        port: s.sqlPort,
        database: s.database,
        options: tls,
        tokenSource,
        scope,
        onEvent,
      }),
    );
    await dataSource.initialize();
    results.typeorm = ((await dataSource.query("SELECT 3 AS n")) as Array<{ n: number }>)[0]?.n;
    await dataSource.destroy();

    // Prisma's driver adapter as PrismaClient drives it (connect, a raw query, dispose): no generated
    // client needed to load the package both ways and log in through it.
    const prisma = m.prismaAdapter.entraPrismaMssql(
      { server: s.sqlHost, port: s.sqlPort, database: s.database, options: tls },
      { tokenSource, scope, onEvent },
    );
    const driver = await prisma.connect();
    results.prisma = (await driver.queryRaw({ sql: "SELECT 4 AS n", args: [], argTypes: [] })).rows[0]?.[0];
    await driver.dispose();

    const sequelize = m.sequelizeAdapter.withEntraTokens(
      new m.Sequelize({
        dialect: "mssql",
        host: s.sqlHost,
        port: s.sqlPort,
        database: s.database,
        dialectOptions: { options: tls },
        logging: false,
      }),
      { tokenSource, scope, onEvent },
    );
    results.sequelize = (
      (await sequelize.query("SELECT 5 AS n", { plain: true })) as { n: number } | null
    )?.n;
    await sequelize.close();

    // Kysely 0.28+ is an ES module only: a CommonJS app on Node 20.18 loads it with import().
    const { Kysely, MssqlDialect, sql: rawSql } = await import("kysely");
    const kysely = new Kysely<Record<string, never>>({
      dialect: new MssqlDialect(
        m.kyselyAdapter.entraMssqlDialectConfig(
          { tedious, tarn, server: s.sqlHost, port: s.sqlPort, database: s.database, options: tls },
          { tokenSource, scope, onEvent },
        ),
      ),
    });
    results.kysely = (await rawSql<{ n: number }>`SELECT 6 AS n`.execute(kysely)).rows[0]?.n;
    await kysely.destroy();

    results.opened = events.filter((type) => type === "connection-opened").length;
    results.errorClassShared = m.core.isInvalidOptionError(new m.core.InvalidOptionError("x", "1", "y"));
    results.tedious = (require("tedious/package.json") as { version: string }).version;
    results.identity = (require("@azure/identity/package.json") as { version: string }).version;
  } finally {
    instrumentation.unsubscribe();
    tokenSource.close();
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
