import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource } from "typeorm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { SQL_SCOPE } from "../mssql/helpers.js";

// The two credential paths most users have, through a TypeORM DataSource: the Azure CLI on a laptop
// (the fake `az`, signed in as the demo user) and a managed identity in production (App Service
// protocol). This file is its own process: msal-node keeps managed-identity state process-wide.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await standIns?.close();
});

async function whoAmI(credential: "cli" | "managed-identity"): Promise<string> {
  const { sql } = standIns;
  const options = entraDataSourceOptions({
    credential,
    scope: SQL_SCOPE, // a loopback host names no cloud
    mssql,
    host: sql.host,
    port: sql.port,
    database: sql.database,
    options: sql.tlsOptions(),
    synchronize: false,
  });
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    const rows = (await dataSource.query("SELECT SUSER_SNAME() AS who")) as Array<{ who: string }>;
    expect(options.driver.tokenSource.activeSource).toBe(
      credential === "cli" ? "AzureCliCredential" : "ManagedIdentityCredential",
    );
    return rows[0]?.who ?? "";
  } finally {
    await dataSource.destroy();
    options.driver.tokenSource.close();
  }
}

describe("credential paths through TypeORM", () => {
  it("a laptop: the Azure CLI's signed-in user", async () => {
    vi.stubEnv("PATH", standIns.entra.cli.pathWithCli());
    const before = standIns.entra.counters.forEndpoint("cli").requests;
    expect(await whoAmI("cli")).toBe(standIns.demo?.user.upn);
    expect(standIns.entra.counters.forEndpoint("cli").requests - before).toBe(1);
    expect(standIns.sql.logins.at(-1)).toMatchObject({ ok: true, principal: { kind: "user" } });
  });

  it("production: the system-assigned managed identity (App Service endpoint)", async () => {
    for (const [name, value] of Object.entries(standIns.entra.env.appService())) vi.stubEnv(name, value);
    vi.stubEnv("PATH", "/nonexistent-bin"); // no az on the server
    expect(await whoAmI("managed-identity")).toBe("entra-sql-demo-host");
    expect(standIns.sql.logins.at(-1)).toMatchObject({ ok: true });
  });
});
