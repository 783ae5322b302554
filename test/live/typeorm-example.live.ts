import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readLiveSettings } from "./live-settings.js";

// The TypeORM example app, built, run against the live database with the same environment: its
// migration, CRUD, relation and transactions, then a few seconds of load with a short max age.

const settings = readLiveSettings();
const appDir = fileURLToPath(new URL("../../examples/typeorm-app/", import.meta.url));

describe("examples/typeorm-app against the live database", () => {
  it("runs to completion with exit code 0", async () => {
    const child = spawn(process.execPath, ["dist/main.js", "--duration", "5"], {
      cwd: appDir,
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
    process.stdout.write(`example app on ${settings.server}: ok\n`);
  });
});
