import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// examples/sequelize-app as built by the root `pnpm run build` (tsc into dist/; this test builds
// nothing), run with plain node and no AZURE_SQL_SERVER: it starts the stand-ins itself, runs its
// migration, seeds, does its CRUD through the models and the association, the two transactions and one
// second of load, and exits 0. Both token modes.

const run = promisify(execFile);
const APP = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Any JWT (an Entra access token is one); checked without echoing it. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}/;

function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.AZURE_SQL_SERVER;
  delete env.AZURE_SQL_DATABASE;
  delete env.ENTRA_SQL_SCOPE;
  return env;
}

describe("examples/sequelize-app", () => {
  it("is built (the root `pnpm run build` runs before the tests)", () => {
    expect(existsSync(resolve(APP, "dist/main.js"))).toBe(true);
  });

  it.each(["inline", "token-credential"])(
    "runs against the stand-ins in %s token mode, exit code 0",
    { timeout: 90_000 },
    async (tokenMode) => {
      const env = appEnv({
        LOAD_SECONDS: "1",
        ENTRA_SQL_TOKEN_MODE: tokenMode,
        ENTRA_SQL_MAX_AGE_SECONDS: "600",
        // The inline run also prints every diagnostics channel event, one line each, on stderr.
        ENTRA_SQL_DEBUG: tokenMode === "inline" ? "1" : "",
      });
      const { stdout, stderr } = await run(process.execPath, ["dist/main.js"], {
        cwd: APP,
        env,
        timeout: 75_000,
      });
      expect(JWT_LIKE.test(stdout) || JWT_LIKE.test(stderr), "a token-like string in the output").toBe(false);
      if (tokenMode === "inline") {
        expect(stderr).toMatch(/^\[entra-sql\] fetching a token for \S+ \(cold\)$/m);
        expect(stderr).toMatch(
          /^\[entra-sql\] got a token for \S+ from ClientSecretCredential \(cold\) in \d+ ms/m,
        );
        expect(stderr).toMatch(/^\[entra-sql\] @entra-sql\/\w+ connection opened in .* retires by /m);
      } else {
        expect(stderr).not.toContain("[entra-sql]");
      }
      expect(stdout).toContain("AZURE_SQL_SERVER is not set: starting the local stand-ins");
      expect(stdout).toMatch(new RegExp(`connecting to 127\\.0\\.0\\.1:\\d+ \\(token mode ${tokenMode}\\)`));
      // The migration ran once and is recorded in SequelizeMeta.
      expect(stdout).toContain("migrations: ran 20240101000000-teams-and-players\n");
      expect(stdout).toContain("migrations applied: 20240101000000-teams-and-players\n");
      expect(stdout).toContain("seeded: 2 teams, 3 players");
      // CRUD: a create, a join through belongsTo, update and delete with their row counts.
      expect(stdout).toContain("inserted team #3 Lakeside Athletic and its player Chris Novak");
      expect(stdout).toContain(
        [
          "players with their teams (join): 4",
          "  #1  Jordan Lee (Hilltop United)",
          "  #4  Sam Okafor (Riverside Rovers)",
          "  #9  Alex Moreno (Riverside Rovers)",
          "  #10  Chris Novak (Lakeside Athletic)",
        ].join("\n"),
      );
      expect(stdout).toContain("updated 1 team: Hilltop United's city");
      expect(stdout).toContain("deleted 1 player: Sam Okafor");
      // Transactions: the committed one is visible, the rolled-back one left nothing behind.
      expect(stdout).toContain("transaction committed: Northgate Wanderers and Dana Ruiz");
      expect(stdout).toContain("transaction rolled back: changed my mind (Nobody saved: false)");
      expect(stdout).toContain(
        "players per team: Hilltop United 1, Lakeside Athletic 1, Northgate Wanderers 1, Riverside Rovers 1",
      );
      expect(stdout).toContain("now 4 teams, 4 players");
      expect(stdout).toMatch(/load: [1-9]\d* queries, 0 failed, [1-9]\d* connections opened/);
      // Graceful shutdown: the pool, the token source and the stand-ins closed, then "done".
      expect(stdout.trimEnd().endsWith("done")).toBe(true);
    },
  );

  it("refuses a bad setting before connecting, exit code 1", { timeout: 30_000 }, async () => {
    const env = appEnv({ ENTRA_SQL_TOKEN_MODE: "password" });
    const failure = await run(process.execPath, ["dist/main.js"], { cwd: APP, env, timeout: 20_000 }).then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      'ENTRA_SQL_TOKEN_MODE must be "inline" or "token-credential", got "password"',
    );
    expect(failure?.stdout).not.toContain("starting the local stand-ins");
  });
});
