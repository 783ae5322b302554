import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// No AZURE_SQL_SERVER: start the repository's local Entra ID and SQL stand-in (`pnpm stand-ins`) as a
// child process and read the one JSON line it prints (its documented contract).

export interface StandInSettings {
  entra: { authorityHost: string; tenantId: string; clientId: string; clientSecret: string; caFile: string };
  sql: { host: string; port: number; database: string; caFile: string };
}

export interface RunningStandIns {
  settings: StandInSettings;
  entraCa: string;
  sqlCa: string;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CLI = resolve(REPO_ROOT, "test/support/stand-ins-cli.ts");

export async function startStandIns(timeoutMs = 60_000): Promise<RunningStandIns> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--quiet"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const settings = await firstLine(child, timeoutMs).catch((error: unknown) => {
    child.kill("SIGTERM");
    throw error;
  });
  return {
    settings,
    entraCa: await readFile(settings.entra.caFile, "utf8"),
    sqlCa: await readFile(settings.sql.caFile, "utf8"),
    stop: () => stop(child),
  };
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<StandInSettings> {
  return new Promise((resolvePromise, reject) => {
    const stdout = child.stdout;
    if (!stdout) return reject(new Error("stand-ins: no stdout"));
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(
      () => reject(new Error(`stand-ins: no settings line in ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stand-ins exited with code ${code} before printing their settings`));
    });
    lines.once("line", (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        resolvePromise(JSON.parse(line) as StandInSettings);
      } catch {
        reject(new Error(`stand-ins: not a JSON settings line: ${line.slice(0, 200)}`));
      }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolvePromise();
    });
    child.kill("SIGTERM");
  });
}
