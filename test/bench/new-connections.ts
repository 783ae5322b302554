// Not a test. What a NEW physical connection costs, @entra-sql/mssql against what apps write today,
// side by side in one run (DESIGN.md "Benchmarks"): real mssql 12 + tedious 19 + @azure/identity
// against the stand-ins. Each login is one `pool.connect()` (mssql's probe connection) on a new pool.
// - sequential: N new connections one after another: median and p95 login time, identity-endpoint
//   requests (token endpoint, or `az` invocations for the CLI);
// - cold storm: M concurrent new connections with an empty token cache: identity requests, p50/p99.
// Contenders, per credential (the laptop's Azure CLI, and a service principal):
// - "static token": a token fetched once beforehand, as `azure-active-directory-access-token`: the floor;
// - "@entra-sql/mssql": createEntraMssql with the preset (inline token mode, the default);
// - "tedious + credential": tedious' `token-credential` with one shared @azure/identity credential,
//   as the tedious and mssql docs suggest.
// Run: pnpm -r run build && npx tsx test/bench/new-connections.ts
import { AzureCliCredential, ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { createTokenSource, type TokenSource } from "@entra-sql/core";
import { createEntraMssql } from "@entra-sql/mssql";
import mssql from "mssql";
import { mssqlConfig, SQL_SCOPE } from "../integration/mssql/helpers.js";
import { startStandIns } from "../support/stand-ins.js";

const SEQUENTIAL = 30;
const STORM = 20;

type Connect = () => Promise<void>;
interface Contender {
  name: string;
  /** A fresh contender: nothing cached. */
  create(): { connect: Connect; close(): void };
}
interface CredentialKind {
  name: string;
  endpoint: "cli" | "token";
  /** Added to every `az` run: the fake answers in ~15 ms, a real `az account get-access-token` in ~0.5-1 s. */
  cliLatencyMs?: number;
  preset(): Parameters<typeof createTokenSource>[0];
  bare(): TokenCredential;
}

const standIns = await startStandIns({ sql: { engine: null } });
const { entra, demo } = standIns;
if (!demo) throw new Error("no demo identities");
process.env.PATH = entra.cli.pathWithCli(); // the fake `az`, signed in as the demo user

const kinds: CredentialKind[] = [
  {
    name: "Azure CLI (laptop)",
    endpoint: "cli",
    preset: () => ({ credential: "cli" }),
    bare: () => new AzureCliCredential(),
  },
  {
    name: "Azure CLI, 600 ms per az run (like the real one)",
    endpoint: "cli",
    cliLatencyMs: 600,
    preset: () => ({ credential: "cli" }),
    bare: () => new AzureCliCredential(),
  },
  {
    name: "service principal",
    endpoint: "token",
    preset: () => ({
      credential: {
        type: "service-principal",
        tenantId: entra.tenantId,
        clientId: demo.app.clientId,
        clientSecret: demo.app.clientSecret ?? "",
      },
      identityOptions: entra.credentialOptions(),
    }),
    bare: () =>
      new ClientSecretCredential(
        entra.tenantId,
        demo.app.clientId,
        demo.app.clientSecret ?? "",
        entra.credentialOptions(),
      ),
  },
];

/** One login through a new mssql pool with `config`, closed again. */
async function loginWith(pool: mssql.ConnectionPool): Promise<void> {
  await pool.connect();
  await pool.close();
}

function contenders(kind: CredentialKind): Contender[] {
  return [
    {
      name: "static token (floor)",
      create() {
        let token: Promise<string> | undefined;
        const source = createTokenSource(kind.preset());
        return {
          async connect() {
            token ??= source.getAccessToken(SQL_SCOPE); // fetched once, never refreshed
            const authentication = {
              type: "azure-active-directory-access-token" as const,
              options: { token: await token },
            };
            await loginWith(new mssql.ConnectionPool({ ...mssqlConfig(standIns), authentication }));
          },
          close: () => source.close(),
        };
      },
    },
    {
      name: "@entra-sql/mssql",
      create() {
        const tokenSource: TokenSource = createTokenSource(kind.preset());
        const sql = createEntraMssql(mssql, { tokenSource, scope: SQL_SCOPE });
        return {
          connect: () => loginWith(new sql.ConnectionPool(mssqlConfig(standIns))),
          close: () => tokenSource.close(),
        };
      },
    },
    {
      name: "tedious + credential",
      create() {
        const credential = kind.bare();
        const authentication = { type: "token-credential" as const, options: { credential } };
        return {
          connect: () => loginWith(new mssql.ConnectionPool({ ...mssqlConfig(standIns), authentication })),
          close() {},
        };
      },
    },
  ];
}

const requests = (kind: CredentialKind) => entra.counters.forEndpoint(kind.endpoint).requests;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function timed(connect: Connect): Promise<number> {
  const started = performance.now();
  await connect();
  return performance.now() - started;
}

async function sequential(kind: CredentialKind, contender: Contender) {
  const { connect, close } = contender.create();
  try {
    await connect(); // warm: first token, JWKS, TLS session, JIT
    const before = requests(kind);
    const times: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) times.push(await timed(connect));
    times.sort((a, b) => a - b);
    return { median: percentile(times, 50), p95: percentile(times, 95), requests: requests(kind) - before };
  } finally {
    close();
  }
}

async function storm(kind: CredentialKind, contender: Contender) {
  const { connect, close } = contender.create();
  try {
    const before = requests(kind);
    const times = await Promise.all(Array.from({ length: STORM }, () => timed(connect)));
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99), requests: requests(kind) - before };
  } finally {
    close();
  }
}

const cell = (text: string, width: number) => text.padStart(width);
const ms = (value: number) => value.toFixed(1);
const ratio = (value: number, ours: number) => (ours > 0 ? `${(value / ours).toFixed(2)}x` : "-");

try {
  for (const kind of kinds) {
    const slowCli = kind.cliLatencyMs
      ? entra.faults.inject({ kind: "latency", ms: kind.cliLatencyMs, endpoint: "cli" })
      : undefined;
    const all = contenders(kind);
    const ours = all[1];
    if (ours === undefined) throw new Error("contenders changed");
    console.log(`\n== ${kind.name}: ${SEQUENTIAL} new connections one after another ==`);
    console.log(
      `${"contender".padEnd(24)}${cell("median ms", 11)}${cell("p95 ms", 9)}${cell("identity requests", 19)}${cell("median vs ours", 16)}`,
    );
    const oursSequential = await sequential(kind, ours);
    for (const contender of all) {
      const r = contender === ours ? oursSequential : await sequential(kind, contender);
      console.log(
        `${contender.name.padEnd(24)}${cell(ms(r.median), 11)}${cell(ms(r.p95), 9)}${cell(String(r.requests), 19)}${cell(ratio(r.median, oursSequential.median), 16)}`,
      );
    }
    console.log(`\n== ${kind.name}: cold storm, ${STORM} concurrent new connections, empty cache ==`);
    console.log(
      `${"contender".padEnd(24)}${cell("p50 ms", 9)}${cell("p99 ms", 9)}${cell("identity requests", 19)}${cell("p99 vs ours", 13)}`,
    );
    const oursStorm = await storm(kind, ours);
    for (const contender of all) {
      const r = contender === ours ? oursStorm : await storm(kind, contender);
      console.log(
        `${contender.name.padEnd(24)}${cell(ms(r.p50), 9)}${cell(ms(r.p99), 9)}${cell(String(r.requests), 19)}${cell(ratio(r.p99, oursStorm.p99), 13)}`,
      );
    }
    await slowCli?.clear();
  }
  console.log(
    "\n(identity requests: token-endpoint requests, or `az` runs for the CLI. The static token is fetched once, at its first use, " +
      "and never refreshed. The fake `az` answers in ~15 ms; the second CLI block adds 600 ms per run, as a real one takes.)",
  );
} finally {
  await standIns.close();
}
