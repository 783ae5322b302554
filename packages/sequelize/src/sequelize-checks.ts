import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { checkConnectionSettings, installedVersion, requireMethods } from "@entra-sql/driver-kit";
import { PACKAGE_NAME } from "./options.js";
import type { SequelizeInstance } from "./sequelize-internals.js";

const invalidOption = invalidOptionFor(PACKAGE_NAME);

// The Sequelize instance handed to withEntraTokens, checked before anything is installed: an mssql
// instance of a Sequelize 6 whose internals this package overrides, with no competing authentication,
// no replication, no validation of its own and no connection made yet. Gives the server it logs in to.

/** The ConnectionManager and Query methods this package overrides or calls, by what they serve. */
const CONNECTION_MANAGER_METHODS = Object.values({
  connections: ["connect", "disconnect", "validate"],
  pool: ["getConnection", "releaseConnection", "close"],
}).flat();
const QUERY_METHODS = ["run"];

const SUPPORTED = 'a Sequelize 6 instance (>= 6.29) made with dialect "mssql"';

/** "sequelize 6.37.8": the instance's own Sequelize.version, else the one this package resolves. */
export function sequelizeVersion(sequelize: object): string {
  const version = (sequelize.constructor as { version?: unknown } | undefined)?.version;
  return typeof version === "string" ? `sequelize ${version}` : installedVersion("sequelize", __filename);
}

export function checkSequelize(sequelize: unknown): string {
  if (typeof sequelize !== "object" || sequelize === null || !("connectionManager" in sequelize)) {
    throw invalidOption(
      "sequelize",
      describeOptionValue(sequelize),
      `${SUPPORTED}, e.g. new Sequelize({ dialect: "mssql", host: "myserver.database.windows.net", database: "app" })`,
    );
  }
  const instance = sequelize as SequelizeInstance;
  const dialect = instance.options?.dialect;
  if (dialect !== "mssql") {
    throw invalidOption("sequelize.options.dialect", describeOptionValue(dialect), '"mssql"');
  }
  const version = sequelizeVersion(instance);
  const major = /^sequelize (\d+)\.(\d+)/.exec(version);
  if (major !== null && (Number(major[1]) !== 6 || Number(major[2]) < 29)) {
    throw invalidOption("sequelize", version, SUPPORTED);
  }
  const about = { packageName: PACKAGE_NAME, option: "sequelize", supported: SUPPORTED };
  requireMethods(instance.connectionManager, CONNECTION_MANAGER_METHODS, {
    ...about,
    driver: `${version}, whose mssql connection manager`,
  });
  requireMethods(instance.dialect?.Query?.prototype, QUERY_METHODS, {
    ...about,
    driver: `${version}, whose mssql Query`,
  });
  const lib = instance.connectionManager.lib;
  if (typeof lib?.Connection !== "function") {
    throw invalidOption(
      "sequelize.options.dialectModule",
      describeOptionValue(lib),
      "tedious (19.2 or later), or nothing (Sequelize loads tedious itself)",
    );
  }
  const config = instance.config ?? {};
  for (const [key, value] of [
    ["username", config.username],
    ["password", config.password],
  ] as const) {
    if (value === undefined || value === null || value === "") continue;
    throw invalidOption(
      `sequelize.options.${key}`,
      "set (value not shown)",
      `nothing: ${PACKAGE_NAME} logs every connection in with an Entra token from its token source (remove it)`,
    );
  }
  const settings: Record<string, unknown> = {
    ...(config.dialectOptions?.options ?? {}),
    authentication: config.dialectOptions?.authentication,
    server: config.host,
  };
  const server = checkConnectionSettings(settings, "sequelize.options.dialectOptions", PACKAGE_NAME);
  if (config.replication !== undefined && config.replication !== false && config.replication !== null) {
    throw invalidOption(
      "sequelize.options.replication",
      "set",
      "no replication: this package does not log read replicas in yet (one Sequelize instance per server)",
    );
  }
  if (instance.options.pool?.validate !== undefined) {
    throw invalidOption(
      "sequelize.options.pool.validate",
      describeOptionValue(instance.options.pool.validate),
      "nothing: this package validates pooled connections (Sequelize's check, plus the max age and the token bound)",
    );
  }
  if ((instance.connectionManager.pool?.size ?? 0) > 0) {
    throw invalidOption(
      "sequelize",
      "an instance with open connections",
      "an instance that has not connected yet: call withEntraTokens(sequelize) right after new Sequelize(...)",
    );
  }
  return server;
}
