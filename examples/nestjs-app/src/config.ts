import type { CredentialPresetName } from "@entra-sql/core";
import { logDiagnostics } from "@entra-sql/mssql";
import { Logger } from "@nestjs/common";

// Everything the app reads from its environment: the database variables of examples/typeorm-app, plus
// where the HTTP server listens.

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
  /** ENTRA_SQL_SCOPE: the token scope for a host name that names no cloud; "inline" mode only. */
  scope: string | undefined;
  /** ENTRA_SQL_MAX_AGE_SECONDS, default 1800 (Django's CONN_MAX_AGE). */
  maxAgeSeconds: number;
  /** PORT, default 3000 as in `nest new`; 0 picks a free port. */
  httpPort: number;
  /** HOST, default 127.0.0.1 (loopback only); a container sets 0.0.0.0. */
  httpHost: string;
}

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${text}"`);
  return value;
}

/** ENTRA_SQL_DEBUG=1: each token and connection event as one line through Nest's Logger (subscribed once). */
let printingDiagnostics = false;

export function readConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  if (env.ENTRA_SQL_DEBUG === "1" && !printingDiagnostics) {
    logDiagnostics((line) => Logger.log(line, "EntraSql"));
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
  const httpPort = number("PORT", env.PORT, 3000);
  if (!Number.isInteger(httpPort) || httpPort > 65535)
    throw new Error(`PORT must be 0-65535, got "${env.PORT}"`);
  return {
    server,
    database,
    port: number("AZURE_SQL_PORT", env.AZURE_SQL_PORT, 1433),
    credential: (env.ENTRA_SQL_CREDENTIAL || "default") as CredentialPresetName,
    tokenMode,
    scope,
    maxAgeSeconds: number("ENTRA_SQL_MAX_AGE_SECONDS", env.ENTRA_SQL_MAX_AGE_SECONDS, 1800),
    httpPort,
    httpHost: env.HOST || "127.0.0.1",
  };
}
