import { inspect } from "node:util";
import { createEntraKnexConfig } from "@entra-sql/knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { jsonView, recordingTokenSource, registerApp, tokenLeaks } from "../mssql/defect-fixtures.js";
import { expectDiagnosticsWithoutSecrets, recordDiagnostics } from "../mssql/diagnostics-fixtures.js";
import { knexConfig, OLDEST_AND_NEWEST, SQL_SCOPE } from "./helpers.js";

// No token in what a Knex application prints (the oldest and the newest supported Knex): in inline mode
// tedious keeps the token in each connection's config, and Knex's pool printed with util.inspect, or
// serialised for a log, must not show it, nor any JWT (every token the local Entra ID minted for this
// app is looked for). The token must still be readable where tedious reads it again when Azure SQL
// redirects a login. Nor do the payloads published on the diagnostics channels during the logins and a
// token rotation.

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

describe.each(OLDEST_AND_NEWEST)("Knex $version", (v) => {
  it("inline mode: util.inspect(knex.client.pool), its JSON and the channel payloads show no token; tedious can still read it", async () => {
    const app = registerApp(standIns, `inspect-knex-${v.version}`);
    const diagnostics = recordDiagnostics();
    const { tokenSource, minted } = recordingTokenSource(standIns, app);
    const config = createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 3 }), {
      tokenSource,
      tokenMode: "inline",
      scope: SQL_SCOPE,
    });
    const db = v.create(config);
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => Promise.resolve(db.raw("select ? as n", [i]))));
      await db.transaction((trx) => trx.raw("select 1 as one"));
      expect(minted.length).toBeGreaterThan(0);

      const client = db.client as { pool: object };
      // Deep enough to reach each connection's authentication settings.
      expect(inspect(client.pool, { depth: 10 })).toContain("azure-active-directory-access-token");
      for (const [what, value] of [
        ["knex.client.pool", client.pool],
        ["knex.client", db.client],
        ["the config", config],
      ] as const) {
        expect(tokenLeaks(inspect(value, { depth: 10 }), minted), `inspect(${what})`).toEqual([]);
        expect(tokenLeaks(jsonView(value), minted), `JSON of ${what}`).toEqual([]);
      }

      // A connection of the pool, as tedious sees it on a redirect.
      const connection = (await db.client.acquireConnection()) as TediousConfigView;
      try {
        expect(connection.config.authentication.type).toBe("azure-active-directory-access-token");
        expect(minted).toContain(connection.config.authentication.options.token);
        expect(Object.keys(connection.config.authentication.options)).not.toContain("token");
      } finally {
        await db.client.releaseConnection(connection);
      }

      // A rotation: the cached token is dropped and the next login fetches a new one.
      tokenSource.invalidate();
      await Promise.all(Array.from({ length: 4 }, (_, i) => Promise.resolve(db.raw("select ? as n", [i]))));
      expectDiagnosticsWithoutSecrets(diagnostics, minted, app.clientSecret);
      expect(diagnostics.tokenSource.map((event) => event.type)).toContain("token-invalidated");
    } finally {
      diagnostics.stop();
      await db.destroy();
      tokenSource.close();
    }
  });
});
