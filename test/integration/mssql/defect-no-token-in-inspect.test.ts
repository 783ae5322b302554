import { inspect } from "node:util";
import { createEntraMssql } from "@entra-sql/mssql";
import mssql from "mssql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { eventually, jsonView, recordingTokenSource, registerApp, tokenLeaks } from "./defect-fixtures.js";
import { expectDiagnosticsWithoutSecrets, recordDiagnostics } from "./diagnostics-fixtures.js";
import { mssqlConfig, SQL_SCOPE } from "./helpers.js";

// No token in what an application prints: in inline mode tedious keeps the token in each connection's
// config (`config.authentication.options.token`), and a pool printed with util.inspect, or serialised for
// a log, must not show it, nor any JWT (every token the local Entra ID minted for this app, also those
// a background refresh fetched, is looked for). The token must still be readable there: tedious reads it
// again when Azure SQL redirects a login to another node. Nor do the payloads published on the diagnostics
// channels during the logins and a token rotation.

/** The part of a tedious Connection tedious reads the token from again on a redirect (tedious 19 connection.js). */
interface TediousConfigView {
  config: { authentication: { type: string; options: Record<string, unknown> } };
}

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine(); // started on first use otherwise, which takes seconds
});

afterAll(async () => {
  await standIns?.close();
});

it("inline mode: util.inspect(pool), its JSON and the channel payloads show no token; tedious can still read it for a redirect", async () => {
  const app = registerApp(standIns, "inspect-mssql");
  const diagnostics = recordDiagnostics();
  const { tokenSource, minted } = recordingTokenSource(standIns, app);
  const sql = createEntraMssql(mssql, { tokenSource, tokenMode: "inline", scope: SQL_SCOPE });
  const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { min: 0, max: 3 })).connect();
  try {
    await Promise.all(Array.from({ length: 6 }, (_, i) => pool.query(`SELECT ${i} AS n`)));
    await pool.query("SELECT 1 AS one");
    expect(minted.length).toBeGreaterThan(0);
    // Three acquires waited at once: three connections.
    expect(
      await eventually(
        () => standIns.sql.sessions.filter((s) => s.principal.appId === app.clientId).length === 3,
        10_000,
      ),
    ).toBe(true);

    const printed = inspect(pool, { depth: 10 });
    // Deep enough to reach each connection's authentication settings.
    expect(printed).toContain("azure-active-directory-access-token");
    expect(tokenLeaks(printed, minted)).toEqual([]);
    expect(tokenLeaks(jsonView(pool), minted)).toEqual([]);
    expect(tokenLeaks(inspect(sql, { depth: 10 }), minted)).toEqual([]);

    // A connection of the pool, as tedious sees it on a redirect. mssql's acquire/release are public in
    // its code (lib/base/connection-pool.js) but not in @types/mssql.
    const lending = pool as unknown as {
      acquire(requester: object): Promise<TediousConfigView>;
      release(connection: TediousConfigView): void;
    };
    const connection = await lending.acquire(pool);
    try {
      expect(connection.config.authentication.type).toBe("azure-active-directory-access-token");
      expect(minted).toContain(connection.config.authentication.options.token);
      expect(Object.keys(connection.config.authentication.options)).not.toContain("token");
      expect(tokenLeaks(inspect(connection, { depth: 10 }), minted)).toEqual([]);
      expect(tokenLeaks(jsonView(connection), minted)).toEqual([]);
    } finally {
      lending.release(connection);
    }

    // A rotation: the cached token is dropped and the next login fetches a new one.
    tokenSource.invalidate();
    await Promise.all(Array.from({ length: 4 }, (_, i) => pool.query(`SELECT ${i} AS n`)));
    expectDiagnosticsWithoutSecrets(diagnostics, minted, app.clientSecret);
    expect(diagnostics.tokenSource.map((event) => event.type)).toContain("token-invalidated");
  } finally {
    diagnostics.stop();
    await pool.close();
    tokenSource.close();
  }
});
