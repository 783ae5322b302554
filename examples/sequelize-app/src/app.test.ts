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
      });
      const { stdout, stderr } = await run(process.execPath, ["dist/main.js"], {
        cwd: APP,
        env,
        timeout: 75_000,
      });
      expect(JWT_LIKE.test(stdout) || JWT_LIKE.test(stderr), "a token-like string in the output").toBe(false);
      expect(stdout).toContain("AZURE_SQL_SERVER is not set: starting the local stand-ins");
      expect(stdout).toMatch(new RegExp(`connecting to 127\\.0\\.0\\.1:\\d+ \\(token mode ${tokenMode}\\)`));
      // The migration ran once and is recorded in SequelizeMeta.
      expect(stdout).toContain("migrations: ran 20240101000000-authors-and-books\n");
      expect(stdout).toContain("migrations applied: 20240101000000-authors-and-books\n");
      expect(stdout).toContain("seeded: 2 authors, 3 books");
      // CRUD: a create, a join through belongsTo, update and delete with their row counts.
      expect(stdout).toContain("inserted author #3 Octavia E. Butler and her book Kindred");
      expect(stdout).toContain(
        [
          "books with their authors (join): 4",
          "  1968  A Wizard of Earthsea (Ursula K. Le Guin)",
          "  1974  The Dispossessed (Ursula K. Le Guin)",
          "  1979  Kindred (Octavia E. Butler)",
          "  1989  Guards! Guards! (Terry Pratchett)",
        ].join("\n"),
      );
      expect(stdout).toContain("updated 1 author: Terry Pratchett's email");
      expect(stdout).toContain("deleted 1 book: The Dispossessed");
      // Transactions: the committed one is visible, the rolled-back one left nothing behind.
      expect(stdout).toContain("transaction committed: N. K. Jemisin and The Fifth Season");
      expect(stdout).toContain("transaction rolled back: changed my mind (Nobody saved: false)");
      expect(stdout).toContain(
        "books per author: N. K. Jemisin 1, Octavia E. Butler 1, Terry Pratchett 1, Ursula K. Le Guin 1",
      );
      expect(stdout).toContain("now 4 authors, 4 books");
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
