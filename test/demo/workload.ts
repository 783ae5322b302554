import type { StandIns } from "../support/stand-ins.js";
import type { AppObserver } from "./app-observer.js";
import type { DemoIdentity } from "./demo-identity.js";

// The contract between the demo runner and each app's workload (typeorm-demo.ts, knex-demo.ts): a
// workload sets its app up against the stand-ins (schema, data) and then offers rounds of queries; the
// runner drives every workload's rounds concurrently and owns the clock, the server and the verdict.

/** The time-compressed settings every app gets (the Django recipe's CONN_MAX_AGE, in seconds). */
export interface DemoSettings {
  maxAgeInMs: number;
  maxAgeJitterRatio: number;
  tokenExpiryMarginInMs: number;
  /** A loopback host names no cloud: the SQL scope, given explicitly ("inline" token mode). */
  scope: string;
}

export interface WorkloadContext {
  standIns: StandIns;
  identity: DemoIdentity;
  settings: DemoSettings;
  observer: AppObserver;
}

export interface StartedWorkload {
  /** One round of concurrent queries (a read, a join or page, a transaction). */
  round(): Promise<unknown>[];
  /** Closes the app's pool and its token source. */
  close(): Promise<void>;
}

export interface Workload {
  name: string;
  start(context: WorkloadContext): Promise<StartedWorkload>;
}

/** Runs rounds until `done()` with a short pause between them; the observer counts every query. */
export async function runLoad(
  workload: StartedWorkload,
  observer: AppObserver,
  done: () => boolean,
  pauseMs = 150,
): Promise<void> {
  while (!done()) {
    observer.recordQueries(await Promise.allSettled(workload.round()));
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
