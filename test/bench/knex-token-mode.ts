// Not a test. New-connection latency of @entra-sql/knex's two token modes through real Knex 3.3 against
// the stand-ins, with the SQL stand-in adding `latencyMs` per round trip (a simulated RTT). The token is
// cached in both modes (warmed first), so the difference is the login exchange: inline sends the token
// in LOGIN7; token-credential waits for FEDAUTHINFO and sends it in one more round trip. Each sample is
// one physical login: `acquireConnection()` on an empty pool (min 0), then the pool is destroyed.
// Run: pnpm -r run build && npx tsx test/bench/knex-token-mode.ts
import { createEntraKnexConfig, type TokenMode } from "@entra-sql/knex";
import knex from "knex";
import { knexConfig, SQL_SCOPE } from "../integration/knex/helpers.js";
import { demoAppTokenSource } from "../integration/mssql/helpers.js";
import { startStandIns } from "../support/stand-ins.js";

const LATENCIES_MS = [0, 5, 20];
const CONNECTIONS = 10;

const standIns = await startStandIns({ sql: { engine: null } });
const tokenSource = demoAppTokenSource(standIns);
await tokenSource.getToken(SQL_SCOPE);

async function medianLoginMs(tokenMode: TokenMode): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const db = knex(
      createEntraKnexConfig(knex, knexConfig(standIns, { min: 0, max: 1 }), {
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
      }),
    );
    const started = performance.now();
    const connection = await db.client.acquireConnection(); // exactly one login
    times.push(performance.now() - started);
    await db.client.releaseConnection(connection);
    await db.destroy();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

try {
  await medianLoginMs("inline"); // warm-up: JWKS fetch, TLS, JIT
  await medianLoginMs("token-credential");
  console.log("latency/RTT ms   inline ms   token-credential ms   token-credential / inline");
  for (const latencyMs of LATENCIES_MS) {
    standIns.sql.latencyMs = latencyMs;
    const inline = await medianLoginMs("inline");
    const credential = await medianLoginMs("token-credential");
    console.log(
      `${String(latencyMs).padStart(14)}   ${inline.toFixed(1).padStart(9)}   ${credential.toFixed(1).padStart(19)}   ${(credential / inline).toFixed(2).padStart(25)}x`,
    );
  }
  console.log(`(Knex 3.3, median of ${CONNECTIONS} new connections each; token cached in both modes)`);
} finally {
  tokenSource.close();
  await standIns.close();
}
