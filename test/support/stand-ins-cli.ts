import { parseArgs } from "node:util";
import type { LocalEntraEvent } from "./entra/index.js";
import { startStandIns } from "./stand-ins.js";
import type { StandInEvent } from "./tds/index.js";

// `pnpm stand-ins`: starts the local Entra ID and the SQL stand-in, prints ONE line of JSON on
// stdout (the settings any client needs), logs to stderr, and serves until SIGINT/SIGTERM.

const USAGE = `Usage: pnpm stand-ins [options]
  --entra-port <n>              fixed port for the local Entra ID (default: a free port)
  --sql-port <n>                fixed port for the SQL stand-in (default: a free port)
  --token-lifetime-seconds <n>  lifetime of issued access tokens (default 3600)
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

process.stdout.write(`${JSON.stringify(standIns.settings())}\n`);
log(
  `Entra ID at ${standIns.entra.authorityHost}, SQL at ${standIns.sql.host}:${standIns.sql.port}; Ctrl+C stops`,
);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await standIns.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
