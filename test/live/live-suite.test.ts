import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../support/stand-ins.js";

// `pnpm test:live` is written for a real Azure SQL database, which CI does not have. So that the live
// suite is not dead code, this test runs it, unchanged, against the stand-ins: the same environment
// variables a developer sets, with the laptop credential (the fake `az`, logged in as the demo user)
// and the stand-ins' CA trusted through NODE_EXTRA_CA_CERTS, as a corporate CA would be.

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const vitestBin = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

/** This process's environment without any Azure or entra-sql settings, plus `settings`. */
function liveEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AZURE_|ENTRA_SQL_|IDENTITY_|MSI_|NODE_EXTRA_CA_CERTS$)/.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...settings };
}

function runLiveSuite(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [vitestBin, "run", "--config", "test/live/vitest.config.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

describe("the live suite", () => {
  it("passes every test against the stand-ins, configured like a real database", async () => {
    const { sql, entra } = standIns;
    const loginsBefore = sql.logins.length;
    const { code, output } = await runLiveSuite(
      liveEnvironment({
        AZURE_SQL_SERVER: sql.host,
        AZURE_SQL_PORT: String(sql.port),
        AZURE_SQL_DATABASE: sql.database,
        ENTRA_SQL_CREDENTIAL: "cli",
        // 127.0.0.1 names no cloud; a custom DNS alias of a real server needs the same setting.
        ENTRA_SQL_SCOPE: "https://database.windows.net/.default",
        NODE_EXTRA_CA_CERTS: standIns.caFile,
        PATH: entra.cli.pathWithCli(),
      }),
    );
    expect(code, output).toBe(0);
    const summary = output.match(/Tests\s+(\d+) passed \((\d+)\)/);
    expect(summary, output).not.toBeNull();
    expect(summary?.[1]).toBe(summary?.[2]); // every test ran and passed: none skipped or todo
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(17);
    // It really went through the stand-ins, as the CLI's signed-in user, both token modes.
    const logins = sql.logins.slice(loginsBefore);
    expect(logins.every((l) => l.ok && l.principal?.name === standIns.demo?.user.upn)).toBe(true);
    expect(new Set(logins.map((l) => l.authMode))).toEqual(new Set(["fedauth-inline", "fedauth-credential"]));
  }, 180_000);

  it("fails before any test, naming the settings, when no database is configured", async () => {
    const { code, output } = await runLiveSuite(liveEnvironment({}));
    expect(code).not.toBe(0);
    expect(output).toContain("AZURE_SQL_SERVER");
    expect(output).toContain("AZURE_SQL_DATABASE");
    expect(output).not.toMatch(/Tests\s+\d+ passed/);
  }, 60_000);
});
