import { parseArgs } from "node:util";
import type { CredentialPresetName } from "@entra-sql/core";
import { logDiagnostics } from "@entra-sql/knex";

// Everything the app reads from its environment (and the one command-line option).

export interface AppConfig {
  /** AZURE_SQL_SERVER; unset: the app starts the local stand-ins. */
  server: string | undefined;
  /** AZURE_SQL_DATABASE. */
  database: string | undefined;
  /** AZURE_SQL_PORT, default 1433. */
  port: number;
  /** ENTRA_SQL_CREDENTIAL: a core preset name, default "default". */
  credential: CredentialPresetName;
  /** ENTRA_SQL_TOKEN_MODE: "inline" (default) or "token-credential". */
  tokenMode: "inline" | "token-credential";
  /**
   * ENTRA_SQL_SCOPE: the token scope when the server's host name names no cloud (a custom DNS alias);
   * "inline" mode only. Unset: derived from AZURE_SQL_SERVER.
   */
  scope: string | undefined;
  /** ENTRA_SQL_MAX_AGE_SECONDS, default 1800 (Django's CONN_MAX_AGE). */
  maxAgeSeconds: number;
  /** --duration <s> or LOAD_SECONDS: run a light load loop this long after the walkthrough, default 0. */
  loadSeconds: number;
}

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${text}"`);
  return value;
}

/** ENTRA_SQL_DEBUG=1: each token and connection event as one line on stderr (subscribed once). */
let printingDiagnostics = false;

export function readConfig(env: NodeJS.ProcessEnv = process.env, argv = process.argv.slice(2)): AppConfig {
  const { values } = parseArgs({ args: argv, options: { duration: { type: "string" } }, strict: true });
  if (env.ENTRA_SQL_DEBUG === "1" && !printingDiagnostics) {
    logDiagnostics((line) => console.error(line));
    printingDiagnostics = true;
  }
  const tokenMode = env.ENTRA_SQL_TOKEN_MODE || "inline";
  if (tokenMode !== "inline" && tokenMode !== "token-credential") {
    throw new Error(`ENTRA_SQL_TOKEN_MODE must be "inline" or "token-credential", got "${tokenMode}"`);
  }
  const scope = env.ENTRA_SQL_SCOPE || undefined;
  if (scope && tokenMode === "token-credential") {
    throw new Error(
      `ENTRA_SQL_SCOPE ("${scope}") applies to ENTRA_SQL_TOKEN_MODE "inline" only: in "token-credential" mode the server names the scope; unset one of them`,
    );
  }
  const server = env.AZURE_SQL_SERVER || undefined;
  const database = env.AZURE_SQL_DATABASE || undefined;
  if (server && !database) throw new Error("AZURE_SQL_DATABASE is required with AZURE_SQL_SERVER");
  return {
    server,
    database,
    port: positiveNumber("AZURE_SQL_PORT", env.AZURE_SQL_PORT, 1433),
    credential: (env.ENTRA_SQL_CREDENTIAL || "default") as CredentialPresetName,
    tokenMode,
    scope,
    maxAgeSeconds: positiveNumber("ENTRA_SQL_MAX_AGE_SECONDS", env.ENTRA_SQL_MAX_AGE_SECONDS, 1800),
    loadSeconds: positiveNumber(
      values.duration === undefined ? "LOAD_SECONDS" : "--duration",
      values.duration ?? env.LOAD_SECONDS,
      0,
    ),
  };
}
