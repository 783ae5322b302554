import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAILURE_CLASSES, type FailureRun } from "../integration/cli/failure-classes.js";
import { doctorArgs, runBin, standInEnv } from "../integration/cli/helpers.js";
import { type StandIns, startStandIns } from "../support/stand-ins.js";

// `npx entra-sql doctor` as a user gets it: @entra-sql/cli packed (pnpm pack, as published) with the
// workspace packages it depends on, installed by npm into an app outside the workspace, run through
// npx against the stand-ins: a success, then each failure class with its own exit code, as from the
// built bin in the workspace.

const execFileAsync = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const PACKAGES = ["core", "driver-kit", "cli"];
const NPM_BIN = join(dirname(dirname(process.execPath)), "lib/node_modules/npm/bin");

let standIns: StandIns;
let work: string;
let app: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "entra-sql-cli-tarball-"));
  const packed = join(work, "tarballs");
  [standIns] = await Promise.all([
    startStandIns(),
    ...PACKAGES.map((name) =>
      execFileAsync("pnpm", ["pack", "--pack-destination", packed], { cwd: join(repo, "packages", name) }),
    ),
  ]);
  const dependencies: Record<string, string> = {};
  for (const file of readdirSync(packed)) {
    const name = /^entra-sql-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file)?.[1];
    if (name) dependencies[`@entra-sql/${name}`] = `file:${join(packed, file)}`;
  }
  expect(Object.keys(dependencies).sort()).toEqual(PACKAGES.map((name) => `@entra-sql/${name}`).sort());
  app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "cli-consumer", private: true, dependencies }),
  );
  await execFileAsync(
    process.execPath,
    [
      join(NPM_BIN, "npm-cli.js"),
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ],
    { cwd: app, maxBuffer: 16 * 1024 * 1024 },
  );
}, 180_000);

afterAll(async () => {
  await standIns?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `npx entra-sql ...args` in the app, with the stand-ins' environment and this Node first on PATH. */
function npx(args: string[], env: NodeJS.ProcessEnv) {
  const path = `${dirname(process.execPath)}:${env.PATH ?? ""}`;
  return runBin(["entra-sql", ...args], { ...env, PATH: path }, join(NPM_BIN, "npx-cli.js"), app);
}

describe("npx entra-sql, installed from the packed tarball", () => {
  it("doctor passes against the stand-ins (exit 0)", async () => {
    const result = await npx(doctorArgs(standIns, "--credential", "cli"), standInEnv(standIns));
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^ok {3}login /m);
    expect(result.code).toBe(0);
  });

  it.each(Object.entries(FAILURE_CLASSES))("doctor: %s gives its own exit code", async (_, failure) => {
    const { args, env, restore }: FailureRun = await failure.setup(standIns);
    try {
      const result = await npx(args, env);
      expect(result.stdout).toContain(failure.says);
      expect(result.code).toBe(failure.exitCode);
    } finally {
      restore?.();
    }
  });
});
