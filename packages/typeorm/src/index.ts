// @entra-sql/typeorm: TypeORM DataSource options for SQL Server with Microsoft Entra ID tokens.

export {
  type EntraDataSourceOptions,
  type EntraDriver,
  entraDataSourceOptions,
} from "./entra-data-source-options.js";
export type { EntraTypeOrmOptions, SqlServerDataSourceOptions, TypeOrmPassThrough } from "./options.js";
