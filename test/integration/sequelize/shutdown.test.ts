import { Server, Socket } from "node:net";
import { inspect } from "node:util";
import { withEntraTokens } from "@entra-sql/sequelize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { jsonView, tokenLeaks } from "../mssql/defect-fixtures.js";
import { recording } from "../mssql/stale-sessions.js";
import {
  demoApp,
  demoAppTokenSource,
  modeOptions,
  recorder,
  SEQUELIZE_VERSIONS,
  sequelizeOptions,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Shutdown and leaks of a Sequelize instance wired by withEntraTokens, Sequelize 6.29.0 and 6.37.8, both
// token modes: after `sequelize.close()` (and `tokenSource.close()` for a token source the app passed) no
// client socket is left (no TCP socket of this process connects to a port a server of this process listens
// on), no timer beyond those before, and the SQL stand-in saw every session of the run closed by the
// client; no token in the events, in util.inspect or JSON of the instance and of a pooled connection. A
// token source the package created is closed by `sequelize.close()` itself.

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

const eventually = (condition: () => boolean, timeoutMs = 3_000) =>
  until(condition, () => sleep(25), timeoutMs);

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  it("after sequelize.close(): no socket, no timer, every session closed by the client, no token shown", async () => {
    expect(clientSockets()).toEqual([]);
    const timersBefore = timers();
    const sessionsBefore = new Set(standIns.sql.closedSessions.map((s) => s.id));
    const { tokenSource, tokens } = recording(demoAppTokenSource(standIns));
    const { events, onEvent } = recorder();
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns, { min: 0, max: 4 })), {
      tokenSource,
      ...modeOptions(tokenMode),
      onEvent,
    });
    let printed: string;
    try {
      await Promise.all(Array.from({ length: 12 }, (_, i) => sequelize.query(`SELECT ${i} AS n`)));
      await sequelize.transaction(async (transaction) => sequelize.query("SELECT 1 AS one", { transaction }));
      expect(await eventually(() => clientSockets().length >= 2)).toBe(true); // the check sees the pool's sockets
      const connection = await sequelize.connectionManager.getConnection({ type: "write" });
      printed = [
        JSON.stringify(events),
        inspect(events, { depth: 8 }),
        inspect(sequelize, { depth: 5, showHidden: true }),
        jsonView(sequelize.connectionManager),
        // tedious keeps the inline token in its config (it reads it again on a redirect): non-enumerable
        // there, as in the other adapters, so util.inspect without showHidden does not print it.
        inspect(connection, { depth: 6 }),
      ].join("\n");
      sequelize.connectionManager.releaseConnection(connection);
    } finally {
      await sequelize.close();
      tokenSource.close();
    }
    expect(tokens.size).toBeGreaterThan(0);
    expect(tokenLeaks(printed, [...tokens])).toEqual([]);

    expect(await eventually(() => clientSockets().length === 0)).toBe(true);
    expect(await eventually(() => timers() <= timersBefore)).toBe(true);
    // The server's view: no session open, every one of this run closed by the client.
    expect(await eventually(() => standIns.sql.sessions.length === 0)).toBe(true);
    const closed = standIns.sql.closedSessions.filter((s) => !sessionsBefore.has(s.id));
    expect(closed.length).toBeGreaterThanOrEqual(2);
    for (const session of closed) expect(session.closeReason).toBe("client");
  });
});

describe.each(SEQUELIZE_VERSIONS)("Sequelize $version", (v) => {
  it("sequelize.close() closes the token source the package created: no timer, no socket left; its secret never shown", async () => {
    const timersBefore = timers();
    const app = demoApp(standIns);
    const sequelize = withEntraTokens(v.create(sequelizeOptions(standIns)), {
      credential: {
        type: "service-principal",
        tenantId: standIns.entra.tenantId,
        clientId: app.clientId,
        clientSecret: app.clientSecret ?? "",
      },
      identityOptions: standIns.entra.credentialOptions(),
      ...modeOptions("inline"),
    });
    await Promise.all(Array.from({ length: 4 }, () => sequelize.query("SELECT 1 AS one")));
    // The secret the package's token source holds is in no printout of the instance.
    const printed = [
      inspect(sequelize, { depth: 6, showHidden: true }),
      jsonView(sequelize.connectionManager),
    ].join("\n");
    expect(printed).not.toContain(app.clientSecret);
    await sequelize.close();
    expect(await eventually(() => clientSockets().length === 0)).toBe(true);
    expect(await eventually(() => timers() <= timersBefore)).toBe(true);
    expect(await eventually(() => standIns.sql.sessions.length === 0)).toBe(true);
  });
});
