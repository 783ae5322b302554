import type { EntraSequelizeEvent } from "@entra-sql/sequelize";
import { Sequelize as Sequelize637 } from "sequelize";
import { Sequelize as Sequelize629 } from "sequelize-6.29";
import type { StandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";

// Shared by the @entra-sql/sequelize integration files: the Sequelize versions under test (the oldest and
// newest supported), a Sequelize for the SQL stand-in, and an event recorder. Token sources and identity
// counters are the mssql suite's helpers.

export { demoApp, demoAppTokenSource, identityRequests, SQL_SCOPE, sleep } from "../mssql/helpers.js";

export type AnySequelize = InstanceType<typeof Sequelize637>;

export interface SequelizeVersion {
  version: "6.29.0" | "6.37.8";
  create(options: object): AnySequelize;
}

export const SEQUELIZE_VERSIONS: readonly SequelizeVersion[] = [
  { version: "6.29.0", create: (o) => new Sequelize629(o as never) as unknown as AnySequelize },
  { version: "6.37.8", create: (o) => new Sequelize637(o as never) },
];

/** Every (Sequelize version, token mode) pair. */
export function versionModes(versions: readonly SequelizeVersion[] = SEQUELIZE_VERSIONS) {
  return versions.flatMap((v) =>
    (["inline", "token-credential"] as const).map(
      (tokenMode) => [`Sequelize ${v.version}, tokenMode ${tokenMode}`, v, tokenMode] as const,
    ),
  );
}

/** Mode options: inline needs the scope (127.0.0.1 names no cloud). */
export function modeOptions(tokenMode: "inline" | "token-credential") {
  return tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };
}

/**
 * Sequelize options for the stand-in that trust its CA (never trustServerCertificate); no authentication.
 * `databaseVersion` is set, as an app that knows its server would: else Sequelize's first query opens one
 * more connection of its own to read the server's version (it works too; the tests that count logins
 * would count it).
 */
export function sequelizeOptions(standIns: StandIns, pool: Record<string, unknown> = { min: 0, max: 4 }) {
  const { sql } = standIns;
  return {
    dialect: "mssql",
    host: sql.host,
    port: sql.port,
    database: sql.database,
    dialectOptions: { options: { ...sql.tlsOptions() } },
    pool,
    logging: false,
    databaseVersion: "16.0.0",
  };
}

export function recorder() {
  const events: EntraSequelizeEvent[] = [];
  return { events, onEvent: (event: EntraSequelizeEvent) => events.push(event) };
}

export const ofType = <T extends EntraSequelizeEvent["type"]>(events: EntraSequelizeEvent[], type: T) =>
  events.filter((e): e is Extract<EntraSequelizeEvent, { type: T }> => e.type === type);

/** Runs `step` until `done()` or the deadline; returns whether `done()` was reached. */
export async function until(
  done: () => boolean,
  step: () => Promise<unknown>,
  deadlineMs: number,
): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await step();
  }
  return true;
}
