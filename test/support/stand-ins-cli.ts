import { rmSync } from "node:fs";
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { LocalEntraEvent } from "./entra/index.js";
import { type StandInsSettings, startStandIns } from "./stand-ins.js";
import type { StandInEvent } from "./tds/index.js";

// `pnpm stand-ins`: starts the local Entra ID and the SQL stand-in, prints ONE line of JSON on
// stdout (the settings any client needs), logs to stderr, and serves until SIGINT/SIGTERM.
// With --settings-file it also writes the settings, with both CA certificates inline, to a file
// (mode 0600: it holds the local IdP's client secret) BEFORE the line is printed, and removes the
// file when stopped by SIGINT/SIGTERM (a killed process, SIGKILL, leaves it behind).

/**
 * What --settings-file holds: the settings line plus everything else a client needs, with the CA
 * certificates inline (`caPem`), so that one file configures a client (readStandInSettings in
 * @entra-sql/core reads it).
 */
export interface StandInsSettingsFile {
  entra: StandInsSettings["entra"] & { caPem: string };
  sql: StandInsSettings["sql"] & { caPem: string; serverName: string; scope: string };
}

const USAGE = `Usage: pnpm stand-ins [options]
  --entra-port <n>              fixed port for the local Entra ID (default: a free port)
  --sql-port <n>                fixed port for the SQL stand-in (default: a free port)
  --token-lifetime-seconds <n>  lifetime of issued access tokens (default 3600)
  --settings-file <path>        also write the settings, with both CA certificates inline, to this
                                JSON file (mode 0600, written before the line is printed, removed
                                on Ctrl+C/SIGTERM); read it with readStandInSettings from
                                @entra-sql/core. A relative path is taken from the directory the
                                command was run in.
  --quiet                       no log lines on stderr
  --help                        this text`;

function fail(message: string): never {
  process.stderr.write(`stand-ins: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function portOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`--${name} must be a port number 1-65535, got "${value}"`);
  }
  return port;
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      "entra-port": { type: "string" },
      "sql-port": { type: "string" },
      "token-lifetime-seconds": { type: "string" },
      "settings-file": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
}
try {
  args = parse();
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(0);
}

const lifetimeText = args["token-lifetime-seconds"];
const tokenLifetimeSeconds = lifetimeText === undefined ? undefined : Number(lifetimeText);
if (
  tokenLifetimeSeconds !== undefined &&
  !(Number.isInteger(tokenLifetimeSeconds) && tokenLifetimeSeconds >= 1)
) {
  fail(`--token-lifetime-seconds must be a whole number of seconds >= 1, got "${lifetimeText}"`);
}

const settingsFileText = args["settings-file"];
if (settingsFileText !== undefined && settingsFileText.trim() === "") {
  fail('--settings-file must be a file path, got ""');
}
// Under `npm run stand-ins` / `pnpm stand-ins` the working directory is the repository root; a
// relative path means what it meant in the shell the command was typed in (INIT_CWD).
const baseDir = process.env.npm_lifecycle_event === "stand-ins" ? (process.env.INIT_CWD ?? "") : "";
const settingsFile =
  settingsFileText === undefined ? undefined : resolve(baseDir || process.cwd(), settingsFileText);
const temporarySettingsFile = `${settingsFile}.${process.pid}.tmp`;
let wroteSettingsFile = false;

const log = args.quiet ? () => {} : (line: string) => process.stderr.write(`[stand-ins] ${line}\n`);

const entraPort = portOption("entra-port", args["entra-port"]);
const sqlPort = portOption("sql-port", args["sql-port"]);
const standIns = await startStandIns({
  entra: {
    ...(entraPort === undefined ? {} : { port: entraPort }),
    ...(tokenLifetimeSeconds === undefined ? {} : { settings: { tokenLifetimeSeconds } }),
    onEvent: (event: LocalEntraEvent) => {
      if (event.type === "tokenIssued") {
        const who = event.upn ?? event.clientId ?? event.objectId;
        log(
          `entra: token issued via ${event.endpoint} to ${who}, expires ${new Date(event.expiresOn).toISOString()}`,
        );
      }
    },
  },
  sql: {
    ...(sqlPort === undefined ? {} : { port: sqlPort }),
    onEvent: (event: StandInEvent) => {
      if (event.type === "login") {
        const { record } = event;
        const who = record.principal?.name ?? "?";
        log(
          `sql: login ${record.ok ? "ok" : `FAILED (${record.failure ?? record.errorNumber})`} for ${who}` +
            ` [${record.authMode}, ${record.encryption}]`,
        );
      }
    },
  },
}).catch((error: unknown) => fail(`could not start: ${(error as Error).message}`));

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  if (settingsFile !== undefined && wroteSettingsFile) await rm(settingsFile, { force: true });
  await standIns.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));

const settings = standIns.settings();
if (settingsFile !== undefined) {
  const file: StandInsSettingsFile = {
    entra: { ...settings.entra, caPem: await readFile(settings.entra.caFile, "utf8") },
    sql: {
      ...settings.sql,
      caPem: await readFile(settings.sql.caFile, "utf8"),
      // The name on the SQL stand-in's certificate: TLS clients verify it (and Node refuses an IP
      // address as the TLS server name, DEP0123).
      serverName: "localhost",
      // The audience the SQL stand-in checks, as Azure SQL in the public cloud.
      scope: "https://database.windows.net/.default",
    },
  };
  // However the process ends from here on (process.exit included), the secret does not stay behind;
  // only SIGKILL or a crash of Node itself leaves the file.
  process.on("exit", () => {
    rmSync(temporarySettingsFile, { force: true });
    if (wroteSettingsFile) rmSync(settingsFile, { force: true });
  });
  await writeSettingsFile(settingsFile, file).catch(async (error: unknown) => {
    await standIns.close();
    fail(`could not write --settings-file "${settingsFile}": ${(error as Error).message}`);
  });
}
process.stdout.write(`${JSON.stringify(settings)}\n`);
log(
  `Entra ID at ${standIns.entra.authorityHost}, SQL at ${standIns.sql.host}:${standIns.sql.port}; Ctrl+C stops` +
    (settingsFile === undefined ? "" : `; settings in ${settingsFile}`),
);

/**
 * Writes `content` to `path` as 0600 JSON, atomically: a temporary file next to it (created 0600, so
 * the secret is never readable by others, not even for a moment) renamed over the target, so a reader
 * polling for the file never sees half of it.
 */
async function writeSettingsFile(path: string, content: StandInsSettingsFile): Promise<void> {
  // Never replace (and later remove) a file that is not ours, e.g. a mistyped `--settings-file package.json`.
  const existing = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) =>
    error.code === "ENOENT" ? undefined : Promise.reject(error),
  );
  if (existing !== undefined && !isSettingsFileText(existing)) {
    throw new Error("the file exists and is not a stand-ins settings file: remove it or choose another path");
  }
  const temporary = temporarySettingsFile;
  try {
    await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
    wroteSettingsFile = true;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A settings file a previous run left behind (killed with SIGKILL): safe to replace. */
function isSettingsFileText(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as Partial<StandInsSettingsFile> | null;
    return typeof parsed?.entra?.authorityHost === "string" && typeof parsed.sql?.caPem === "string";
  } catch {
    return false;
  }
}
