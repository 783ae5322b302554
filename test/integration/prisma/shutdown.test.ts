import { spawn } from "node:child_process";
import { once } from "node:events";
import { Server, Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { jsonView, tokenLeaks } from "../mssql/defect-fixtures.js";
import { recording } from "../mssql/stale-sessions.js";
import {
  createTables,
  demoApp,
  demoAppTokenSource,
  prismaClient,
  sleep,
  TOKEN_MODES,
  type TokenMode,
} from "./helpers.js";

// Shutdown and leaks of a PrismaClient on entraPrismaMssql, both token modes:
// - in process: after `$disconnect()` and `tokenSource.close()` no socket of the client is left (every TCP
//   socket still open in this process belongs to a stand-in's server side: its local port is one the
//   stand-ins listen on), no timer either, and the SQL stand-in saw every session of the run closed by the
//   client; no token in the adapter's events, in util.inspect or JSON of the adapter and the client;
// - in a child process (shutdown-app.ts, a small Prisma app run with node): after `$disconnect()` (with
//   and without `adapter.tokenSource.close()`) the process exits on its own, code 0, within a few seconds,
//   without process.exit; its output holds no token and no secret.

const testDir = fileURLToPath(new URL("../..", import.meta.url));
const appPath = fileURLToPath(new URL("./shutdown-app.ts", import.meta.url));
/** From the app's "disconnected" line to its exit: a process that exits on its own takes milliseconds. */
const EXIT_WITHIN_MS = 3_000;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
  const tokenSource = demoAppTokenSource(standIns);
  const { prisma } = prismaClient(standIns, tokenSource, "inline");
  try {
    await createTables(prisma);
  } finally {
    await prisma.$disconnect();
    tokenSource.close();
  }
});

afterAll(async () => {
  await standIns?.close();
});

const activeHandles = (): unknown[] =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();

/** TCP sockets of this process that connect to a port a server of this process listens on: clients. */
function clientSockets(): Socket[] {
  const handles = activeHandles();
  const listening = new Set(
    handles.flatMap((h) => {
      const address = h instanceof Server ? h.address() : null;
      return typeof address === "object" && address !== null ? [address.port] : [];
    }),
  );
  expect(listening.has(standIns.sql.port)).toBe(true);
  return handles.filter(
    (h): h is Socket =>
      h instanceof Socket && !h.destroyed && h.remotePort !== undefined && listening.has(h.remotePort),
  );
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

describe.each(TOKEN_MODES)("tokenMode %s", (tokenMode) => {
  it("after $disconnect() and tokenSource.close(): no socket, no timer, every session closed by the client, no token shown", async () => {
    expect(clientSockets()).toEqual([]);
    const timersBefore = timers();
    const sessionsBefore = new Set(standIns.sql.closedSessions.map((s) => s.id));
    const { tokenSource, tokens } = recording(demoAppTokenSource(standIns));
    const { prisma, adapter, events } = prismaClient(standIns, tokenSource, tokenMode, {
      pool: { min: 0, max: 4 },
    });
    let printed: string;
    try {
      await Promise.all(Array.from({ length: 12 }, () => prisma.book.count()));
      await prisma.$transaction(async (tx) => tx.author.count());
      expect(clientSockets().length).toBeGreaterThanOrEqual(2); // the check sees the pool's sockets
      printed = [
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
        inspect(adapter, { depth: 10, showHidden: true }),
        jsonView(adapter),
        inspect(prisma, { depth: 4 }),
      ].join("\n");
    } finally {
      await prisma.$disconnect();
      tokenSource.close();
    }
    expect(tokens.size).toBeGreaterThan(0);
    expect(tokenLeaks(printed, [...tokens])).toEqual([]);

    expect(await eventually(() => clientSockets().length === 0, 3_000)).toBe(true);
    expect(await eventually(() => timers() <= timersBefore, 3_000)).toBe(true);
    // The server's view: no session open, every one of this run closed by the client.
    expect(await eventually(() => standIns.sql.sessions.length === 0, 3_000)).toBe(true);
    const closed = standIns.sql.closedSessions.filter((s) => !sessionsBefore.has(s.id));
    expect(closed.length).toBeGreaterThanOrEqual(2);
    for (const session of closed) expect(session.closeReason).toBe("client");
  });

  it.each([
    ["$disconnect() and tokenSource.close()", true],
    ["$disconnect() alone", false],
  ] as const)("a Prisma app exits on its own after %s, code 0", async (_, closeTokenSource) => {
    const { code, exitAfterMs, lines, output } = await runApp(tokenMode, closeTokenSource);
    expect(code).toBe(0);
    expect(lines[0]).toEqual({ books: expect.any(Number), authors: 1, inTransaction: 1 });
    expect(lines[1]).toEqual({ disconnected: expect.any(Number) });
    expect(exitAfterMs).toBeLessThan(EXIT_WITHIN_MS);
    expect(output).not.toContain(demoApp(standIns).clientSecret);
    expect(tokenLeaks(output, [])).toEqual([]);
  });
});

/** Runs shutdown-app.ts; resolves when it exits (or rejects when it has not, 20 s after its start). */
async function runApp(tokenMode: TokenMode, closeTokenSource: boolean) {
  const app = demoApp(standIns);
  const child = spawn(process.execPath, ["--import", "tsx", appPath], {
    cwd: testDir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ENTRA_SQL_PRISMA_APP: JSON.stringify({
        server: standIns.sql.host,
        port: standIns.sql.port,
        database: standIns.sql.database,
        caFile: standIns.caFile,
        authorityHost: standIns.entra.authorityHost,
        tenantId: standIns.entra.tenantId,
        clientId: app.clientId,
        tokenMode,
        closeTokenSource,
      }),
      ENTRA_SQL_PRISMA_APP_SECRET: app.clientSecret,
    },
  });
  let output = "";
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const lines: unknown[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    output += `${line}\n`;
    lines.push(JSON.parse(line));
  });
  let exitedAt = 0;
  child.once("exit", () => {
    exitedAt = Date.now();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const [code] = (await once(child, "close")) as [number | null]; // exited, and its output read
    if (code !== 0) throw new Error(`shutdown-app exited with ${code}:\n${output}`);
    // The app printed the time of its $disconnect(); the exit came how long after (same clock).
    const disconnectedAt = (lines[1] as { disconnected?: number } | undefined)?.disconnected ?? 0;
    return { code, exitAfterMs: exitedAt - disconnectedAt, lines, output };
  } finally {
    clearTimeout(killer);
  }
}
