import { type ChildProcessByStdio, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StandInsSettingsFile } from "../support/stand-ins-cli.js";

// The root README's "Try it with your own app": its TypeORM and Knex code blocks are these files,
// character for character, and each runs as a user would run it (its own process) against the
// stand-ins started the README's way (`stand-ins-cli.ts --settings-file`): one login, one query.

const here = fileURLToPath(new URL(".", import.meta.url));
const testDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
const cliPath = fileURLToPath(new URL("../support/stand-ins-cli.ts", import.meta.url));

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** The environment of a shell without Azure settings: the snippets take the stand-ins branch. */
function localEnv(settingsFile: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AZURE_")));
  return { ...env, STAND_INS_FILE: settingsFile };
}

function runSnippet(file: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(here, file)],
      { cwd: testDir, env, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

describe("README: Try it with your own app", () => {
  let dir: string;
  let settingsFile: string;
  let cli: Child;
  let secret: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "readme-snippets-"));
    settingsFile = join(dir, "stand-ins.json");
    cli = spawn(process.execPath, ["--import", "tsx", cliPath, "--quiet", "--settings-file", settingsFile], {
      cwd: testDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = createInterface({ input: cli.stdout });
    const [line] = (await Promise.race([
      once(lines, "line"),
      once(cli, "exit").then(() => {
        throw new Error("the stand-ins exited before printing their settings");
      }),
    ])) as [string];
    JSON.parse(line);
    const file: StandInsSettingsFile = JSON.parse(readFileSync(settingsFile, "utf8"));
    secret = file.entra.clientSecret;
  }, 90_000);

  afterAll(async () => {
    if (cli && cli.exitCode === null) {
      cli.kill("SIGTERM");
      await once(cli, "exit");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [file, orm] of [
    ["typeorm-app.ts", "TypeORM"],
    ["knex-app.ts", "Knex"],
  ] as const) {
    it(`${file} is in the README as it is here`, () => {
      const code = readFileSync(join(here, file), "utf8");
      expect(readme).toContain(`test/readme-snippets/${file}`);
      expect(readme).toContain(`\`\`\`ts\n${code}\`\`\``);
    });

    it(`${file} logs in to the stand-ins and runs one query, printing nothing else`, async () => {
      const result = await runSnippet(file, localEnv(settingsFile));
      expect(result, result.stderr).toMatchObject({ code: 0 });
      expect(result.stdout).toBe(`${orm} is connected as entra-sql-demo-app\n`);
      // No DEP0123 (serverName is set), no other warning, and never the local IdP's client secret.
      expect(result.stderr).toBe("");
      expect(result.stdout).not.toContain(secret);
    }, 90_000);
  }

  it("a wrong settings path fails with the fix, and without the secret", async () => {
    const result = await runSnippet("knex-app.ts", localEnv(join(dir, "nope.json")));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("(no such file); expected the stand-ins' settings file");
    expect(result.stderr).toContain("npm run stand-ins -- --settings-file");
    expect(result.stderr).not.toContain(secret);
  }, 90_000);
});
