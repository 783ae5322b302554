import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readLiveSettings } from "./live-settings.js";

// The example apps, built, run against the live database with this process's environment (the same
// variables they document): migrations, CRUD, transactions, then a few seconds of load with a 2 s
// max age, so connections are retired and logged in again while queries run.

const settings = readLiveSettings();

describe.each(["typeorm-app", "knex-app", "prisma-app"])("examples/%s against the live database", (app) => {
  it("runs to completion with exit code 0", async () => {
    const child = spawn(process.execPath, ["dist/main.js", "--duration", "5"], {
      cwd: fileURLToPath(new URL(`../../examples/${app}/`, import.meta.url)),
      env: { ...process.env, ENTRA_SQL_MAX_AGE_SECONDS: "2" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, output).toBe(0);
    expect(output).toContain("transaction committed");
    expect(output).not.toContain("local stand-ins");
    process.stdout.write(`examples/${app} on ${settings.server}: ok\n`);
  });
});
