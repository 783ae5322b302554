import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import type { TokenCredential } from "@azure/core-auth";
import { AzureCliCredential, ClientSecretCredential } from "@azure/identity";
import { createTokenSource, TOKEN_SOURCE_CHANNEL } from "@entra-sql/core";
import { SQL_SCOPE, startLocalEntra } from "../support/entra/index.js";

// Benchmark (not a test): @entra-sql/core's token source on a warm cache vs calling the underlying
// @azure/identity credential directly, side by side in one run, against the local Entra ID.
// Prints getToken throughput and identity-endpoint requests per 1,000 calls for both. Then the cost of
// the diagnostics channel: ns per forced fetch (invalidate + getToken over an in-memory credential: three
// events) with nobody subscribed to TOKEN_SOURCE_CHANNEL vs a no-op subscriber attached.
// Run: pnpm bench:core  (bounded: at most CALLS calls per row, a few seconds in all)

const CALLS = 1_000;
// The Azure CLI credential spawns `az` on every call (~20 ms with the fake CLI, ~1 s with the real
// one), so the direct CLI row is measured over fewer calls and scaled to 1,000.
const CLI_DIRECT_CALLS = 100;

interface Row {
  name: string;
  calls: number;
  opsPerSecond: number;
  identityRequestsPer1000: number;
}

async function measure(
  name: string,
  calls: number,
  requests: () => number,
  getToken: () => Promise<unknown>,
): Promise<Row> {
  await getToken(); // warm: the first call fetches
  const before = requests();
  const start = performance.now();
  for (let i = 0; i < calls; i++) await getToken();
  const seconds = (performance.now() - start) / 1000;
  return {
    name,
    calls,
    opsPerSecond: calls / seconds,
    identityRequestsPer1000: ((requests() - before) * 1000) / calls,
  };
}

const FORCED_FETCHES = 20_000;
const ROUNDS = 5;

/** Best-of-ROUNDS ns per forced fetch: each one emits token-invalidated, acquire-started, token-acquired. */
async function nsPerForcedFetch(): Promise<number> {
  const credential: TokenCredential = {
    getToken: async () => ({ token: "bench-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const source = createTokenSource({ credential });
  let best = Number.POSITIVE_INFINITY;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const start = performance.now();
      for (let i = 0; i < FORCED_FETCHES; i++) {
        source.invalidate();
        await source.getAccessToken();
      }
      best = Math.min(best, ((performance.now() - start) * 1e6) / FORCED_FETCHES);
    }
  } finally {
    source.close();
  }
  return best;
}

async function channelCost(): Promise<void> {
  await nsPerForcedFetch(); // warm the JIT
  const silent = await nsPerForcedFetch();
  let received = 0;
  const subscriber = () => {
    received++;
  };
  subscribe(TOKEN_SOURCE_CHANNEL, subscriber);
  const subscribed = await nsPerForcedFetch().finally(() => unsubscribe(TOKEN_SOURCE_CHANNEL, subscriber));
  const silentAgain = await nsPerForcedFetch();
  const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
  console.log(`
${TOKEN_SOURCE_CHANNEL}: forced fetches (in-memory credential, best of ${ROUNDS} x ${FORCED_FETCHES})
`);
  console.log(["".padEnd(24), "ns/fetch".padStart(10), "vs nobody".padStart(10)].join(" "));
  for (const [name, ns] of [
    ["nobody subscribed", silent],
    ["a subscriber attached", subscribed],
    ["nobody, again", silentAgain],
  ] as const) {
    console.log(
      [name.padEnd(24), fmt(ns).padStart(10), `${(ns / silent).toFixed(2)}x`.padStart(10)].join(" "),
    );
  }
  console.log(`
(the subscriber received ${fmt(received)} events: 3 per forced fetch)`);
}

const entra = await startLocalEntra();
try {
  const app = entra.registerApp({ displayName: "bench-app", clientSecret: true });
  const user = entra.registerUser({ upn: "bench.user@entra-sql.test" });
  entra.cli.loginAs(user);
  process.env.PATH = entra.cli.pathWithCli();
  const requests = (endpoint: "token" | "cli") => () => entra.counters.forEndpoint(endpoint).requests;
  const options = entra.credentialOptions();

  const pairs: Array<[string, TokenCredential, "token" | "cli", number]> = [
    [
      "ClientSecretCredential",
      new ClientSecretCredential(entra.tenantId, app.clientId, app.clientSecret ?? "", options),
      "token",
      CALLS,
    ],
    ["AzureCliCredential", new AzureCliCredential({ processTimeoutInMs: 10_000 }), "cli", CLI_DIRECT_CALLS],
  ];

  const rows: Array<[Row, Row]> = [];
  for (const [name, credential, endpoint, directCalls] of pairs) {
    const direct = await measure(`${name} direct`, directCalls, requests(endpoint), () =>
      credential.getToken(SQL_SCOPE),
    );
    const source = createTokenSource({ credential });
    const ours = await measure(`${name} via createTokenSource`, CALLS, requests(endpoint), () =>
      source.getToken("https://database.windows.net/.default"),
    );
    source.close();
    rows.push([direct, ours]);
  }

  const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 2 : 0 });
  console.log("\ngetToken on a warm cache (local Entra ID, loopback)\n");
  console.log(
    [
      "credential".padEnd(24),
      "direct ops/s".padStart(14),
      "ours ops/s".padStart(14),
      "speed-up".padStart(10),
      "direct req/1k".padStart(14),
      "ours req/1k".padStart(12),
    ].join(" "),
  );
  for (const [direct, ours] of rows) {
    console.log(
      [
        direct.name.replace(" direct", "").padEnd(24),
        fmt(direct.opsPerSecond).padStart(14),
        fmt(ours.opsPerSecond).padStart(14),
        `${fmt(ours.opsPerSecond / direct.opsPerSecond)}x`.padStart(10),
        fmt(direct.identityRequestsPer1000).padStart(14),
        fmt(ours.identityRequestsPer1000).padStart(12),
      ].join(" "),
    );
  }
  console.log(
    `\n(direct CLI measured over ${CLI_DIRECT_CALLS} calls and scaled; all other rows over ${CALLS} calls)`,
  );
  await channelCost();
} finally {
  await entra.close();
}
