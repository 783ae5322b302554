import { createEntraMssql, type EntraMssqlEvent } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, mssqlConfig, recorder, SQL_SCOPE, sleep } from "./helpers.js";

// Connections retire before their login token expires and never present an expired token, in both
// token modes, with short tokens from the local Entra ID.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

const retired = (events: EntraMssqlEvent[], reason: string) =>
  events.filter((e) => e.type === "connection-retired" && e.reason === reason);

describe.each(["inline", "token-credential"] as const)("token bound, tokenMode %s", (tokenMode) => {
  const modeOptions = tokenMode === "inline" ? { tokenMode, scope: SQL_SCOPE } : { tokenMode };

  it("retires connections before their token expires and never presents an expired token", async () => {
    // 6 s tokens: handed out while valid for 1 s more (minimumValidityInMs, at most lifetime / 6),
    // refreshed in the background from 4.5 s before expiry; connections retire 0.6 s before expiry.
    // Keep the margin below the minimum validity, as the defaults do (60 s against 10 min).
    standIns.entra.settings.tokenLifetimeSeconds = 6;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: 4_500,
      minimumValidityInMs: 1_000,
    });
    const { events, onEvent } = recorder();
    const sql = createEntraMssql(mssql, {
      tokenSource,
      ...modeOptions,
      tokenExpiryMarginInMs: 600,
      maxAgeInMs: null,
      onEvent,
    });
    // Counted from before connect(): the pool's first login (with the first token) is part of the run.
    const loginsBefore = standIns.sql.logins.length;
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { max: 3 })).connect();
    // Run until a connection has retired for its token and a login has used a second token (at
    // about 5.4 s), bounded at two token lifetimes: a slow machine gets more time, not a failure.
    const deadline = Date.now() + 12_000;
    const tokensUsed = () =>
      new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
    try {
      const done = () => retired(events, "token-expiry").length >= 1 && tokensUsed() >= 2;
      while (Date.now() < deadline && !done()) {
        await Promise.all([pool.query("SELECT 1 AS a"), pool.query("SELECT 2 AS b")]);
        // The server rechecks the token of every open session (as Azure SQL does after a failover):
        // a statement on a session whose token has expired would fail with 37396.
        standIns.sql.revalidate();
        await sleep(200);
      }
      expect(standIns.sql.counters.statementsRejected).toBe(0);
      expect(retired(events, "token-expiry").length).toBeGreaterThanOrEqual(1);
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.length).toBeGreaterThanOrEqual(2);
      for (const login of logins) {
        expect(login.ok).toBe(true);
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime() + 600);
      }
      // More than one token was used over the run, each fetched once for the whole pool.
      expect(new Set(logins.map((l) => l.tokenExpiresAt?.getTime())).size).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  }, 30_000);
});
