import { startStandIns } from "../support/stand-ins.js";
import type { StandInEventHandler } from "../support/tds/index.js";
import { createAppObserver } from "./app-observer.js";
import { runDemoOnAzure } from "./azure-demo.js";
import { registerDemoApp } from "./demo-identity.js";
import { createForcedReauthentication } from "./forced-reauthentication.js";
import { createServerLedger } from "./server-ledger.js";
import { type AppReport, brokenInvariants, printSummary } from "./summary.js";
import { createTimeline } from "./timeline.js";
import { type DemoSettings, runLoad, type StartedWorkload } from "./workload.js";
import { WORKLOADS } from "./workloads.js";

// `pnpm demo` (and `npm run demo`): the Django recipe's TOKEN + CONN_MAX_AGE, time-compressed, for
// TypeORM, Knex, Prisma, Sequelize and Kysely side by side. Starts the local stand-ins once, sets each
// example app's schema up, runs a steady light load through the five adapters at the same time with
// short token lifetimes and max age while the server revalidates open sessions (as Azure SQL does after
// maintenance), and around the middle of the run makes one idle session of each app log in again, so
// that each app meets one 37396 and recovers (forced-reauthentication.ts). Prints one timeline tagged
// per app and a summary with a column per app; exits 1 if an invariant broke.
// `tsx test/demo/run-demo.ts [--adapters typeorm,knex,...]` (or the names as arguments) runs only the
// named apps; DEMO_SECONDS sets the length.
// With AZURE_SQL_SERVER set, the example apps run against that database instead (azure-demo.ts).

const SECONDS = Number(process.env.DEMO_SECONDS ?? 30);
const TOKEN_LIFETIME_SECONDS = 20;
const REVALIDATE_EVERY_MS = 3_000;
/** How long the injected 37396 may take (a session to mark, the refusal, the retry); the load waits for it. */
const FORCED_REAUTHENTICATION_TIMEOUT_MS = 20_000;
const SETTINGS: DemoSettings = {
  maxAgeInMs: 10_000,
  maxAgeJitterRatio: 0.025,
  tokenExpiryMarginInMs: 2_000,
  scope: "https://database.windows.net/.default",
};
const LIMITS = { maxAgeInMs: SETTINGS.maxAgeInMs, toleranceMs: 1_000 };

const USAGE = `DEMO_SECONDS=30 tsx test/demo/run-demo.ts [--adapters ${WORKLOADS.map((w) => w.name).join(",")}]`;
const names = requestedApps(process.argv.slice(2));
const unknown = names.filter((name) => !WORKLOADS.some((w) => w.name === name));
const problem =
  unknown.length > 0
    ? `unknown app ${unknown.join(", ")}`
    : SECONDS > 0
      ? undefined
      : "DEMO_SECONDS must be > 0";
if (problem) {
  console.error(`run-demo.ts: ${problem}. Usage: ${USAGE}`);
  process.exit(2);
}
const workloads = names.length === 0 ? WORKLOADS : WORKLOADS.filter((w) => names.includes(w.name));
if (process.env.AZURE_SQL_SERVER) {
  process.exit(
    await runDemoOnAzure(
      workloads.map((w) => w.name),
      SECONDS,
    ),
  );
}

const timeline = createTimeline(["server", ...workloads.map((w) => w.name)]);
const server = timeline.for("server");
const ledger = createServerLedger();
const observers: StandInEventHandler[] = [ledger.onEvent];
const standIns = await startStandIns({
  entra: { settings: { tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS } },
  sql: {
    onEvent: (event) => {
      for (const observe of observers) observe(event);
    },
  },
});
const { entra, sql } = standIns;
const forcedReauthentication = createForcedReauthentication(sql, server);
observers.push(forcedReauthentication.onEvent);
server(`stand-ins up: Entra ID ${entra.authorityHost}, SQL ${sql.host}:${sql.port}`);
server(
  `tokens live ${TOKEN_LIFETIME_SECONDS} s; connections at most ${SETTINGS.maxAgeInMs / 1000} s ` +
    `(minus up to ${SETTINGS.maxAgeJitterRatio * 100}% jitter); sessions revalidated every ${REVALIDATE_EVERY_MS / 1000} s`,
);

// The engine behind the SQL stand-in (Postgres in WebAssembly) takes seconds to start on a busy machine,
// which Azure SQL does not: started before the apps, it cannot hold their first connections past max age.
const engineStarted = Date.now();
await sql.engine();
server(`SQL engine ready in ${((Date.now() - engineStarted) / 1000).toFixed(1)} s`);

const apps = await Promise.all(
  workloads.map(async (workload) => {
    // One service principal per app, created as a database user, so the server's records tell them apart.
    const displayName = `entra-sql-demo-${workload.name}`;
    const { registered, identity } = await registerDemoApp(standIns, displayName);
    sql.createUser({ name: displayName });
    ledger.track(workload.name, registered.clientId);
    const observer = createAppObserver(timeline.for(workload.name));
    return { workload, observer, identity, clientId: registered.clientId };
  }),
);

let exitCode = 1;
let revalidation: NodeJS.Timeout | undefined;
const started = await Promise.allSettled(
  apps.map(({ workload, observer, identity }) =>
    workload.start({ standIns, identity, settings: SETTINGS, observer }),
  ),
);
let closing: Promise<unknown> | undefined;
const closeApps = () => {
  clearInterval(revalidation);
  closing ??= Promise.allSettled(
    started.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)),
  );
  return closing;
};
try {
  const running: StartedWorkload[] = [];
  started.forEach((result, i) => {
    if (result.status === "fulfilled") running.push(result.value);
    else apps[i]?.observer.say(`SETUP FAILED: ${(result.reason as Error).message}`);
  });
  if (running.length < apps.length) throw new Error("an app could not be set up");

  server(`load: ${workloads.map((w) => w.name).join(", ")} for ${SECONDS} s`);
  revalidation = setInterval(() => {
    server(`revalidated ${sql.revalidate()} open session(s)`);
  }, REVALIDATE_EVERY_MS);
  const until = Date.now() + SECONDS * 1000;
  // Around the middle of the run, one 37396 per app. Each app's load runs to the end of the run and on
  // until its injection is over (refused and run again, or given up), so that a slow run cannot end
  // before the event it waits for.
  const injected = apps.map(() => false);
  const middle = new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 2));
  apps.forEach(({ workload, observer, clientId }, i) => {
    void middle
      .then(() =>
        forcedReauthentication.inject({
          app: workload.name,
          appId: clientId,
          refused: () => ledger.stats(workload.name).statementsRefused37396,
          retried: () => observer.stats.statementsRetried,
          timeoutMs: FORCED_REAUTHENTICATION_TIMEOUT_MS,
        }),
      )
      .then(
        (problem) => problem && server(`${workload.name}: the injected 37396 did not happen: ${problem}`),
        (error: unknown) => server(`${workload.name}: injecting 37396 failed: ${String(error)}`),
      )
      .finally(() => {
        injected[i] = true;
      });
  });
  await Promise.all(
    apps.map(({ observer }, i) =>
      runLoad(running[i] as StartedWorkload, observer, () => Date.now() >= until && injected[i] === true),
    ),
  );
  await closeApps(); // before the summary: retirements while closing land on the timeline, above it

  const reports: AppReport[] = apps.map(({ workload, observer }) => ({
    app: workload.name,
    client: observer.stats,
    server: ledger.stats(workload.name),
  }));
  printSummary(reports, LIMITS);
  const broken = reports.flatMap((report) =>
    brokenInvariants(report, LIMITS).map((what) => `[${report.app}] ${what}`),
  );
  if (ledger.unattributedLogins > 0)
    broken.push(`[server] ${ledger.unattributedLogins} logins by no demo app`);
  if (broken.length > 0) {
    console.log(`\nINVARIANTS BROKEN:\n  ${broken.join("\n  ")}`);
  } else {
    console.log(`\nall invariants held (${workloads.map((w) => w.name).join(", ")})`);
    exitCode = 0;
  }
} catch (error) {
  console.log(`\nDEMO FAILED: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
} finally {
  await closeApps();
  await standIns.close();
}
process.exit(exitCode);

/** The apps named by `--adapters a,b`, `--adapters=a,b` or as plain arguments; none named means all. */
function requestedApps(args: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const list =
      arg === "--adapters"
        ? (args[++i] ?? "(no list after --adapters)")
        : arg.startsWith("--adapters=")
          ? arg.slice(11)
          : arg;
    names.push(...list.split(",").filter((name) => name !== ""));
  }
  return names;
}
