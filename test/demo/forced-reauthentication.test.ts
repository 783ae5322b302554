import { describe, expect, it } from "vitest";
import type { SessionInfo, SqlStandIn, StandInEvent } from "../support/tds/index.js";
import { createForcedReauthentication } from "./forced-reauthentication.js";

// Which session the demo's injected 37396 lands on, against a hand-written stand-in fake: one of the
// app's sessions whose request just finished outside a transaction, one at a time; another once the
// marked one is gone without a retry, never again after a request that came before a statement the app
// did not run again; none after the app has run a statement again.

const APP_ID = "AAAAAAAA-0000-0000-0000-000000000001";
const OTHER_ID = "bbbbbbbb-0000-0000-0000-000000000002";

function fakeSql() {
  const open = new Map<number, { inTransaction: boolean; marked: boolean }>();
  const sql = {
    get sessions() {
      return [...open].map(([id, s]) => ({ id, inTransaction: s.inTransaction }) as SessionInfo);
    },
    requireReauthentication(id: number) {
      const session = open.get(id);
      if (session) session.marked = true;
      return session !== undefined;
    },
  };
  const add = (id: number, inTransaction = false) => open.set(id, { inTransaction, marked: false });
  const marked = () => [...open].filter(([, s]) => s.marked).map(([id]) => id);
  return { sql: sql as unknown as SqlStandIn, open, add, marked };
}

const login = (sessionId: number, appId: string): StandInEvent => ({
  type: "login",
  record: {
    at: new Date(),
    sessionId,
    authMode: "fedauth-inline",
    encryption: "tls",
    ok: true,
    principal: { name: appId, appId, kind: "app" },
  },
});
const request = (sessionId: number, summary = "select 1", errorNumbers: number[] = []): StandInEvent => ({
  type: "request",
  sessionId,
  kind: "rpc",
  summary,
  durationMs: 1,
  errorNumbers,
});
const closed = (sessionId: number): StandInEvent => ({ type: "session-closed", sessionId, reason: "client" });

describe("forced reauthentication (the demo's injected 37396)", () => {
  it("marks one session of the app at a time, right after a request outside a transaction", async () => {
    const { sql, open, add, marked } = fakeSql();
    const said: string[] = [];
    const injector = createForcedReauthentication(sql, (line) => said.push(line));
    for (const [id, appId] of [
      [51, APP_ID],
      [52, OTHER_ID],
      [53, APP_ID.toLowerCase()],
      [54, APP_ID],
    ] as const) {
      add(id, id === 51);
      injector.onEvent(login(id, appId));
    }

    injector.onEvent(request(53)); // not armed yet
    expect(marked()).toEqual([]);

    let refused = 0;
    let retried = 0;
    const done = injector.inject({
      app: "typeorm",
      appId: APP_ID,
      refused: () => refused,
      retried: () => retried,
      timeoutMs: 5_000,
    });
    injector.onEvent(request(51)); // inside a transaction
    injector.onEvent(request(52)); // another app's session
    injector.onEvent(request(53, "select 1", [37396])); // a refused request
    expect(marked()).toEqual([]);
    injector.onEvent(request(53, "A"));
    injector.onEvent(request(54, "B")); // one marked session at a time
    expect(marked()).toEqual([53]);

    // 53 refuses a statement and goes, and the app runs nothing again (the pool's own check was
    // refused): another session is marked, but not after a request like "A".
    refused = 1;
    injector.onEvent(request(53, "check", [37396]));
    open.delete(53);
    injector.onEvent(closed(53));
    injector.onEvent(request(54, "A"));
    expect(marked()).toEqual([]);
    injector.onEvent(request(54, "B"));
    expect(marked()).toEqual([54]);

    // 54 retires unused: "B" stays a place to mark after.
    open.delete(54);
    injector.onEvent(closed(54));
    add(55);
    injector.onEvent(login(55, APP_ID));
    injector.onEvent(request(55, "B"));
    expect(marked()).toEqual([55]);

    // 55 refuses the app's statement, which the app runs again: done, and nothing more is marked.
    refused = 2;
    retried = 1;
    injector.onEvent(request(55, "app statement", [37396]));
    open.delete(55);
    injector.onEvent(closed(55));
    add(56);
    injector.onEvent(login(56, APP_ID));
    injector.onEvent(request(56, "B"));
    expect(marked()).toEqual([]);
    await expect(done).resolves.toBeUndefined();
    expect(said).toEqual([
      expect.stringMatching(/^session 53 \(typeorm\) must log in again/),
      expect.stringMatching(/^session 53 \(typeorm\) is gone, and the app ran nothing again/),
      expect.stringMatching(/^session 54 \(typeorm\) must log in again/),
      expect.stringMatching(/^session 54 \(typeorm\) retired unused/),
      expect.stringMatching(/^session 55 \(typeorm\) must log in again/),
    ]);

    injector.onEvent(request(56, "C")); // disarmed after the injection
    expect(marked()).toEqual([]);
  });

  it("says what did not happen when the time is up", async () => {
    const { sql } = fakeSql();
    const injector = createForcedReauthentication(sql, () => undefined);
    const target = { app: "knex", appId: APP_ID, retried: () => 0, timeoutMs: 50 };
    await expect(injector.inject({ ...target, refused: () => 0 })).resolves.toBe(
      "no statement of the app was refused with 37396",
    );
    let refused = 0;
    const pending = injector.inject({ ...target, refused: () => refused });
    refused = 1;
    await expect(pending).resolves.toBe("no statement refused with 37396 was run again");
  });
});
