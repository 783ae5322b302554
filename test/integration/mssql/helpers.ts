import { createTokenSource, type TokenSource } from "@entra-sql/core";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import type { config as MssqlConfig } from "mssql";
import type { StandIns } from "../../support/stand-ins.js";

// Shared by the @entra-sql/mssql integration files: an mssql config for the SQL stand-in and a token
// source for the demo app (a database user) over the local Entra ID.

export const SQL_SCOPE = "https://database.windows.net/.default";

/** An mssql config for the stand-in that trusts its CA (never trustServerCertificate); no authentication. */
export function mssqlConfig(standIns: StandIns, pool: MssqlConfig["pool"] = {}): MssqlConfig {
  const { sql } = standIns;
  return {
    server: sql.host,
    port: sql.port,
    database: sql.database,
    options: sql.tlsOptions(),
    pool,
  } as MssqlConfig;
}

export function demoApp(standIns: StandIns) {
  const app = standIns.demo?.app;
  if (!app?.clientSecret) throw new Error("the stand-ins were started without the demo identities");
  return app;
}

/** A token source for the demo app (service-principal preset against the local Entra ID). */
export function demoAppTokenSource(standIns: StandIns, extra: Record<string, unknown> = {}): TokenSource {
  const app = demoApp(standIns);
  return createTokenSource({
    credential: {
      type: "service-principal",
      tenantId: standIns.entra.tenantId,
      clientId: app.clientId,
      clientSecret: app.clientSecret ?? "",
    },
    identityOptions: standIns.entra.credentialOptions(),
    ...extra,
  });
}

/** Identity-endpoint requests of the demo app so far. */
export function identityRequests(standIns: StandIns): number {
  return standIns.entra.counters.forIdentity(demoApp(standIns).clientId).requests;
}

export function recorder() {
  const events: EntraMssqlEvent[] = [];
  return { events, onEvent: (event: EntraMssqlEvent) => events.push(event) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
