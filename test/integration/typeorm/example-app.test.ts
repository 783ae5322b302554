import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// examples/typeorm-app, compiled with tsc (decorator metadata) and run with plain node, with no
// AZURE_SQL_SERVER: it starts the stand-ins itself, migrates, does its CRUD and transaction, runs one
// second of load, and exits 0.

const run = promisify(execFile);
const APP = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples/typeorm-app");

describe("examples/typeorm-app", () => {
  it("builds with tsc and runs against the stand-ins, exit code 0", { timeout: 90_000 }, async () => {
    // The workspace's tsc (the same the app's `build` script runs); a failed build rejects.
    await run(process.execPath, [resolve(APP, "../../node_modules/typescript/bin/tsc"), "-p", APP], {
      cwd: APP,
      timeout: 45_000,
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOAD_SECONDS: "1",
      ENTRA_SQL_TOKEN_MODE: "token-credential",
    };
    delete env.AZURE_SQL_SERVER;
    const { stdout } = await run(process.execPath, ["dist/main.js"], { cwd: APP, env, timeout: 60_000 });
    expect(stdout).toContain("migrations applied: Init1700000000000");
    expect(stdout).toContain("customer #1 has 2 orders");
    expect(stdout).toContain("transaction committed");
    expect(stdout).toContain("transaction rolled back: changed my mind");
    expect(stdout).toMatch(/load: \d+ queries, 0 failed/);
    expect(stdout.trimEnd().endsWith("done")).toBe(true);
  });
});
