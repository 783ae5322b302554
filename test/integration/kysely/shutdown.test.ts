import { Server, Socket } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { jsonView, recordingTokenSource, registerApp, tokenLeaks } from "../mssql/defect-fixtures.js";
import { demoApp, entraKysely, modeOptions, recorder, sleep, versionModes } from "./helpers.js";

// Shutdown and leaks through real Kysely (0.27.0 and 0.29.9), both token modes: after `db.destroy()` no
// client socket is left (no TCP socket of this process connects to a port its servers listen on; the
// check first sees the pool's), no timer beyond those before (the token source the package created is
// closed by db.destroy()), and the SQL stand-in saw each session of the run closed by the client. No token
// (whole, payload or signature of any token minted for the app) in the package's events, util.inspect or
// JSON of the Kysely instance or of the dialect config (the tedious Connection hides its inline token:
// driver-kit's watchTediousConnection, checked through reachable connections in the Knex and mssql suites).

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

const activeHandles = (): unknown[] =>
  (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();

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

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("no token in events, inspect or JSON of the Kysely instance and its config", async () => {
    const app = registerApp(standIns, `kysely-${v.version}-${tokenMode}`);
    const { tokenSource, minted } = recordingTokenSource(standIns, app);
    const { events, onEvent } = recorder();
    const { db, config } = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode), onEvent });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => v.sql`select ${i} as n`.execute(db)));
      await db.transaction().execute((trx) => v.sql`select 1 as one`.execute(trx));
      expect(minted.length).toBeGreaterThan(0);
      for (const [what, value] of [
        ["the Kysely instance", db],
        ["the dialect config", config],
        ["the events", events],
      ] as const) {
        expect(
          tokenLeaks(inspect(value, { depth: 12, showHidden: false }), minted),
          `inspect(${what})`,
        ).toEqual([]);
        expect(tokenLeaks(jsonView(value), minted), `JSON of ${what}`).toEqual([]);
      }
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("after db.destroy(): no socket, no timer, every session of the run closed by the client", async () => {
    const app = demoApp(standIns);
    const timersBefore = timers();
    const sessionsBefore = new Set(standIns.sql.sessions.map((s) => s.id));
    const closedBefore = standIns.sql.closedSessions.length;
    // A token source this package creates (and so closes in db.destroy()).
    const { db } = entraKysely(v, standIns, {
      credential: {
        type: "service-principal",
        tenantId: standIns.entra.tenantId,
        clientId: app.clientId,
        clientSecret: app.clientSecret ?? "",
      },
      identityOptions: standIns.entra.credentialOptions(),
      ...modeOptions(tokenMode),
    });
    await Promise.all(Array.from({ length: 6 }, (_, i) => v.sql`select ${i} as n`.execute(db)));
    await db.transaction().execute((trx) => v.sql`select 1 as one`.execute(trx));
    const rows: unknown[] = [];
    for await (const row of db.selectNoFrom(v.sql<number>`5`.as("n")).stream(1)) rows.push(row);
    expect(rows).toEqual([{ n: 5 }]);
    expect(clientSockets().length).toBeGreaterThanOrEqual(1);
    const runSessions = standIns.sql.sessions.filter((s) => !sessionsBefore.has(s.id)).map((s) => s.id);
    expect(runSessions.length).toBeGreaterThanOrEqual(1);

    await db.destroy();

    expect(await eventually(() => clientSockets().length === 0, 3_000)).toBe(true);
    expect(await eventually(() => timers() <= timersBefore, 3_000)).toBe(true);
    expect(await eventually(() => standIns.sql.sessions.every((s) => sessionsBefore.has(s.id)), 3_000)).toBe(
      true,
    );
    const closed = standIns.sql.closedSessions.slice(closedBefore).filter((s) => runSessions.includes(s.id));
    expect(closed.map((s) => s.closeReason)).toEqual(runSessions.map(() => "client"));
  });
});
