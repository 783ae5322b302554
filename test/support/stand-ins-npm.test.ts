import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StandInsSettings } from "./stand-ins.js";

// `npm run stand-ins`, as a user types it: npm's run-script banner must not reach stdout, which holds
// exactly the one settings line (the repository's .npmrc sets `json=true`, which moves the banners
// to stderr). Started from another folder with --prefix, as from the user's own app.

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

type NpmProcess = ChildProcessByStdio<null, Readable, Readable>;

/** The environment of a plain shell: no npm_* variables of an `npm test` this suite may run under. */
function shellEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== "INIT_CWD"),
  );
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

describe("npm run stand-ins", () => {
  let cwd: string;
  let npm: NpmProcess;
  let stdout = "";
  let stderr = "";

  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), "stand-ins-npm-"));
    // detached: its own process group (npm -> sh -> tsx -> node), so nothing outlives the test.
    npm = spawn("npm", ["run", "--prefix", repoRoot, "stand-ins", "--", "--quiet"], {
      cwd,
      env: shellEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    npm.stdout.setEncoding("utf8");
    npm.stdout.on("data", (chunk: string) => (stdout += chunk));
    npm.stderr.on("data", (chunk) => (stderr += chunk));
  });

  afterAll(() => {
    if (npm.pid !== undefined && npm.exitCode === null && npm.signalCode === null) {
      try {
        process.kill(-npm.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  it("prints exactly one line on stdout, the settings JSON; npm's banner goes to stderr", async () => {
    await expect
      .poll(() => stdout.includes("\n") || npm.exitCode !== null, { timeout: 90_000, interval: 200 })
      .toBe(true);
    expect(stdout, `stderr: ${stderr}`).toMatch(/^\{.*\}\n$/);
    const settings: StandInsSettings = JSON.parse(stdout);
    expect(settings.entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(settings.sql).toMatchObject({ host: "127.0.0.1", database: expect.any(String) });
    expect(stderr).toContain("> stand-ins");

    // Ctrl+C in a terminal signals the whole process group; SIGTERM to it stops the stand-ins.
    process.kill(-(npm.pid ?? 0), "SIGTERM");
    await once(npm, "exit");
    // Still the one line, after exit: nothing more reached stdout on the way out.
    expect(stdout.split("\n")).toEqual([JSON.stringify(settings), ""]);
    expect(await isPortClosed(settings.sql.port)).toBe(true);
    expect(await isPortClosed(Number(new URL(settings.entra.authorityHost).port))).toBe(true);
  }, 120_000);
});
