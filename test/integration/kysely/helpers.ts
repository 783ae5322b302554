import {
  type EntraKyselyEvent,
  type EntraKyselyOptions,
  type EntraMssqlDialectConfig,
  type EntraMssqlDialectSettings,
  entraMssqlDialectConfig,
} from "@entra-sql/kysely";
import * as kysely29 from "kysely";
import * as kysely27 from "kysely-0.27";
import * as Tarn from "tarn";
import * as Tedious from "tedious";
import type { StandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";

// Shared by the @entra-sql/kysely integration files: the Kysely versions under test (the oldest and newest
// supported: 0.27.0 and 0.29.9), a Kysely on the SQL stand-in through Kysely's own MssqlDialect with this
// package's config, and an event recorder. Token sources and identity counters are the mssql suite's.

export { demoApp, demoAppTokenSource, identityRequests, SQL_SCOPE, sleep } from "../mssql/helpers.js";
export { expectValidTokenLogins } from "../typeorm/helpers.js";

/** The tables the tests use. */
export interface Database {
  [table: string]: { id: number; name: string };
}

/** A Kysely instance of either version (their types differ slightly; the tests use the shared surface). */
export type AnyKysely = kysely29.Kysely<Database>;

export interface KyselyVersion {
  version: "0.27.0" | "0.29.9";
  sql: typeof kysely29.sql;
  create(config: EntraMssqlDialectConfig<typeof Tedious, typeof Tarn>): AnyKysely;
}

export const KYSELY_VERSIONS: readonly KyselyVersion[] = [
  {
    version: "0.27.0",
    sql: kysely27.sql as unknown as typeof kysely29.sql,
    create: (config) =>
      new kysely27.Kysely<Database>({
        // Kysely 0.27's declared TediousConnection wants `beginTransaction(cb: (error?: Error) => void)`;
        // tedious 19's callback also takes null, so tedious 19's Connection does not fit 0.27's type (the
        // same for any 0.27 app on tedious 19; at run time they work together).
        dialect: new kysely27.MssqlDialect(config as never),
      }) as unknown as AnyKysely,
  },
  {
    version: "0.29.9",
    sql: kysely29.sql,
    create: (config) => new kysely29.Kysely<Database>({ dialect: new kysely29.MssqlDialect(config) }),
  },
];

export const TOKEN_MODES = [
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const;

/** Every (Kysely version, token mode) pair. */
export function versionModes(versions: readonly KyselyVersion[] = KYSELY_VERSIONS) {
  return versions.flatMap((v) =>
    TOKEN_MODES.map(
      ([tokenMode, authMode]) =>
        [`Kysely ${v.version}, tokenMode ${tokenMode}`, v, tokenMode, authMode] as const,
    ),
  );
}

/** Mode options: inline needs the scope (127.0.0.1 names no cloud). */
export function modeOptions(tokenMode: "inline" | "token-credential") {
  return tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };
}

/** Settings for the stand-in that trust its CA (never trustServerCertificate); no authentication. */
export function dialectSettings(
  standIns: StandIns,
  pool: Record<string, unknown> = { min: 0, max: 4 },
): EntraMssqlDialectSettings<typeof Tedious, typeof Tarn> {
  const { sql } = standIns;
  return {
    tedious: Tedious,
    tarn: Tarn,
    server: sql.host,
    port: sql.port,
    database: sql.database,
    options: { ...sql.tlsOptions() },
    pool,
  };
}

/** A Kysely of version `v` on the stand-in with these options; `extra` overrides settings. */
export function entraKysely(
  v: KyselyVersion,
  standIns: StandIns,
  options: EntraKyselyOptions,
  extra: Partial<EntraMssqlDialectSettings<typeof Tedious, typeof Tarn>> = {},
) {
  const config = entraMssqlDialectConfig({ ...dialectSettings(standIns), ...extra }, options);
  return { db: v.create(config), config };
}

export function recorder() {
  const events: EntraKyselyEvent[] = [];
  return { events, onEvent: (event: EntraKyselyEvent) => events.push(event) };
}

export const ofType = <T extends EntraKyselyEvent["type"]>(events: EntraKyselyEvent[], type: T) =>
  events.filter((e): e is Extract<EntraKyselyEvent, { type: T }> => e.type === type);

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
