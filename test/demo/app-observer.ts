import type { TokenSourceEvent } from "@entra-sql/core";
import type { EntraKnexEvent } from "@entra-sql/knex";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import type { Say } from "./timeline.js";

// What one app saw from the client side: its token source's fetches and its adapter's events (both
// adapters report connection-opened / -retired, statement-retried and login-retried alike), printed
// on the timeline and counted, plus the outcome of every query the load loop ran.

export interface ClientStats {
  queries: number;
  failures: number;
  tokensFetched: number;
  connectionsOpened: number;
  connectionsRetired: number;
  statementsRetried: number;
  oldestRetiredAgeMs: number;
}

export interface AppObserver {
  readonly stats: ClientStats;
  readonly say: Say;
  /** The adapter's `onEvent`. */
  onEvent(event: EntraMssqlEvent | EntraKnexEvent): void;
  /** The token source's "token-acquired" listener. */
  onTokenAcquired(event: TokenSourceEvent): void;
  /** Counts settled queries; prints each failure. */
  recordQueries(results: readonly PromiseSettledResult<unknown>[]): void;
}

export function createAppObserver(say: Say): AppObserver {
  const stats: ClientStats = {
    queries: 0,
    failures: 0,
    tokensFetched: 0,
    connectionsOpened: 0,
    connectionsRetired: 0,
    statementsRetried: 0,
    oldestRetiredAgeMs: 0,
  };
  const tokenExpiries: number[] = []; // token n expires at tokenExpiries[n - 1]
  // The adapters report the expiry they bound the connection by: the credential's, or the token's own
  // `exp` claim (whole seconds) when that is earlier; so the nearest token within 1.5 s is the one.
  const tokenNo = (expiresOn: number | undefined) => {
    if (expiresOn === undefined) return "?";
    let best = -1;
    tokenExpiries.forEach((expiry, i) => {
      const distance = Math.abs(expiry - expiresOn);
      if (distance <= 1_500 && (best < 0 || distance < Math.abs((tokenExpiries[best] ?? 0) - expiresOn)))
        best = i;
    });
    return best < 0 ? "?" : String(best + 1);
  };

  return {
    stats,
    say,
    onEvent(event) {
      if (event.type === "connection-opened") {
        stats.connectionsOpened += 1;
        say(
          `connection opened with token ${tokenNo(event.tokenExpiresOnTimestamp)} (login ${event.durationInMs} ms)`,
        );
      } else if (event.type === "connection-retired") {
        stats.connectionsRetired += 1;
        stats.oldestRetiredAgeMs = Math.max(stats.oldestRetiredAgeMs, event.ageInMs);
        say(
          `connection retired at age ${(event.ageInMs / 1000).toFixed(1)} s (${event.reason}, on ${event.at})`,
        );
      } else if (event.type === "statement-retried") {
        stats.statementsRetried += 1;
        say("statement refused with 37396 (session token expired) ran again on a fresh connection");
      } else if (event.type === "login-retried") {
        say(`login refused (${event.verdict}); retried with a fresh token`);
      }
    },
    onTokenAcquired(event) {
      if (event.type !== "token-acquired") return;
      stats.tokensFetched += 1;
      tokenExpiries.push(event.expiresOnTimestamp);
      say(
        `token ${stats.tokensFetched} fetched from ${event.source} (${event.reason}, ${event.durationInMs} ms), ` +
          `valid for ${((event.expiresOnTimestamp - Date.now()) / 1000).toFixed(0)} s`,
      );
    },
    recordQueries(results) {
      for (const result of results) {
        stats.queries += 1;
        if (result.status === "rejected") {
          stats.failures += 1;
          say(`QUERY FAILED: ${(result.reason as Error).message}`);
        }
      }
    },
  };
}
