import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../support/stand-ins.js";

// The README's first command runs this demo (TypeORM, Knex, Prisma, Sequelize and Kysely side by side
// against one pair of stand-ins); here it runs time-compressed (12 s of load) and must hold every invariant it checks, for
// every app: no failed query, no expired token presented, no statement on a session past its token or
// on a connection past max age, at least one token rotation, and one 37396 per app (the server refused
// a statement after it stopped accepting a session's token) that the app recovered from by running the
// statement again. Needs `pnpm build` first (the examples' compiled entities, migrations and seeds, and
// the Prisma example's generated client).

const demo = fileURLToPath(new URL("./run-demo.ts", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

function runDemo(
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", demo, ...args],
      { cwd: root, env, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The summary row `label`'s value per app column, e.g. ["0", "0"]. */
function row(stdout: string, label: string): string[] {
  const line = stdout.split("\n").find((l) => l.trimStart().startsWith(label));
  if (!line) throw new Error(`no summary row "${label}" in:\n${stdout}`);
  return line
    .slice(line.indexOf(label) + label.length)
    .trim()
    .split(/\s{2,}/);
}

const APPS = ["typeorm", "knex", "prisma", "sequelize", "kysely"] as const;
const TAG_WIDTH = Math.max(...APPS.map((app) => app.length)) + 2;
/** The timeline's tag for `who`, padded as the timeline pads it (to the longest name, `[sequelize]`). */
const tag = (who: string) => `[${who}]`.padEnd(TAG_WIDTH);
const escapeRegExp = (text: string) => text.replace(/[[\]()]/g, "\\$&");

describe("pnpm demo (run-demo.ts: typeorm, knex, prisma, sequelize and kysely)", () => {
  it("runs the five apps through token rotations and one 37396 each, with every invariant held", async () => {
    const { code, stdout } = await runDemo({ ...withoutAzureSettings(), DEMO_SECONDS: "12" });
    expect(stdout).toContain(`all invariants held (${APPS.join(", ")})`);
    expect(code).toBe(0);
    // One timeline, each line tagged with the app (or the server) it is about.
    expect(stdout).toMatch(new RegExp(`${escapeRegExp(tag("server"))} revalidated \\d+ open session\\(s\\)`));
    for (const app of APPS) expect(stdout).toContain(`${tag(app)} connection retired at age`);
    // The summary: a column per app.
    expect(stdout).toMatch(new RegExp(`\\nsummary +${APPS.join(" +")}\\n`));
    for (const served of row(stdout, "queries served")) expect(Number(served)).toBeGreaterThan(0);
    const zeros = APPS.map(() => "0");
    expect(row(stdout, "failed queries")).toEqual(zeros);
    expect(row(stdout, "expired tokens presented")).toEqual(zeros);
    expect(row(stdout, "statements past their token")).toEqual(zeros);
    expect(row(stdout, "failed logins")).toEqual(zeros);
    // At least one rotation per app: a second token was fetched during the run (which connection first
    // logs in with it depends on timing: a connection opened during the refresh still gets token 1).
    for (const tokens of row(stdout, "tokens fetched")) expect(Number(tokens)).toBeGreaterThanOrEqual(2);
    for (const logins of row(stdout, "logins")) expect(Number(logins)).toBeGreaterThanOrEqual(2);
    // One injected 37396 per app: the server's view (refused) and the app's (run again), no query failed.
    for (const app of APPS) {
      expect(stdout).toMatch(
        new RegExp(`\\[server\\] +session \\d+ \\(${app}\\) must log in again, as if its token had expired`),
      );
      expect(stdout).toMatch(
        new RegExp(`\\[${app}\\] +statement refused with 37396 .* ran again on a fresh connection`),
      );
    }
    expect(stdout).not.toContain("the injected 37396 did not happen");
    for (const label of ["statements refused with 37396", "statements retried after 37396"]) {
      const perApp = row(stdout, label).map(Number);
      expect(perApp, label).toHaveLength(APPS.length);
      for (const count of perApp) expect(count, label).toBeGreaterThanOrEqual(1);
    }
    for (const age of row(stdout, "oldest connection age seen (limit 10 s)")) {
      expect(Number.parseFloat(age)).toBeLessThanOrEqual(11);
    }
  }, 100_000);
});

describe("run-demo.ts --adapters", () => {
  it("refuses an app it does not know, naming it and the apps it knows, before starting anything", async () => {
    const { code, stdout, stderr } = await runDemo({ ...withoutAzureSettings(), DEMO_SECONDS: "1" }, [
      "--adapters",
      "knex,hibernate",
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("unknown app hibernate");
    expect(stderr).toContain(`--adapters ${APPS.join(",")}`);
  });
});

/** This process's environment without Azure or entra-sql settings (the demo would go to Azure). */
function withoutAzureSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(AZURE_|ENTRA_SQL_|NODE_EXTRA_CA_CERTS$)/.test(key)),
  );
}

// With AZURE_SQL_SERVER set, the demo runs the example apps against that database (azure-demo.ts). CI
// has no Azure, so the stand-ins play the database, configured exactly as a real one would be: the
// laptop credential (the fake `az`), a scope for a host that names no cloud, the CA trusted through
// NODE_EXTRA_CA_CERTS.
describe("npm run demo with Azure settings", () => {
  let standIns: StandIns;
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(async () => {
    await standIns?.close();
  });

  const azureLike = () => ({
    ...withoutAzureSettings(),
    AZURE_SQL_SERVER: standIns.sql.host,
    AZURE_SQL_PORT: String(standIns.sql.port),
    AZURE_SQL_DATABASE: standIns.sql.database,
    ENTRA_SQL_CREDENTIAL: "cli",
    ENTRA_SQL_SCOPE: "https://database.windows.net/.default",
    ENTRA_SQL_MAX_AGE_SECONDS: "2",
    NODE_EXTRA_CA_CERTS: standIns.caFile,
    PATH: standIns.entra.cli.pathWithCli(),
    DEMO_SECONDS: "4",
  });

  it("runs the example apps against the configured database, not the stand-ins it would start", async () => {
    const loginsBefore = standIns.sql.logins.length;
    const { code, stdout } = await runDemo(azureLike());
    expect(stdout).toContain(`all apps ok (${APPS.join(", ")})`);
    expect(code).toBe(0);
    expect(stdout).not.toContain("starting the local stand-ins");
    for (const app of APPS) {
      expect(stdout).toMatch(new RegExp(`\\[${app}\\] +transaction committed`));
      expect(stdout).toMatch(new RegExp(`\\s${app} +ok; load: \\d+ queries, 0 failed`));
    }
    // The database it was pointed at saw the apps log in, as the CLI's signed-in user.
    const logins = standIns.sql.logins.slice(loginsBefore);
    expect(logins.length).toBeGreaterThanOrEqual(APPS.length);
    expect(logins.every((l) => l.ok && l.principal?.name === standIns.demo?.user.upn)).toBe(true);
  }, 100_000);

  it("exits 1 and says which app failed when an app cannot run", async () => {
    const { code, stdout } = await runDemo({ ...azureLike(), AZURE_SQL_DATABASE: "" });
    expect(code).toBe(1);
    expect(stdout).toMatch(/typeorm +FAILED \(exit 1\)/);
    expect(stdout).toContain("AN APP FAILED");
  }, 60_000);
});
