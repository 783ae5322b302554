import type { ClientStats } from "./app-observer.js";
import type { ServerStats } from "./server-ledger.js";

// The verdict, per app: the summary table (one column per app) and the invariants the demo promises.
// The same rules for every app; the runner only prints and sets the exit code.

export interface AppReport {
  app: string;
  client: ClientStats;
  server: ServerStats;
}

export interface Limits {
  maxAgeInMs: number;
  /** Slack for the server's clock reading of an age (login ack to first use, event loop delay). */
  toleranceMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function rows(report: AppReport, limits: Limits): [string, string | number][] {
  const { client, server } = report;
  return [
    ["queries served", client.queries - client.failures],
    ["failed queries", client.failures],
    ["tokens fetched", client.tokensFetched],
    ["connections opened", client.connectionsOpened],
    ["logins", server.logins],
    ["failed logins", server.failedLogins],
    ["expired tokens presented", server.expiredTokensPresented],
    ["statements refused with 37396", server.statementsRefused37396],
    ["statements retried after 37396", client.statementsRetried],
    ["statements past their token", server.statementsPastToken],
    [
      `oldest connection age seen (limit ${limits.maxAgeInMs / 1000} s)`,
      seconds(server.oldestStatementAgeMs),
    ],
  ];
}

/** What broke for this app; empty when every invariant held. */
export function brokenInvariants(report: AppReport, limits: Limits): string[] {
  const { client, server } = report;
  const broken: string[] = [];
  if (client.queries === client.failures) broken.push("no query was served");
  if (client.failures > 0) broken.push(`${client.failures} queries failed`);
  if (server.expiredTokensPresented > 0)
    broken.push(`${server.expiredTokensPresented} expired tokens presented`);
  if (server.statementsPastToken > 0) {
    broken.push(`${server.statementsPastToken} statements ran on a session past its token`);
  }
  if (server.oldestStatementAgeMs > limits.maxAgeInMs + limits.toleranceMs) {
    broken.push(`a connection ran a statement at age ${seconds(server.oldestStatementAgeMs)}, past max age`);
  }
  if (client.tokensFetched < 2) broken.push("the run did not span a token rotation");
  // The demo injects one 37396 per app (forced-reauthentication.ts): the server must have refused a
  // statement with it, and the app must have run one again (and, above, failed none).
  if (server.statementsRefused37396 < 1) broken.push("no statement was refused with 37396");
  if (client.statementsRetried < 1) broken.push("no statement was retried after 37396");
  return broken;
}

/** Prints the table, one column per app. */
export function printSummary(reports: readonly AppReport[], limits: Limits): void {
  const table = reports.map((report) => rows(report, limits));
  const labels = table[0]?.map(([label]) => label) ?? [];
  const labelWidth = Math.max(...labels.map((label) => label.length)) + 2;
  const columnWidth = 12;
  const header = `summary${" ".repeat(labelWidth - 5)}${reports.map((r) => r.app.padEnd(columnWidth)).join("")}`;
  console.log(`\n${header.trimEnd()}`);
  labels.forEach((label, i) => {
    const values = table.map((appRows) => String(appRows[i]?.[1]).padEnd(columnWidth)).join("");
    console.log(`  ${label.padEnd(labelWidth)}${values}`.trimEnd());
  });
}
