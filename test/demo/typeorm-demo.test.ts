import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The README's first command runs this demo; here it runs time-compressed (12 s of load) and must
// hold every invariant it checks: no failed query, no expired token presented, no connection past
// max age, at least one token rotation. Needs `pnpm build` first (the example's compiled entities).

const demo = fileURLToPath(new URL("./typeorm-demo.ts", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

describe("pnpm demo:typeorm", () => {
  it("runs through token rotations with every invariant held", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", demo],
        { cwd: root, env: { ...process.env, DEMO_SECONDS: "12" }, timeout: 90_000 },
        (error, out) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(stdout).toContain("all invariants held");
    expect(code).toBe(0);
    expect(stdout).toMatch(/failed queries\s+0\n/);
    expect(stdout).toMatch(/expired tokens presented\s+0\n/);
    // At least one rotation: a second token was fetched during the run (which connection first logs
    // in with it depends on timing: a connection opened during the refresh still gets token 1).
    expect(Number(/tokens fetched\s+(\d+)/.exec(stdout)?.[1])).toBeGreaterThanOrEqual(2);
    expect(stdout).toMatch(/connection retired at age/);
  }, 100_000);
});
