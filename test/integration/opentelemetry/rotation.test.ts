import { createEntraKnexConfig } from "@entra-sql/knex";
import { type EntraSqlInstrumentation, instrumentEntraSql, METRIC_NAMES } from "@entra-sql/opentelemetry";
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import knex from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, knexConfig, modeOptions, sleep, until } from "../knex/helpers.js";

// @entra-sql/opentelemetry during a real rotation: real Knex and @entra-sql/knex against the stand-ins,
// 4 s tokens and a 1.5 s max age, the metrics read from the OpenTelemetry SDK's in-memory exporter. What
// the package records must agree with what happened: tokens fetched, connections retired by the lifetime
// policy, a remaining validity within the token's lifetime, one fetch duration per token fetched.

const TOKEN_LIFETIME_S = 4;
const MAX_AGE_MS = 1_500;

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { clockSkewSeconds: 0 } });
  standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
});

afterAll(async () => {
  await standIns?.close();
});

const sum = (points: DataPoint<unknown>[]) => points.reduce((total, p) => total + (p.value as number), 0);

/** What the exporter got last (cumulative): every metric's data points. */
async function exported(reader: PeriodicExportingMetricReader, exporter: InMemoryMetricExporter) {
  await reader.forceFlush();
  return (exporter.getMetrics().at(-1)?.scopeMetrics ?? []).flatMap((s) => s.metrics);
}

/** Each counter's total and each histogram's count, by metric name: what a recorded event moves. */
const totals = (metrics: MetricData[]) =>
  Object.fromEntries(
    metrics
      .filter((m) => m.dataPointType !== DataPointType.GAUGE)
      .map((m) => [
        m.descriptor.name,
        (m.dataPoints as DataPoint<number | Histogram>[]).reduce(
          (total, p) => total + (typeof p.value === "number" ? p.value : p.value.count),
          0,
        ),
      ]),
  );

describe("@entra-sql/opentelemetry, Knex 3.3", () => {
  it("records a rotation: tokens fetched, connections retired by age or token, the remaining validity, fetch durations", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    // Exports only when flushed (the interval is longer than the test).
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    let instrumentation: EntraSqlInstrumentation | undefined = instrumentEntraSql({ meterProvider });

    const tokenSource = demoAppTokenSource(standIns, { refreshWindowInMs: 1_200, minimumValidityInMs: 600 });
    const db = knex(
      createEntraKnexConfig(knex, knexConfig(standIns, { min: 0, max: 3 }), {
        tokenSource,
        ...modeOptions("inline"),
        maxAgeInMs: MAX_AGE_MS,
        tokenExpiryMarginInMs: 300,
      }),
    );
    const loginsBefore = standIns.sql.logins.length;
    const tokensUsed = () =>
      new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
    let failed = 0;
    try {
      // Two tokens logged in with: at least one rotation. Bounded at four token lifetimes.
      const reached = await until(
        () => tokensUsed() >= 2,
        async () => {
          const outcomes = await Promise.allSettled(
            Array.from({ length: 4 }, (_, i) => db.raw("select ? as n", [i])),
          );
          failed += outcomes.filter((o) => o.status === "rejected").length;
          await sleep(100);
        },
        4 * TOKEN_LIFETIME_S * 1000,
      );
      expect(reached).toBe(true);
      expect(failed).toBe(0);

      const metrics = await exported(reader, exporter);
      const points = <T = number>(name: string) =>
        (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<T>[];

      const tokensFetched = sum(points(METRIC_NAMES.tokenFetches));
      expect(tokensFetched).toBeGreaterThanOrEqual(2);
      const durations = points<Histogram>(METRIC_NAMES.tokenFetchDuration);
      expect(durations.reduce((total, p) => total + p.value.count, 0)).toBe(tokensFetched);
      expect(durations.every((p) => p.attributes["entra_sql.token.fetch.outcome"] === "acquired")).toBe(true);

      const retired = points(METRIC_NAMES.connectionRetirements).filter((p) =>
        ["max-age", "token-expiry"].includes(String(p.attributes["entra_sql.connection.retire_reason"])),
      );
      expect(sum(retired)).toBeGreaterThanOrEqual(1);
      expect(retired.every((p) => p.attributes["entra_sql.adapter"] === "@entra-sql/knex")).toBe(true);
      expect(points<Histogram>(METRIC_NAMES.connectionAge).length).toBeGreaterThanOrEqual(1);
      expect(points<Histogram>(METRIC_NAMES.connectionCreateTime).length).toBeGreaterThanOrEqual(1);

      const remaining = points(METRIC_NAMES.tokenRemainingValidity);
      expect(remaining.map((p) => p.attributes["entra_sql.token.scope"])).toEqual([
        "https://database.windows.net/.default",
      ]);
      expect(remaining[0]?.value).toBeGreaterThan(0);
      expect(remaining[0]?.value).toBeLessThan(TOKEN_LIFETIME_S);

      // Nothing is recorded once unsubscribed, though connections open, retire (past the max age) and
      // maybe a token is fetched meanwhile.
      instrumentation.unsubscribe();
      instrumentation = undefined;
      await db.raw("select 1 as one");
      await sleep(MAX_AGE_MS + 200);
      await db.raw("select 2 as two");
      expect(totals(await exported(reader, exporter))).toEqual(totals(metrics));
    } finally {
      instrumentation?.unsubscribe();
      await db.destroy();
      tokenSource.close();
      await meterProvider.shutdown();
    }
  }, 45_000);
});
