import type { CredentialPresetName } from "@entra-sql/core";

// The live suite's settings: the same environment variables as the example apps, so a developer who
// can run an example against Azure SQL can run this suite against the same database.

export interface LiveSettings {
  server: string;
  database: string;
  port: number;
  credential: CredentialPresetName;
  /** ENTRA_SQL_SCOPE: only for hosts whose suffix names no cloud (a custom DNS alias, the stand-ins). */
  scope: string | undefined;
}

const PRESETS: readonly CredentialPresetName[] = [
  "default",
  "cli",
  "developer-cli",
  "managed-identity",
  "workload-identity",
  "environment",
];

/** Raised before any test runs when the settings are missing or wrong: the suite never "skips". */
export class LiveSettingsError extends Error {
  override name = "LiveSettingsError";
}

export function readLiveSettings(env: NodeJS.ProcessEnv = process.env): LiveSettings {
  const server = env.AZURE_SQL_SERVER?.trim();
  const database = env.AZURE_SQL_DATABASE?.trim();
  if (!server || !database) {
    throw new LiveSettingsError(
      "The live suite runs against a real Azure SQL database and needs AZURE_SQL_SERVER " +
        `(got ${JSON.stringify(env.AZURE_SQL_SERVER ?? null)}) and AZURE_SQL_DATABASE ` +
        `(got ${JSON.stringify(env.AZURE_SQL_DATABASE ?? null)}). Example: ` +
        "AZURE_SQL_SERVER=myserver.database.windows.net AZURE_SQL_DATABASE=mydb pnpm test:live " +
        "(after `az login`; see test/README.md, 'Live suite').",
    );
  }
  const credential = (env.ENTRA_SQL_CREDENTIAL?.trim() || "default") as CredentialPresetName;
  if (!PRESETS.includes(credential)) {
    throw new LiveSettingsError(
      `ENTRA_SQL_CREDENTIAL must be one of ${PRESETS.join(", ")}; got ${JSON.stringify(credential)}.`,
    );
  }
  const portText = env.AZURE_SQL_PORT?.trim() || "1433";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new LiveSettingsError(`AZURE_SQL_PORT must be a TCP port number; got ${JSON.stringify(portText)}.`);
  }
  return { server, database, port, credential, scope: env.ENTRA_SQL_SCOPE?.trim() || undefined };
}
