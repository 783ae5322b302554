import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// examples/knex-app, compiled with tsc (migrations and seeds to dist, loaded by Knex as .js) and run
// with plain node, with no AZURE_SQL_SERVER: it starts the stand-ins itself, migrates, seeds, does its
// CRUD and transactions, runs one second of load, and exits 0. Token-credential mode here, so the
// inline default is covered by the demo and this file covers Knex 3.3's TokenCredential path.

const run = promisify(execFile);
const APP = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples/knex-app");

describe("examples/knex-app", () => {
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
      ENTRA_SQL_MAX_AGE_SECONDS: "600",
    };
    delete env.AZURE_SQL_SERVER;
    delete env.ENTRA_SQL_SCOPE;
    const { stdout } = await run(process.execPath, ["dist/main.js"], { cwd: APP, env, timeout: 60_000 });
    expect(stdout).toContain("connecting to 127.0.0.1:");
    // Migrations and seeds ran from dist as plain .js files.
    expect(stdout).toContain("migrations: batch 1 ran 20240101000000_authors_and_books.js");
    expect(stdout).toContain("migrations applied: 20240101000000_authors_and_books.js\n");
    expect(stdout).toContain("seeds run: 01_authors_and_books.js");
    expect(stdout).toContain("seeded: 2 authors, 3 books");
    // CRUD: insert with OUTPUT, a join, update and delete with their row counts.
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
    expect(stdout.trimEnd().endsWith("done")).toBe(true);
  });

  it("refuses a bad setting before connecting, exit code 1", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ENTRA_SQL_TOKEN_MODE: "password" };
    delete env.AZURE_SQL_SERVER;
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
