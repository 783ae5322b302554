import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";

// The built `entra-sql` bin run as a child process, as a user runs it, with a controlled environment:
// nothing of the test process's AZURE_* settings leaks in; PATH finds the stand-ins' fake `az`;
// NODE_EXTRA_CA_CERTS trusts the stand-ins' CA unless a test removes it.

export const BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../packages/cli/dist/bin.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <bin> ...args` (in `cwd`); never rejects (a failing run is what most tests want). */
export function runBin(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  bin = BIN,
  cwd?: string,
): Promise<Run> {
  return new Promise((resolve) => {
    const options = { env, timeout: 60_000, encoding: "utf8" as const, ...(cwd && { cwd }) };
    execFile(process.execPath, [bin, ...args], options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A child environment for the stand-ins: the fake `az` first on PATH, their CA trusted, their authority. */
export function standInEnv(standIns: StandIns, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: standIns.entra.cli.pathWithCli(),
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: standIns.caFile,
    AZURE_AUTHORITY_HOST: standIns.entra.authorityHost,
    ...extra,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** The environment of a service principal with a secret (the `service-principal` preset reads it). */
export function servicePrincipalEnv(
  standIns: StandIns,
  clientId: string,
  clientSecret: string,
): NodeJS.ProcessEnv {
  return standInEnv(standIns, {
    AZURE_TENANT_ID: standIns.entra.tenantId,
    AZURE_CLIENT_ID: clientId,
    AZURE_CLIENT_SECRET: clientSecret,
  });
}

/** `doctor` against the SQL stand-in: by name (its certificate names localhost), explicit scope. */
export function doctorArgs(standIns: StandIns, ...extra: string[]): string[] {
  const { sql } = standIns;
  return [
    "doctor",
    "--server",
    "localhost",
    "--port",
    String(sql.port),
    "--database",
    sql.database,
    "--scope",
    SQL_SCOPE,
    ...extra,
  ];
}

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** JWT-shaped text: what no output may contain (unless `token --raw` was asked for). */
export const JWT_SHAPE = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/;
