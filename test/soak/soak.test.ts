import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { computeSchedule, FAULT_KINDS } from "./fault-schedule.js";

// The short soak (`pnpm soak`'s CI variant): all five adapters through every fault kind for 50 s of
// load, with a fixed seed (the schedule is the same on every CI run; `pnpm soak` picks a new seed each
// time and prints it, with the command that replays it). Runs the real entry point in a child process, as `pnpm soak` does, and reads its
// output: exit 0, the table with a column per adapter, and every fault kind seen in the stand-ins'
// records (the fault table's "seen in the records" column counts the server's and the IdP's events).

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
const ADAPTERS = ["typeorm", "knex", "prisma", "sequelize", "kysely"];
const SECONDS = 50;
/** Setup (the SQL engine, five apps' migrations) and closing, on a busy 2-core machine, plus the load. */
const TIMEOUT_MS = 240_000;

function soak(seed: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      TSX,
      ["test/soak/run-soak.ts", "--seconds", String(SECONDS), "--seed", String(seed)],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The cells of the table row whose label starts with `label`. */
function row(output: string, label: string): string[] {
  const line = output.split("\n").find((l) => l.startsWith(`| ${label}`));
  if (!line) throw new Error(`no row "${label}" in the soak's output`);
  return line
    .split("|")
    .slice(2, -1)
    .map((cell) => cell.trim());
}

function expectPassed(seed: number, { code, output }: { code: number | null; output: string }): void {
  const context = `soak seed ${seed} failed; replay: pnpm soak --seconds ${SECONDS} --seed ${seed}\n${output}`;
  expect(output, context).toContain(`soak seed ${seed}`);
  expect(code, context).toBe(0);
  expect(row(output, ""), context).toEqual(ADAPTERS);
  for (const cell of row(output, "failed, AVOIDABLE")) expect(cell, context).toBe("0");
  for (const cell of row(output, "sessions open at the end")) expect(cell, context).toBe("0");
  // The apps take turns with the kinds of credential; the IdP's records show each app minting by its own.
  const sources = ["client secret", "certificate", "workload identity"];
  row(output, "tokens minted per source").forEach((cell, i) => {
    expect(cell, context).toMatch(new RegExp(`^${sources[i % sources.length]} [1-9]\\d*$`));
  });
  for (const kind of FAULT_KINDS) {
    const [scheduled, seen] = row(output, kind).map(Number);
    expect(scheduled, `${kind}: ${context}`).toBeGreaterThanOrEqual(1);
    expect(seen, `${kind}: ${context}`).toBeGreaterThanOrEqual(1);
  }
}

describe("the fault schedule", () => {
  const input = { durationMs: SECONDS * 1000, tokenLifetimeMs: 10_000, apps: ADAPTERS };

  it("is the same for the same seed, schedules every kind, and keeps outages a token's life apart, whatever the seed and length", () => {
    expect(computeSchedule({ ...input, seed: 42 })).toEqual(computeSchedule({ ...input, seed: 42 }));
    for (let seed = 0; seed < 400; seed++) {
      // The short variant's length, and the README's ten minutes.
      const durationMs = seed % 2 === 0 ? input.durationMs : 600_000;
      const schedule = computeSchedule({ ...input, durationMs, seed });
      for (const kind of FAULT_KINDS)
        expect(
          schedule.some((f) => f.kind === kind),
          `seed ${seed}`,
        ).toBe(true);
      const outages = schedule.filter((f) => f.kind.startsWith("idp-outage"));
      outages.forEach((a, i) => {
        for (const b of outages.slice(i + 1))
          expect(
            a.atMs + a.durationMs + input.tokenLifetimeMs <= b.atMs ||
              b.atMs + b.durationMs + input.tokenLifetimeMs <= a.atMs,
            `seed ${seed}`,
          ).toBe(true);
      });
      expect(outages.find((f) => f.kind === "idp-outage-long")?.durationMs).toBeGreaterThan(10_000);
      expect(outages.find((f) => f.kind === "idp-outage-short")?.durationMs).toBeLessThan(10_000);
      for (const fault of schedule) expect(fault.atMs + fault.durationMs).toBeLessThanOrEqual(durationMs);
    }
  });
});

describe("pnpm soak (short): every adapter through every fault kind", () => {
  it("passes with a fixed seed", { timeout: TIMEOUT_MS }, async () => {
    expectPassed(20261204, await soak(20261204));
  });
});
