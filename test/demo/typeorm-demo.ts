import type { TokenSourceEvent } from "@entra-sql/core";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import { DataSource } from "typeorm";
// The example app's compiled entities and migration (tsc emits the decorator metadata TypeORM needs).
import { Customer, Order } from "../../examples/typeorm-app/dist/entities.js";
import { Init1700000000000 } from "../../examples/typeorm-app/dist/migrations/1700000000000-init.js";
import { startStandIns } from "../support/stand-ins.js";

// `pnpm demo`: the Django recipe's TOKEN + CONN_MAX_AGE, time-compressed. Starts the local stand-ins,
// runs the TypeORM example's schema and a steady light load through @entra-sql/typeorm with short
// token lifetimes and max age, while the server revalidates open sessions (as Azure SQL does after
// maintenance). Prints a timeline and a summary; exits 1 if an invariant broke.

const SECONDS = Number(process.env.DEMO_SECONDS ?? 30);
const TOKEN_LIFETIME_SECONDS = 20;
const MAX_AGE_MS = 15_000;
const JITTER_RATIO = 0.025;

const started = Date.now();
const stamp = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const say = (line: string) => console.log(`${stamp()}  ${line}`);

const standIns = await startStandIns({
  entra: { settings: { tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS } },
});
const { entra, sql, demo } = standIns;
if (!demo) throw new Error("demo identities missing");
say(`stand-ins up: Entra ID ${entra.authorityHost}, SQL ${sql.host}:${sql.port}`);
say(
  `tokens live ${TOKEN_LIFETIME_SECONDS} s; connections at most ${MAX_AGE_MS / 1000} s (minus up to 2.5% jitter)`,
);

const tokenNumbers = new Map<number, number>(); // token expiry -> token n
const tokenNo = (expiresOn: number | undefined) =>
  expiresOn === undefined ? "?" : String(tokenNumbers.get(expiresOn) ?? "?");
let tokensFetched = 0;
let oldestRetiredAgeMs = 0;
let connectionsOpened = 0;

const options = entraDataSourceOptions({
  tokenSource: {
    credential: {
      type: "service-principal",
      tenantId: entra.tenantId,
      clientId: demo.app.clientId,
      clientSecret: demo.app.clientSecret ?? "",
    },
    identityOptions: entra.credentialOptions(),
  },
  scope: "https://database.windows.net/.default", // a loopback host names no cloud
  maxAgeInMs: MAX_AGE_MS,
  maxAgeJitterRatio: JITTER_RATIO,
  tokenExpiryMarginInMs: 2_000,
  onEvent: (event: EntraMssqlEvent) => {
    if (event.type === "connection-opened") {
      connectionsOpened += 1;
      say(
        `connection opened with token ${tokenNo(event.tokenExpiresOnTimestamp)} (login ${event.durationInMs} ms)`,
      );
    } else if (event.type === "connection-retired") {
      oldestRetiredAgeMs = Math.max(oldestRetiredAgeMs, event.ageInMs);
      say(
        `connection retired at age ${(event.ageInMs / 1000).toFixed(1)} s (${event.reason}, on ${event.at})`,
      );
    } else if (event.type === "statement-retried") {
      say(`statement refused with 37396 (session token expired) ran again on a fresh connection`);
    } else if (event.type === "login-retried") {
      say(`login refused (${event.verdict}); retried with a fresh token`);
    }
  },
  host: sql.host,
  port: sql.port,
  database: sql.database,
  options: sql.tlsOptions(),
  pool: { min: 0, max: 4 },
  entities: [Customer, Order],
  migrations: [Init1700000000000],
  migrationsRun: true,
  synchronize: false,
});
options.driver.tokenSource.on("token-acquired", (event: TokenSourceEvent) => {
  if (event.type !== "token-acquired") return;
  tokensFetched += 1;
  tokenNumbers.set(event.expiresOnTimestamp, tokensFetched);
  say(
    `token ${tokensFetched} fetched from ${event.source} (${event.reason}, ${event.durationInMs} ms), ` +
      `valid for ${((event.expiresOnTimestamp - Date.now()) / 1000).toFixed(0)} s`,
  );
});

const dataSource = new DataSource(options);
let queries = 0;
let failures = 0;
const loginsBefore = sql.logins.length;
try {
  await dataSource.initialize();
  say("TypeORM initialized; migration applied");
  const customers = dataSource.getRepository(Customer);
  await customers.save(customers.create({ name: "Ada", email: "ada@example.test" }));
  const until = Date.now() + SECONDS * 1000;
  let nextRevalidation = Date.now() + 3_000;
  while (Date.now() < until) {
    const results = await Promise.allSettled([
      customers.count(),
      customers.find({ take: 5 }),
      dataSource.transaction(async (manager) => manager.getRepository(Customer).count()),
    ]);
    for (const result of results) {
      queries += 1;
      if (result.status === "rejected") {
        failures += 1;
        say(`QUERY FAILED: ${(result.reason as Error).message}`);
      }
    }
    if (Date.now() >= nextRevalidation) {
      // Azure SQL rechecks the tokens of open sessions after some server events.
      const marked = sql.revalidate();
      say(`server revalidated ${marked} open session(s)`);
      nextRevalidation = Date.now() + 3_000;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
  options.driver.tokenSource.close();
}

const logins = sql.logins.slice(loginsBefore);
const expiredPresented = logins.filter(
  (l) => l.failure === "expired" || (l.tokenExpiresAt !== undefined && l.tokenExpiresAt <= l.at),
).length;
const limitMs = MAX_AGE_MS;
const summary = {
  "queries served": queries - failures,
  "failed queries": failures,
  "tokens fetched": tokensFetched,
  "connections opened": connectionsOpened,
  logins: logins.length,
  "failed logins": logins.filter((l) => !l.ok).length,
  "expired tokens presented": expiredPresented,
  "statements refused with 37396": sql.counters.statementsRejected,
  "oldest connection age seen": `${(oldestRetiredAgeMs / 1000).toFixed(1)} s (limit ${limitMs / 1000} s)`,
};
await standIns.close();

console.log("\nsummary");
for (const [name, value] of Object.entries(summary)) console.log(`  ${name.padEnd(32)} ${value}`);
const broken = [
  failures > 0 && "queries failed",
  expiredPresented > 0 && "an expired token was presented",
  oldestRetiredAgeMs > limitMs + 1_000 && "a connection outlived max age",
  tokensFetched < 2 && "the run did not span a token rotation",
].filter(Boolean);
if (broken.length > 0) {
  console.log(`\nINVARIANTS BROKEN: ${broken.join("; ")}`);
  process.exit(1);
}
console.log("\nall invariants held");
process.exit(0);
