import { type AppObserver, createAppObserver } from "../demo/app-observer.js";
import type { StartedWorkload } from "../demo/workload.js";
import { type Classification, classify } from "./classification.js";
import type { FaultWindow } from "./fault-injectors.js";

// One app under the soak: the demo's observer (its counters, not its timeline: a soak would print
// thousands of lines), the adapter's retirements by reason, and the outcome and latency of every query
// its load loop ran, each failure classified (classification.ts) as it happens.

export interface AppLoadRecords {
  queries: number;
  /** Latency of every query, failed ones too, ms. */
  latenciesMs: number[];
  failures: Map<string, { avoidable: boolean; count: number; example: string }>;
  avoidableFailures: number;
  /** The adapter's connection-retired events, by reason. */
  retiredByReason: Record<string, number>;
}

export interface SoakApp {
  name: string;
  observer: AppObserver;
  records: AppLoadRecords;
}

export function createSoakApp(name: string): SoakApp {
  const records: AppLoadRecords = {
    queries: 0,
    latenciesMs: [],
    failures: new Map(),
    avoidableFailures: 0,
    retiredByReason: {},
  };
  const demoObserver = createAppObserver(() => {});
  const observer: AppObserver = {
    ...demoObserver,
    onEvent(event) {
      if (event.type === "connection-retired")
        records.retiredByReason[event.reason] = (records.retiredByReason[event.reason] ?? 0) + 1;
      demoObserver.onEvent(event);
    },
  };
  return { name, observer, records };
}

/**
 * Runs rounds until `done()` (each round's queries at once, then a short pause), timing each query and
 * classifying each failure against the fault windows. `onAvoidable` hears of every avoidable failure.
 */
export async function runTimedLoad(
  app: SoakApp,
  workload: StartedWorkload,
  windows: readonly FaultWindow[],
  done: () => boolean,
  onAvoidable: (classification: Classification, error: unknown) => void,
  pauseMs = 100,
): Promise<void> {
  const { records } = app;
  const settle = (startedMs: number, failed: boolean, error: unknown) => {
    const endedMs = Date.now();
    records.queries += 1;
    records.latenciesMs.push(endedMs - startedMs);
    if (!failed) return;
    const classification = classify({ app: app.name, startedMs, failedMs: endedMs, error }, windows);
    const seen = records.failures.get(classification.cause);
    if (seen) seen.count += 1;
    else records.failures.set(classification.cause, { ...classification, count: 1, example: String(error) });
    if (classification.avoidable) {
      records.avoidableFailures += 1;
      onAvoidable(classification, error);
    }
  };
  while (!done()) {
    const startedMs = Date.now();
    await Promise.all(
      workload.round().map((query) =>
        query.then(
          () => settle(startedMs, false, undefined),
          (error: unknown) => settle(startedMs, true, error),
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
