import type { EntraKnexEvent, EntraKnexUserConfig, KnexModule } from "@entra-sql/knex";
import knex33 from "knex";
import knex31 from "knex-3.1";
import knex32 from "knex-3.2";
import type { StandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";

// Shared by the @entra-sql/knex integration files: the Knex versions under test (the oldest and newest
// supported, and 3.2, the first with Knex's own connection lifetime cap), a Knex config for the SQL
// stand-in, and an event recorder. Token sources and identity counters are the mssql suite's helpers.

export { demoApp, demoAppTokenSource, identityRequests, SQL_SCOPE, sleep } from "../mssql/helpers.js";

/** A Knex instance, as any of the versions under test makes it (their types differ slightly). */
export type AnyKnex = ReturnType<typeof knex33>;

export interface KnexVersion {
  version: "3.1" | "3.2" | "3.3";
  knex: KnexModule;
  /** Knex >= 3.3 passes a TokenCredential to tedious. */
  tokenCredential: boolean;
  create(config: object): AnyKnex;
}

export const KNEX_VERSIONS: readonly KnexVersion[] = [
  {
    version: "3.1",
    knex: knex31,
    tokenCredential: false,
    create: (c) => knex31(c as never) as never,
  },
  {
    version: "3.2",
    knex: knex32,
    tokenCredential: false,
    create: (c) => knex32(c as never) as never,
  },
  {
    version: "3.3",
    knex: knex33,
    tokenCredential: true,
    create: (c) => knex33(c as never),
  },
];

/** The oldest and the newest supported Knex. */
export const OLDEST_AND_NEWEST = KNEX_VERSIONS.filter((v) => v.version !== "3.2");

/** Every (Knex version, token mode) pair the version supports. */
export function versionModes(versions: readonly KnexVersion[] = KNEX_VERSIONS) {
  return versions.flatMap((v) =>
    (v.tokenCredential ? (["inline", "token-credential"] as const) : (["inline"] as const)).map(
      (tokenMode) => [`Knex ${v.version}, tokenMode ${tokenMode}`, v, tokenMode] as const,
    ),
  );
}

/** Mode options: inline needs the scope (127.0.0.1 names no cloud). */
export function modeOptions(tokenMode: "inline" | "token-credential") {
  return tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };
}

/** A Knex config for the stand-in that trusts its CA (never trustServerCertificate); no authentication. */
export function knexConfig(standIns: StandIns, pool: Record<string, unknown> = { min: 0, max: 4 }) {
  const { sql } = standIns;
  return {
    connection: {
      server: sql.host,
      port: sql.port,
      database: sql.database,
      options: { ...sql.tlsOptions() },
    },
    pool,
  } satisfies EntraKnexUserConfig;
}

export function recorder() {
  const events: EntraKnexEvent[] = [];
  return { events, onEvent: (event: EntraKnexEvent) => events.push(event) };
}

export const ofType = <T extends EntraKnexEvent["type"]>(events: EntraKnexEvent[], type: T) =>
  events.filter((e): e is Extract<EntraKnexEvent, { type: T }> => e.type === type);

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
