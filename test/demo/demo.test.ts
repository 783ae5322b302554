import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The README's first command runs this demo (TypeORM and Knex side by side against one pair of
// stand-ins); here it runs time-compressed (12 s of load) and must hold every invariant it checks, for
// both apps: no failed query, no expired token presented, no statement on a session past its token or
// on a connection past max age, at least one token rotation. Needs `pnpm build` first (the examples'
// compiled entities, migrations and seeds).

const demo = fileURLToPath(new URL("./run-demo.ts", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

/** The summary row `label`'s value per app column, e.g. ["0", "0"]. */
function row(stdout: string, label: string): string[] {
  const line = stdout.split("\n").find((l) => l.trimStart().startsWith(label));
  if (!line) throw new Error(`no summary row "${label}" in:\n${stdout}`);
  return line
    .slice(line.indexOf(label) + label.length)
    .trim()
    .split(/\s{2,}/);
}

describe("pnpm demo (run-demo.ts: typeorm and knex)", () => {
  it("runs both apps through token rotations with every invariant held", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", demo],
        { cwd: root, env: { ...process.env, DEMO_SECONDS: "12" }, timeout: 90_000 },
        (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(stdout).toContain("all invariants held (typeorm, knex)");
    expect(code).toBe(0);
    // One timeline, each line tagged with the app (or the server) it is about.
    for (const tag of ["[server] ", "[typeorm]", "[knex]   "]) expect(stdout).toContain(tag);
    expect(stdout).toMatch(/\[server\] {2}revalidated \d+ open session\(s\)/);
    expect(stdout).toMatch(/\[typeorm\] connection retired at age/);
    expect(stdout).toMatch(/\[knex\] {4}connection retired at age/);
    // The summary: a column per app.
    expect(stdout).toMatch(/\nsummary +typeorm +knex\n/);
    for (const served of row(stdout, "queries served")) expect(Number(served)).toBeGreaterThan(0);
    expect(row(stdout, "failed queries")).toEqual(["0", "0"]);
    expect(row(stdout, "expired tokens presented")).toEqual(["0", "0"]);
    expect(row(stdout, "statements past their token")).toEqual(["0", "0"]);
    expect(row(stdout, "failed logins")).toEqual(["0", "0"]);
    // At least one rotation per app: a second token was fetched during the run (which connection first
    // logs in with it depends on timing: a connection opened during the refresh still gets token 1).
    for (const tokens of row(stdout, "tokens fetched")) expect(Number(tokens)).toBeGreaterThanOrEqual(2);
    for (const logins of row(stdout, "logins")) expect(Number(logins)).toBeGreaterThanOrEqual(2);
    for (const refused of row(stdout, "statements refused with 37396")) expect(refused).toMatch(/^\d+$/);
    for (const age of row(stdout, "oldest connection age seen (limit 10 s)")) {
      expect(Number.parseFloat(age)).toBeLessThanOrEqual(11);
    }
  }, 100_000);
});
