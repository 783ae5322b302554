import type { ClientStats } from "../demo/app-observer.js";
import type { ServerDetails, ServerStats } from "../demo/server-ledger.js";
import type { AcquireAges } from "./acquire-ages.js";
import type { IdpRecords } from "./fault-evidence.js";
import type { FaultKind } from "./fault-schedule.js";
import type { AppLoadRecords } from "./soak-load.js";

// The soak's verdict: one table with a column per app, from the server's and the IdP's records (the
// app's own counters only where the server cannot know: its retries and why it retired a connection),
// the faults with their evidence, the process at the start and the end, and the invariants that set
// the exit code. Tables are Markdown, so a run's output can go into the README as it is.

export interface SoakAppReport {
  app: string;
  server: ServerStats;
  details: ServerDetails;
  client: ClientStats;
  load: AppLoadRecords;
  idp: IdpRecords;
  acquire: AcquireAges;
}

export interface ProcessSample {
  /** TCP sockets and handles the process holds (`process.getActiveResourcesInfo()`). */
  sockets: number;
  /** Heap used, bytes, after a full GC when one could be forced. */
  heapUsed: number;
  /**
   * How late the event loop ran its timers during the load (perf_hooks), at the end only: apps, stand-ins
   * and the SQL engine share one process, so a stall here delays every statement on its way to the server.
   */
  eventLoopDelay?: { p99Ms: number; maxMs: number };
}

/** The process read (after a full GC) as the load starts, halfway, as it ends, and once the apps closed. */
export interface ProcessSamples {
  start: ProcessSample;
  middle: ProcessSample;
  loadEnd: ProcessSample;
  end: ProcessSample;
}

export interface SoakLimits {
  maxAgeInMs: number;
  toleranceMs: number;
  /** How much the heap may grow from the start of the load to the end (ORM caches fill), bytes. */
  heapGrowthBytes: number;
  /**
   * How much it may grow over the second half of the load, bytes: by then caches are full, so what
   * grows with the logins and statements still to come is a leak.
   */
  heapGrowthSecondHalfBytes: number;
}

export interface FaultTally {
  kind: FaultKind;
  scheduled: number;
  evidence: number;
  describe: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key} ${n}`)
    .join(", ") || "0";
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function failures(load: AppLoadRecords, avoidable: boolean): string {
  const parts = [...load.failures]
    .filter(([, f]) => f.avoidable === avoidable)
    .map(([cause, f]) => `${cause}: ${f.count}`);
  return parts.length === 0 ? "0" : parts.join("; ");
}

function rows(r: SoakAppReport, limits: SoakLimits): [string, string | number][] {
  const failed = [...r.load.failures.values()].reduce((n, f) => n + f.count, 0);
  return [
    ["statements sent (server)", r.details.statementsSent],
    ["statements failed at the server, by error", counts(r.details.statementsFailedByError)],
    ["queries run by the app / failed", `${r.load.queries} / ${failed}`],
    ["failed, unavoidable (why)", failures(r.load, false)],
    ["failed, AVOIDABLE (why)", failures(r.load, true)],
    ["logins (server)", r.server.logins],
    ["refused logins by reason (server)", counts(r.details.loginsRefusedByReason)],
    ["expired tokens presented (server)", r.server.expiredTokensPresented],
    ["tokens minted per source (IdP)", counts(r.idp.tokensMinted)],
    ["IdP requests / answers faulted", `${r.idp.requests} / ${sum(r.idp.faulted)}`],
    [
      "statements refused 37396 (server) / retried (app)",
      `${r.server.statementsRefused37396} / ${r.client.statementsRetried}`,
    ],
    ["connections opened (server logins ok)", r.server.logins - r.server.failedLogins],
    ["sessions closed by reason (server)", counts(r.details.sessionsClosedByReason)],
    ["connections retired by reason (adapter)", counts(r.load.retiredByReason)],
    [
      `oldest connection age when taken (limit ${seconds(limits.maxAgeInMs)} + ${seconds(limits.toleranceMs)})`,
      `${seconds(r.acquire.oldestAgeMs)} (its login took ${seconds(r.acquire.oldestLoginMs)})`,
    ],
    ["oldest connection age at any statement", seconds(r.server.oldestStatementAgeMs)],
    ["statements past their token when taken", r.acquire.statementsPastToken],
    ["statements past their token, any (in a transaction)", r.server.statementsPastToken],
    ["sessions open at the end (server)", r.details.openSessions],
    [
      "query latency p50 / p99",
      `${percentile(r.load.latenciesMs, 50)} / ${percentile(r.load.latenciesMs, 99)} ms`,
    ],
  ];
}

function markdownTable(header: readonly string[], body: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

export function formatReport(
  reports: readonly SoakAppReport[],
  faults: readonly FaultTally[],
  process: ProcessSamples,
  limits: SoakLimits,
): string {
  const { start, middle, loadEnd, end } = process;
  const table = reports.map((r) => rows(r, limits));
  const labels = table[0]?.map(([label]) => label) ?? [];
  const perApp = markdownTable(
    ["", ...reports.map((r) => r.app)],
    labels.map((label, i) => [label, ...table.map((appRows) => appRows[i]?.[1] ?? "")]),
  );
  const faultTable = markdownTable(
    ["fault", "scheduled", "seen in the records", "of"],
    faults.map((f) => [f.kind, f.scheduled, f.evidence, f.describe]),
  );
  const samples = [start, middle, loadEnd, end];
  const processTable = markdownTable(
    ["process", "start of load", "halfway", "end of load", "apps closed"],
    [
      ["TCP sockets and handles", ...samples.map((sample) => sample.sockets)],
      ["heap used (after GC)", ...samples.map((sample) => megabytes(sample.heapUsed))],
      ...(end.eventLoopDelay === undefined
        ? []
        : [
            [
              "event loop delay over the load, p99 / max",
              "",
              "",
              "",
              `${end.eventLoopDelay.p99Ms.toFixed(0)} / ${end.eventLoopDelay.maxMs.toFixed(0)} ms`,
            ],
          ]),
    ],
  );
  const oldest = reports
    .map((r) => `- ${r.app}: ${seconds(r.acquire.oldestAgeMs)} at ${r.acquire.oldestStatement}`)
    .join("\n");
  return `${perApp}\n\nThe oldest connection when taken, per app (its first statement, and what the session ran before):\n${oldest}\n\n${faultTable}\n\n${processTable}`;
}

/** Every broken invariant, tagged; empty when the run passed. */
export function brokenSoakInvariants(
  reports: readonly SoakAppReport[],
  faults: readonly FaultTally[],
  process: ProcessSamples,
  limits: SoakLimits,
): string[] {
  const { start, middle, loadEnd, end } = process;
  const broken: string[] = [];
  for (const r of reports) {
    const say = (what: string) => broken.push(`[${r.app}] ${what}`);
    const failed = [...r.load.failures.values()].reduce((n, f) => n + f.count, 0);
    if (r.load.queries === failed) say("no query was served");
    if (r.load.avoidableFailures > 0)
      say(`${r.load.avoidableFailures} avoidable failures: ${failures(r.load, true)}`);
    if (r.server.expiredTokensPresented > 0)
      say(`${r.server.expiredTokensPresented} expired tokens presented`);
    // Checked where the policy acts, when a connection is taken (acquire-ages.ts); a transaction then
    // keeps its connection, on a shared engine under slow SQL for seconds: the "any" rows show it.
    if (r.acquire.statementsPastToken > 0)
      say(`${r.acquire.statementsPastToken} connections were taken past their token`);
    if (r.acquire.oldestAgeMs > limits.maxAgeInMs + limits.toleranceMs)
      say(`a connection was taken at age ${seconds(r.acquire.oldestAgeMs)}, past max age`);
    if (r.details.openSessions !== 0) say(`${r.details.openSessions} sessions still open after closing`);
  }
  for (const f of faults) {
    if (f.scheduled > 0 && f.evidence === 0)
      broken.push(`[faults] ${f.kind} was injected but the records never show it`);
  }
  if (end.sockets > start.sockets)
    broken.push(`[process] ${end.sockets} sockets and handles at the end, ${start.sockets} at the start`);
  if (end.heapUsed - start.heapUsed > limits.heapGrowthBytes)
    broken.push(
      `[process] heap grew by ${megabytes(end.heapUsed - start.heapUsed)} (limit ${megabytes(limits.heapGrowthBytes)})`,
    );
  if (loadEnd.heapUsed - middle.heapUsed > limits.heapGrowthSecondHalfBytes)
    broken.push(
      `[process] heap grew by ${megabytes(loadEnd.heapUsed - middle.heapUsed)} over the second half of the load (limit ${megabytes(limits.heapGrowthSecondHalfBytes)})`,
    );
  return broken;
}
