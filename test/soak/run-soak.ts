import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CREDENTIAL_KINDS, registerDemoApp } from "../demo/demo-identity.js";
import { createServerLedger } from "../demo/server-ledger.js";
import { createTimeline } from "../demo/timeline.js";
import type { DemoSettings, StartedWorkload } from "../demo/workload.js";
import { WORKLOADS } from "../demo/workloads.js";
import { startStandIns } from "../support/stand-ins.js";
import { createAcquireAgeTracker } from "./acquire-ages.js";
import { createFaultEvidence } from "./fault-evidence.js";
import { type InjectedApp, playSchedule } from "./fault-injectors.js";
import { computeSchedule, FAULT_KINDS, MAX_SLOW_SQL_MS, newSeed } from "./fault-schedule.js";
import {
  brokenSoakInvariants,
  type FaultTally,
  formatReport,
  type ProcessSample,
  type SoakAppReport,
  type SoakLimits,
} from "./report.js";
import { createSoakApp, runTimedLoad } from "./soak-load.js";

// `pnpm soak [--minutes N | --seconds N] [--adapters typeorm,knex,...] [--seed S]`: every adapter's demo
// workload (test/demo) at once against ONE pair of stand-ins with short tokens and a short max age,
// while a seeded fault schedule (fault-schedule.ts) injects IdP and SQL faults in random order and
// overlapping. Prints the seed first (replay: `--seed S`), a line per fault, then one table per run
// from the server's and the IdP's records (report.ts); exits 1 when an invariant broke. Loopback only;
// bounded by the run's length and the schedule's count. See README.md beside this file.

const TOKEN_LIFETIME_SECONDS = 10;
/**
 * Round trips a connection may make between the kit's first acquire check and the statement it was
 * taken for: the driver's validation (mssql's and Kysely's `SELECT 1`), the statement, one spare.
 */
const ACQUIRE_ROUND_TRIPS = 3;
/** The most round trips a workload's transaction makes on a connection it took. */
const TRANSACTION_ROUND_TRIPS = 5;
const SETTINGS: DemoSettings = {
  maxAgeInMs: 4_000,
  maxAgeJitterRatio: 0.025,
  // The kit checks a connection's retire time when the pool hands it out; what it was acquired for
  // still runs, so the margin must outlast that (DESIGN.md; the kit's 60 s default): here up to those
  // round trips at the slowest injected SQL latency, on one SQL engine shared by five apps.
  tokenExpiryMarginInMs: 600 + (ACQUIRE_ROUND_TRIPS + TRANSACTION_ROUND_TRIPS) * MAX_SLOW_SQL_MS,
  scope: "https://database.windows.net/.default",
};
/** What the age check allows for the event loop that apps, stand-ins and the SQL engine share, ms. */
const EVENT_LOOP_ALLOWANCE_MS = 1_000;
const LIMITS: SoakLimits = {
  maxAgeInMs: SETTINGS.maxAgeInMs,
  // The age of a connection when taken (acquire-ages.ts), from its LOGIN7, which is later than the kit's
  // birth stamp (the start of its connect): the kit's last check runs after any validation round trip,
  // so what remains is the statement's own trip to the server at the slowest injected SQL latency, plus
  // the demo's 1 s for the event loop that apps, stand-ins and the SQL engine share.
  toleranceMs: EVENT_LOOP_ALLOWANCE_MS + MAX_SLOW_SQL_MS,
  heapGrowthBytes: 48 * 2 ** 20,
  heapGrowthSecondHalfBytes: 16 * 2 ** 20,
};
/** The heap is first read this far into the load, once every ORM has run its queries (and filled its caches). */
const WARM_UP_MS = 1_500;
/** Longest a query may still be running when the load stops (a Prisma transaction waits up to 15 s). */
const DRAIN_TIMEOUT_MS = 60_000;

const USAGE =
  "tsx test/soak/run-soak.ts [--minutes N | --seconds N] [--adapters typeorm,knex,prisma,sequelize,kysely] [--seed S]";
const { values: args } = parseArgs({
  options: {
    minutes: { type: "string" },
    seconds: { type: "string" },
    adapters: { type: "string" },
    seed: { type: "string" },
  },
});
const durationMs =
  args.seconds !== undefined ? Number(args.seconds) * 1000 : Number(args.minutes ?? 3) * 60_000;
const seed = args.seed === undefined ? newSeed() : Number(args.seed);
const names = args.adapters?.split(",").filter((name) => name !== "") ?? WORKLOADS.map((w) => w.name);
const problem = names.find((name) => !WORKLOADS.some((w) => w.name === name))
  ? `unknown adapter in "${args.adapters}"`
  : !(durationMs >= 20_000)
    ? "the run must last at least 20 s (room for an IdP outage longer than a token's life)"
    : !Number.isInteger(seed) || seed < 0
      ? `the seed must be a whole number >= 0, got "${args.seed}"`
      : undefined;
if (problem) {
  console.error(`run-soak.ts: ${problem}. Usage: ${USAGE}`);
  process.exit(2);
}
const workloads = WORKLOADS.filter((w) => names.includes(w.name));
const length = args.seconds !== undefined ? `--seconds ${args.seconds}` : `--minutes ${args.minutes ?? 3}`;
const replay = `pnpm soak ${length} --adapters ${names.join(",")} --seed ${seed}`;
console.log(`soak seed ${seed} (replay: ${replay})`);

// A full GC before each heap reading, so that growth means memory still held, not garbage.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const sample = (): ProcessSample => {
  gc();
  return {
    sockets: process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TLSWrap").length,
    heapUsed: process.memoryUsage().heapUsed,
  };
};

const timeline = createTimeline(["soak", ...workloads.map((w) => w.name)]);
const say = timeline.for("soak");
const ledger = createServerLedger();
let evidence: ReturnType<typeof createFaultEvidence> | undefined;
let acquireAges: ReturnType<typeof createAcquireAgeTracker> | undefined;
const standIns = await startStandIns({
  entra: {
    settings: { tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS },
    onEvent: (event) => evidence?.onEntraEvent(event),
  },
  sql: {
    // The server's records are read as events (ledger, evidence, ages): keeping few keeps the heap flat.
    recordsKept: 100,
    onEvent: (event) => {
      ledger.onEvent(event);
      evidence?.onSqlEvent(event);
      acquireAges?.onEvent(event);
    },
  },
});
const { sql } = standIns;
evidence = createFaultEvidence(sql, TOKEN_LIFETIME_SECONDS * 1000);
acquireAges = createAcquireAgeTracker(sql);
const engineStarted = Date.now();
await sql.engine();
say(`stand-ins up; SQL engine ready in ${((Date.now() - engineStarted) / 1000).toFixed(1)} s`);
say(
  `tokens live ${TOKEN_LIFETIME_SECONDS} s; connections at most ${SETTINGS.maxAgeInMs / 1000} s; ` +
    `load for ${(durationMs / 1000).toFixed(0)} s: ${names.join(", ")}`,
);

const apps = await Promise.all(
  workloads.map(async (workload, i) => {
    // One service principal per app, so the server's records tell them apart and a revocation hits one;
    // the apps take turns with the kinds of credential (a secret, a certificate, workload identity).
    const kind = CREDENTIAL_KINDS[i % CREDENTIAL_KINDS.length];
    const validForSeconds = Math.ceil(durationMs / 1000) + 3_600;
    const { registered, identity } = await registerDemoApp(
      standIns,
      `entra-sql-soak-${workload.name}`,
      kind,
      validForSeconds,
    );
    sql.createUser({ name: registered.displayName });
    ledger.track(workload.name, registered.clientId);
    const injected: InjectedApp = {
      name: workload.name,
      objectId: registered.objectId,
      clientId: registered.clientId,
    };
    return { workload, injected, identity, soak: createSoakApp(workload.name) };
  }),
);

let exitCode = 1;
const started = await Promise.allSettled(
  apps.map(({ workload, identity, soak }) =>
    workload.start({ standIns, identity, settings: SETTINGS, observer: soak.observer }),
  ),
);
let closing: Promise<unknown> | undefined;
const closeApps = () => {
  closing ??= Promise.allSettled(
    started.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)),
  );
  return closing;
};
const player = { stop: async () => {} };
try {
  const running: StartedWorkload[] = [];
  started.forEach((result, i) => {
    if (result.status === "fulfilled") running.push(result.value);
    else timeline.for(apps[i]?.workload.name ?? "soak")(`SETUP FAILED: ${(result.reason as Error).message}`);
  });
  if (running.length < apps.length) throw new Error("an app could not be set up");

  const schedule = computeSchedule({
    seed,
    durationMs,
    tokenLifetimeMs: TOKEN_LIFETIME_SECONDS * 1000,
    apps: names,
  });
  say(`${schedule.length} faults scheduled`);
  const faults = playSchedule(
    schedule,
    standIns,
    apps.map((a) => a.injected),
    say,
  );
  player.stop = faults.stop;
  const until = Date.now() + durationMs;
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  let atStart: ProcessSample = sample();
  let atMiddle: ProcessSample | undefined;
  setTimeout(() => {
    atStart = sample();
  }, WARM_UP_MS);
  setTimeout(() => {
    atMiddle = sample();
  }, durationMs / 2);
  const loads = Promise.all(
    apps.map(({ soak }, i) =>
      runTimedLoad(
        soak,
        running[i] as StartedWorkload,
        faults.windows,
        () => Date.now() >= until,
        ({ cause }, error) => timeline.for(soak.name)(`AVOIDABLE FAILURE (${cause}): ${String(error)}`),
      ),
    ),
  );
  const drained = await Promise.race([
    loads.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), durationMs + DRAIN_TIMEOUT_MS).unref()),
  ]);
  loopDelay.disable();
  const atLoadEnd = sample();
  await faults.stop();
  if (!drained) say("some queries were still running a minute after the load stopped");
  await closeApps();
  // The server hears the clients' goodbyes a moment later.
  for (let i = 0; i < 50 && sql.sessions.length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const atEnd: ProcessSample = {
    ...sample(),
    eventLoopDelay: { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 },
  };

  const reports: SoakAppReport[] = apps.map(({ workload, injected, soak }) => ({
    app: workload.name,
    server: ledger.stats(workload.name),
    details: ledger.details(workload.name),
    client: soak.observer.stats,
    load: soak.records,
    idp: (evidence as NonNullable<typeof evidence>).idp(injected.clientId),
    acquire: (acquireAges as NonNullable<typeof acquireAges>).of(injected.clientId),
  }));
  const tallies: FaultTally[] = FAULT_KINDS.map((kind) => ({
    kind,
    scheduled: schedule.filter((f) => f.kind === kind).length,
    evidence: evidence?.count(kind) ?? 0,
    describe: evidence?.describe(kind) ?? "",
  }));
  const samples = { start: atStart, middle: atMiddle ?? atStart, loadEnd: atLoadEnd, end: atEnd };
  // A stall of the one event loop longer than the 1 s allowed delays a statement on its way to the server
  // by as much, whatever the adapter did: the age limit takes the excess (the table shows the limit used).
  const stallMs = Math.max(0, Math.round(loopDelay.max / 1e6) - EVENT_LOOP_ALLOWANCE_MS);
  const limits = { ...LIMITS, toleranceMs: LIMITS.toleranceMs + stallMs };
  console.log(`\n${formatReport(reports, tallies, samples, limits)}`);
  const broken = brokenSoakInvariants(reports, tallies, samples, limits);
  if (!drained) broken.push("[soak] the load did not stop within a minute of the end");
  // Logins refused server-wide (refuseLogins) are refused before the token is read: no principal.
  const unattributed = ledger.unattributedLogins - (evidence?.count("logins-refused-18456") ?? 0);
  if (unattributed > 0) broken.push(`[server] ${unattributed} logins by no soak app`);
  if (sql.sessions.length > 0) broken.push(`[server] ${sql.sessions.length} sessions open after closing`);
  if (broken.length > 0) {
    console.log(`\nINVARIANTS BROKEN (seed ${seed}; replay: ${replay}):\n  ${broken.join("\n  ")}`);
  } else {
    console.log(`\nall invariants held (seed ${seed}; ${names.join(", ")})`);
    exitCode = 0;
  }
} catch (error) {
  console.log(
    `\nSOAK FAILED (seed ${seed}): ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
  );
} finally {
  await player.stop();
  await closeApps();
  await standIns.close();
}
process.exit(exitCode);
