import { type ChildProcessByStdio, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { AzureCliCredential, ClientSecretCredential } from "@azure/identity";
import sql from "mssql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StandInsSettings } from "./stand-ins.js";
import type { StandInsSettingsFile } from "./stand-ins-cli.js";

// `pnpm stand-ins` as a client in another language would use it: start the CLI, read its one
// line of JSON, and reach both stand-ins from that line alone with real credentials and drivers.

const testDir = fileURLToPath(new URL("..", import.meta.url));
const cliPath = fileURLToPath(new URL("./stand-ins-cli.ts", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/managed-identity-query.mjs", import.meta.url));

type CliProcess = ChildProcessByStdio<null, Readable, Readable>;

function startCli(args: string[] = [], env?: NodeJS.ProcessEnv): CliProcess {
  return spawn(process.execPath, ["--import", "tsx", cliPath, ...args], {
    cwd: testDir,
    stdio: ["ignore", "pipe", "pipe"],
    ...(env === undefined ? {} : { env }),
  });
}

/** Everything the process writes on stdout, as one string (complete once it has exited). */
function collect(stream: Readable): { text: string } {
  const out = { text: "" };
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (out.text += chunk));
  return out;
}

async function firstLine(child: CliProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    for await (const line of lines) return line;
    throw new Error("the CLI closed stdout without printing a line");
  } finally {
    clearTimeout(timeout);
  }
}

function runManagedIdentityChild(env: Record<string, string>, settings: StandInsSettings) {
  return new Promise<{ error?: string; rows?: unknown[][] }>((resolve, reject) => {
    execFile(
      process.execPath,
      [fixture, JSON.stringify(settings)],
      { cwd: testDir, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop();
        if (!line) return reject(new Error(`child printed nothing: ${error?.message} ${stderr}`));
        resolve(JSON.parse(line));
      },
    );
  });
}

function isPortClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("pnpm stand-ins", () => {
  let cli: CliProcess;
  let stderr = "";
  let line: string;
  let settings: StandInsSettings;

  beforeAll(async () => {
    cli = startCli();
    cli.stderr.on("data", (chunk) => (stderr += chunk));
    line = await firstLine(cli);
    settings = JSON.parse(line);
  }, 60_000);

  afterAll(() => {
    if (cli.exitCode === null) cli.kill("SIGKILL");
  });

  it("prints one line of JSON with every key a client needs", async () => {
    expect(Object.keys(settings.entra)).toEqual(
      expect.arrayContaining([
        "authorityHost",
        "tenantId",
        "clientId",
        "clientSecret",
        "caFile",
        "identityEndpoint",
        "identityHeader",
        "imdsHost",
        "cliBinDir",
      ]),
    );
    expect(Object.keys(settings.sql)).toEqual(expect.arrayContaining(["host", "port", "database", "caFile"]));
    expect(settings.entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(settings.sql.host).toBe("127.0.0.1");
    expect(readFileSync(settings.entra.caFile, "utf8")).toContain("BEGIN CERTIFICATE");
    // Logging goes to stderr (it may arrive just after the line on stdout).
    await expect.poll(() => stderr, { timeout: 5_000 }).toContain("Ctrl+C stops");
  });

  it("serves a client-secret app through mssql's pool, with the token inline", async () => {
    const ca = readFileSync(settings.entra.caFile, "utf8");
    const credential = new ClientSecretCredential(
      settings.entra.tenantId,
      settings.entra.clientId,
      settings.entra.clientSecret,
      { authorityHost: settings.entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca } },
    );
    const { token } = await credential.getToken("https://database.windows.net/.default");
    const pool = new sql.ConnectionPool({
      server: settings.sql.host,
      port: settings.sql.port,
      database: settings.sql.database,
      authentication: { type: "azure-active-directory-access-token", options: { token } },
      // serverName: the name on the stand-in's certificate (an IP address as the TLS server name is DEP0123).
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: "localhost",
        cryptoCredentialsDetails: { ca },
      },
      pool: { min: 0, max: 4 },
    });
    await pool.connect();
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8].map((n) =>
          pool.request().input("n", sql.Int, n).query("SELECT @n * 2 AS doubled"),
        ),
      );
      expect(results.map((r) => r.recordset[0]?.doubled)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
      const who = await pool.request().query("SELECT SUSER_SNAME() AS who");
      expect(who.recordset[0]?.who).toBe("entra-sql-demo-app");
    } finally {
      await pool.close();
    }
  });

  it("serves the developer signed in with the fake az, through tedious' token-credential", async () => {
    const originalPath = process.env.PATH;
    process.env.PATH = `${settings.entra.cliBinDir}:${originalPath}`;
    try {
      const credential = new AzureCliCredential({ tenantId: settings.entra.tenantId });
      const pool = new sql.ConnectionPool({
        server: settings.sql.host,
        port: settings.sql.port,
        database: settings.sql.database,
        authentication: { type: "token-credential", options: { credential } },
        options: {
          encrypt: "strict",
          serverName: "localhost",
          cryptoCredentialsDetails: { ca: readFileSync(settings.sql.caFile, "utf8") },
        },
      } as sql.config);
      await pool.connect();
      try {
        const who = await pool.request().query("SELECT SUSER_SNAME() AS who");
        expect(who.recordset[0]?.who).toBe(settings.entra.userPrincipalName);
      } finally {
        await pool.close();
      }
    } finally {
      process.env.PATH = originalPath;
    }
  });

  it("serves the managed identity through the App Service endpoint (own process)", async () => {
    const result = await runManagedIdentityChild(
      { IDENTITY_ENDPOINT: settings.entra.identityEndpoint, IDENTITY_HEADER: settings.entra.identityHeader },
      settings,
    );
    expect(result).toEqual({ rows: [["entra-sql-demo-host"]] });
  });

  it("serves the managed identity through IMDS (own process)", async () => {
    const result = await runManagedIdentityChild(
      { AZURE_POD_IDENTITY_AUTHORITY_HOST: settings.entra.imdsHost },
      settings,
    );
    expect(result).toEqual({ rows: [["entra-sql-demo-host"]] });
  });

  it("stops cleanly on SIGTERM and releases its ports", async () => {
    cli.kill("SIGTERM");
    const [code] = await once(cli, "exit");
    expect(code).toBe(0);
    expect(await isPortClosed(settings.sql.port)).toBe(true);
    expect(await isPortClosed(Number(new URL(settings.entra.authorityHost).port))).toBe(true);
  });
});

describe("pnpm stand-ins --settings-file", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stand-ins-settings-file-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the settings (0600, CAs inline) before its one stdout line, and removes the file on SIGTERM", async () => {
    // As under `npm run stand-ins` started from `dir`: a relative path is taken from there (INIT_CWD),
    // not from the repository root npm runs the script in.
    const child = startCli(["--quiet", "--settings-file", "stand-ins.json"], {
      ...process.env,
      npm_lifecycle_event: "stand-ins",
      INIT_CWD: dir,
    });
    const stdout = collect(child.stdout);
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    try {
      await expect.poll(() => stdout.text.includes("\n"), { timeout: 60_000, interval: 100 }).toBe(true);
      const line: StandInsSettings = JSON.parse(stdout.text.trim());
      const path = join(dir, "stand-ins.json");
      // Written before the line was printed: it is there the moment the line is.
      expect(existsSync(path)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const file: StandInsSettingsFile = JSON.parse(readFileSync(path, "utf8"));
      const { caPem: entraCa, ...entra } = file.entra;
      const { caPem: sqlCa, serverName, scope, ...sqlSettings } = file.sql;
      expect({ entra, sql: sqlSettings }).toEqual(line);
      expect(entraCa).toBe(readFileSync(line.entra.caFile, "utf8"));
      expect(sqlCa).toBe(readFileSync(line.sql.caFile, "utf8"));
      expect(entraCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
      expect({ serverName, scope }).toEqual({
        serverName: "localhost",
        scope: "https://database.windows.net/.default",
      });
      // Nothing but the secret-free temporary-file dance is left in the folder.
      expect(readdirNames(dir)).toEqual(["stand-ins.json"]);

      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
      expect(existsSync(path)).toBe(false);
      // stdout held exactly one line of JSON, from start to exit (--quiet: stderr holds nothing either).
      expect(stdout.text.split("\n")).toEqual([JSON.stringify(line), ""]);
      expect(stderr).toBe("");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 90_000);

  it("refuses to replace a file that is not a settings file, and prints nothing on stdout", async () => {
    const path = join(dir, "package.json");
    writeFileSync(path, '{"name":"not-stand-ins"}\n');
    const child = startCli(["--quiet", "--settings-file", path]);
    const stdout = collect(child.stdout);
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stdout.text).toBe("");
    expect(stderr).toContain(
      `could not write --settings-file "${path}": the file exists and is not a stand-ins settings file`,
    );
    expect(readFileSync(path, "utf8")).toBe('{"name":"not-stand-ins"}\n');
  }, 90_000);
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}

describe("pnpm stand-ins with bad input", () => {
  it("names the option, the value and the expected form", async () => {
    const child = startCli(["--sql-port", "99999"]);
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(err).toContain('--sql-port must be a port number 1-65535, got "99999"');
  });

  it("rejects an unknown flag", async () => {
    const child = startCli(["--sql-prot", "1433"]);
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(err).toMatch(/Unknown option '--sql-prot'/);
  });
});
