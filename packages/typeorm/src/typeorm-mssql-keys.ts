import type { SqlServerDataSourceOptions } from "./options.js";

// The top-level keys of TypeORM's DataSource options for `type: "mssql"`, in every TypeORM this package
// supports (peer range >=0.3.20 <2), so that entraDataSourceOptions can tell a TypeORM option from a
// misspelt or misplaced Entra one. Source: the declarations of SqlServerDataSourceOptions (1.x) and
// SqlServerConnectionOptions (0.3) with the interfaces they extend, BaseDataSourceOptions and
// SqlServerConnectionCredentialsOptions, in typeorm 1.1.1 and 0.3.31. typeorm-mssql-keys.test.ts reads
// the installed declarations of both versions and fails when this list differs from them.

// A record over the keys of the TypeORM this package is built against (its devDependency): a key that a
// new TypeORM adds, or removes, fails to compile here.
const CURRENT_KEYS: Record<keyof SqlServerDataSourceOptions, true> = {
  // SqlServerDataSourceOptions
  type: true,
  connectionTimeout: true,
  requestTimeout: true,
  stream: true,
  schema: true,
  driver: true,
  pool: true,
  options: true,
  replication: true,
  poolSize: true,
  // SqlServerConnectionCredentialsOptions
  url: true,
  host: true,
  port: true,
  database: true,
  username: true,
  password: true,
  authentication: true,
  // BaseDataSourceOptions
  entities: true,
  subscribers: true,
  migrations: true,
  migrationsTableName: true,
  migrationsTransactionMode: true,
  metadataTableName: true,
  namingStrategy: true,
  logging: true,
  logger: true,
  maxQueryExecutionTime: true,
  synchronize: true,
  migrationsRun: true,
  dropSchema: true,
  entityPrefix: true,
  entitySkipConstructor: true,
  extra: true,
  relationLoadStrategy: true,
  typename: true,
  cache: true,
  isolateWhereStatements: true,
  invalidWhereValuesBehavior: true,
  isolationLevel: true,
};

/** Keys of TypeORM 0.3 that 1.x removed: the connection `name`, and the NTLM `domain` of the credentials. */
const ONLY_IN_TYPEORM_0_3 = ["name", "domain"] as const;

/** Every top-level key TypeORM's mssql options have in a supported TypeORM version. */
export const TYPEORM_MSSQL_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(CURRENT_KEYS),
  ...ONLY_IN_TYPEORM_0_3,
]);
