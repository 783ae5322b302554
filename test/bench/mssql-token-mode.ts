// Not a test. New-connection latency of @entra-sql/mssql's two token modes against the stand-ins,
// with the SQL stand-in adding `latencyMs` per round trip (a simulated RTT). The token is cached in
// both modes (warmed first), so the difference is the login exchange: inline sends the token in
// LOGIN7; token-credential waits for FEDAUTHINFO and sends it in one more round trip.
// Run: pnpm --filter @entra-sql/core run build && pnpm --filter @entra-sql/mssql run build &&
//      npx tsx test/bench/mssql-token-mode.ts
import { createEntraMssql, type TokenMode } from "@entra-sql/mssql";
import mssql from "mssql";
import { demoAppTokenSource, mssqlConfig, SQL_SCOPE } from "../integration/mssql/helpers.js";
import { startStandIns } from "../support/stand-ins.js";

const LATENCIES_MS = [0, 5, 20];
const CONNECTIONS = 10;

const standIns = await startStandIns({ sql: { engine: null } });
const tokenSource = demoAppTokenSource(standIns);
await tokenSource.getToken(SQL_SCOPE);

async function medianLoginMs(tokenMode: TokenMode): Promise<number> {
  const sql = createEntraMssql(mssql, {
    tokenSource,
    tokenMode,
    ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
  });
  const times: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const pool = new sql.ConnectionPool(mssqlConfig(standIns));
    const started = performance.now();
    await pool.connect(); // exactly one login: mssql's probe connection
    times.push(performance.now() - started);
    await pool.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

try {
  await medianLoginMs("inline"); // warm-up: JWKS fetch, TLS, JIT
  console.log("latency/RTT ms   inline ms   token-credential ms   token-credential / inline");
  for (const latencyMs of LATENCIES_MS) {
    standIns.sql.latencyMs = latencyMs;
    const inline = await medianLoginMs("inline");
    const credential = await medianLoginMs("token-credential");
    console.log(
      `${String(latencyMs).padStart(14)}   ${inline.toFixed(1).padStart(9)}   ${credential.toFixed(1).padStart(19)}   ${(credential / inline).toFixed(2).padStart(25)}x`,
    );
  }
  console.log(`(median of ${CONNECTIONS} new connections each; token cached in both modes)`);
} finally {
  tokenSource.close();
  await standIns.close();
}
