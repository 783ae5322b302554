import { inspect } from "node:util";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource } from "typeorm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { jsonView, recordingTokenSource, registerApp, tokenLeaks } from "../mssql/defect-fixtures.js";
import { expectDiagnosticsWithoutSecrets, recordDiagnostics } from "../mssql/diagnostics-fixtures.js";
import { SQL_SCOPE } from "../mssql/helpers.js";
import { server } from "./helpers.js";

// No token in what a TypeORM application prints: in inline mode tedious keeps the token in each
// connection's config, and `dataSource.driver.master` (the mssql pool), `dataSource.driver` and
// `dataSource.options` printed with util.inspect, or serialised for a log, must not show it, nor any JWT
// (every token the local Entra ID minted for this app is looked for). The token must still be readable
// where tedious reads it again when Azure SQL redirects a login. Nor do the payloads published on the
// diagnostics channels during the logins and a token rotation.

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

it("inline mode: util.inspect of the driver's master pool, the driver, the options and the channel payloads show no token; tedious can still read it", async () => {
  const app = registerApp(standIns, "inspect-typeorm");
  const diagnostics = recordDiagnostics();
  const { tokenSource, minted } = recordingTokenSource(standIns, app);
  const dataSource = new DataSource(
    entraDataSourceOptions({
      tokenSource,
      tokenMode: "inline",
      scope: SQL_SCOPE,
      mssql,
      ...server(standIns),
      options: standIns.sql.tlsOptions(),
      pool: { min: 0, max: 3 },
      synchronize: false,
    }),
  );
  await dataSource.initialize();
  try {
    await Promise.all(Array.from({ length: 6 }, (_, i) => dataSource.query(`SELECT ${i} AS n`)));
    await dataSource.transaction((manager) => manager.query("SELECT 1 AS one"));
    expect(minted.length).toBeGreaterThan(0);

    const driver = dataSource.driver as unknown as { master: object };
    // Deep enough to reach each connection's authentication settings.
    expect(inspect(driver.master, { depth: 10 })).toContain("azure-active-directory-access-token");
    for (const [what, value] of [
      ["driver.master", driver.master],
      ["driver", dataSource.driver],
      ["options", dataSource.options],
    ] as const) {
      expect(tokenLeaks(inspect(value, { depth: 10 }), minted), `inspect(dataSource.${what})`).toEqual([]);
      expect(tokenLeaks(jsonView(value), minted), `JSON of dataSource.${what}`).toEqual([]);
    }

    // A connection of the master pool, as tedious sees it on a redirect (mssql's acquire/release are
    // public in its code, lib/base/connection-pool.js, but not in @types/mssql).
    const lending = driver.master as unknown as {
      acquire(requester: object): Promise<TediousConfigView>;
      release(connection: TediousConfigView): void;
    };
    const connection = await lending.acquire(lending);
    try {
      expect(connection.config.authentication.type).toBe("azure-active-directory-access-token");
      expect(minted).toContain(connection.config.authentication.options.token);
      expect(Object.keys(connection.config.authentication.options)).not.toContain("token");
    } finally {
      lending.release(connection);
    }

    // A rotation: the cached token is dropped and the next login fetches a new one.
    tokenSource.invalidate();
    await Promise.all(Array.from({ length: 4 }, (_, i) => dataSource.query(`SELECT ${i} AS n`)));
    expectDiagnosticsWithoutSecrets(diagnostics, minted, app.clientSecret);
    expect(diagnostics.tokenSource.map((event) => event.type)).toContain("token-invalidated");
  } finally {
    diagnostics.stop();
    await dataSource.destroy();
    tokenSource.close();
  }
});
