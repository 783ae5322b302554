import { channel } from "node:diagnostics_channel";
import { isInvalidOptionError, TOKEN_SOURCE_CHANNEL } from "@entra-sql/core";
import { CONNECTION_CHANNEL } from "@entra-sql/driver-kit";
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type EntraSqlInstrumentation, instrumentEntraSql, METRIC_NAMES as M } from "./index.js";

// Events published on the real channels, measurements read back through the OpenTelemetry SDK.

/**
 * A reader the test pulls from (`collect()`): cumulative, as a Prometheus scrape; or delta, which
 * shows what a gauge callback stopped reporting (a cumulative reader of the SDK 2.x keeps exporting
 * an attribute set's last value after its callback has dropped it).
 */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics, errors } = await this.collect();
    expect(errors).toEqual([]);
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }

  async points<T = number>(name: string): Promise<DataPoint<T>[]> {
    return pointsOf<T>(await this.metrics(), name);
  }
}

function pointsOf<T = number>(metrics: MetricData[], name: string): DataPoint<T>[] {
  return (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<T>[];
}

function setUp(temporality = AggregationTemporality.CUMULATIVE) {
  const reader = new PullReader({ aggregationTemporalitySelector: () => temporality });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { reader, meterProvider };
}

const publishTokenEvent = (event: object) => channel(TOKEN_SOURCE_CHANNEL).publish(event);
const publishConnectionEvent = (event: object) =>
  channel(CONNECTION_CHANNEL).publish({ adapter: "@entra-sql/knex", ...event });

const SCOPE = "https://database.windows.net/.default";
const NOW = Date.parse("2026-01-01T00:00:00Z");

function tokenAcquired(overrides: object = {}) {
  return {
    type: "token-acquired",
    scope: SCOPE,
    source: "ManagedIdentityCredential",
    reason: "cold",
    expiresOnTimestamp: NOW + 3_600_000,
    refreshAfterTimestamp: NOW + 1_800_000,
    durationInMs: 250,
    ...overrides,
  };
}

const instrumentations: EntraSqlInstrumentation[] = [];
function instrument(options: Parameters<typeof instrumentEntraSql>[0]) {
  const instrumentation = instrumentEntraSql(options);
  instrumentations.push(instrumentation);
  return instrumentation;
}

afterEach(() => {
  for (const instrumentation of instrumentations.splice(0)) instrumentation.unsubscribe();
  vi.useRealTimers();
});

describe("token source events", () => {
  it("a token acquired counts a fetch by source and reason, and records its duration in seconds", async () => {
    const { reader, meterProvider } = setUp();
    instrument({ meterProvider });
    publishTokenEvent({ type: "acquire-started", scope: SCOPE, reason: "cold" });
    publishTokenEvent(tokenAcquired());
    publishTokenEvent(tokenAcquired({ reason: "refresh", durationInMs: 50 }));

    expect(await reader.points(M.tokenFetches)).toEqual([
      expect.objectContaining({
        attributes: {
          "entra_sql.token.source": "ManagedIdentityCredential",
          "entra_sql.token.fetch.reason": "cold",
        },
        value: 1,
      }),
      expect.objectContaining({
        attributes: {
          "entra_sql.token.source": "ManagedIdentityCredential",
          "entra_sql.token.fetch.reason": "refresh",
        },
        value: 1,
      }),
    ]);
    const durations = await reader.points<Histogram>(M.tokenFetchDuration);
    expect(durations.map((p) => [p.attributes, p.value.count, p.value.sum])).toEqual([
      [
        {
          "entra_sql.token.source": "ManagedIdentityCredential",
          "entra_sql.token.fetch.reason": "cold",
          "entra_sql.token.fetch.outcome": "acquired",
        },
        1,
        0.25,
      ],
      [
        {
          "entra_sql.token.source": "ManagedIdentityCredential",
          "entra_sql.token.fetch.reason": "refresh",
          "entra_sql.token.fetch.outcome": "acquired",
        },
        1,
        0.05,
      ],
    ]);
    const descriptors = (await reader.metrics()).map((m) => [m.descriptor.name, m.descriptor.unit]);
    expect(descriptors).toEqual(
      expect.arrayContaining([
        [M.tokenFetches, "{token}"],
        [M.tokenFetchDuration, "s"],
        [M.tokenRemainingValidity, "s"],
      ]),
    );
  });

  it("failures count by error name (never the message), kind and source", async () => {
    const { reader, meterProvider } = setUp();
    instrument({ meterProvider });
    const error = { name: "CredentialUnavailableError", message: "az login: please run az login" };
    publishTokenEvent({ type: "source-failed", source: "AzureCliCredential", kind: "unavailable", error });
    publishTokenEvent({ type: "acquire-failed", scope: SCOPE, error, durationInMs: 1500 });
    publishTokenEvent({
      type: "refresh-failed",
      scope: SCOPE,
      error: { name: "AuthenticationError", message: "AADSTS7000215" },
      retryInMs: 1000,
      currentExpiresOnTimestamp: NOW,
    });

    expect(await reader.points(M.tokenSourceFailures)).toEqual([
      expect.objectContaining({
        attributes: {
          "entra_sql.token.source": "AzureCliCredential",
          "entra_sql.token.source.failure_kind": "unavailable",
          "error.type": "CredentialUnavailableError",
        },
        value: 1,
      }),
    ]);
    expect((await reader.points(M.tokenFetchFailures)).map((p) => [p.attributes, p.value])).toEqual([
      [{ "entra_sql.token.fetch.kind": "acquire", "error.type": "CredentialUnavailableError" }, 1],
      [{ "entra_sql.token.fetch.kind": "refresh", "error.type": "AuthenticationError" }, 1],
    ]);
    const [failed] = await reader.points<Histogram>(M.tokenFetchDuration);
    expect(failed?.attributes).toEqual({
      "entra_sql.token.fetch.outcome": "failed",
      "error.type": "CredentialUnavailableError",
    });
    expect(failed?.value).toMatchObject({ count: 1, sum: 1.5 });
    expect(JSON.stringify(await reader.metrics())).not.toMatch(/az login|AADSTS/);
  });

  it("the remaining validity goes down as time passes, resets when a new token arrives, and leaves on invalidation", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    const { reader, meterProvider } = setUp(AggregationTemporality.DELTA);
    instrument({ meterProvider });
    const remaining = async () =>
      (await reader.points(M.tokenRemainingValidity)).map((p) => [
        p.attributes["entra_sql.token.scope"],
        p.value,
      ]);
    expect(await remaining()).toEqual([]);

    publishTokenEvent(tokenAcquired());
    expect(await remaining()).toEqual([[SCOPE, 3600]]);
    vi.setSystemTime(NOW + 600_000);
    expect(await remaining()).toEqual([[SCOPE, 3000]]);

    publishTokenEvent(tokenAcquired({ reason: "refresh", expiresOnTimestamp: NOW + 600_000 + 3_600_000 }));
    publishTokenEvent(
      tokenAcquired({
        scope: "https://database.usgovcloudapi.net/.default",
        expiresOnTimestamp: NOW + 605_000,
      }),
    );
    expect(await remaining()).toEqual([
      [SCOPE, 3600],
      ["https://database.usgovcloudapi.net/.default", 5],
    ]);

    publishTokenEvent({ type: "token-invalidated", scope: SCOPE });
    expect(await remaining()).toEqual([["https://database.usgovcloudapi.net/.default", 5]]);
  });
});

describe("connection events", () => {
  it("create time, retirements with the connection's age, statement and login retries, per adapter", async () => {
    const { reader, meterProvider } = setUp();
    instrument({ meterProvider });
    publishConnectionEvent({
      type: "connection-opened",
      tokenMode: "inline",
      scope: SCOPE,
      tokenExpiresOnTimestamp: NOW + 3_600_000,
      retireAt: NOW + 1_800_000,
      durationInMs: 120,
      attempt: 1,
    });
    publishConnectionEvent({
      type: "connection-retired",
      reason: "max-age",
      at: "release",
      ageInMs: 1_800_000,
    });
    publishConnectionEvent({ type: "connection-retired", reason: "max-age", at: "idle", ageInMs: 1_900_000 });
    publishConnectionEvent({
      adapter: "@entra-sql/mssql",
      type: "connection-retired",
      reason: "token-expiry",
      at: "acquire",
      ageInMs: 60_000,
    });
    publishConnectionEvent({ type: "statement-retried", reason: "session-token-expired", method: "query" });
    publishConnectionEvent({ type: "login-retried", verdict: "expired", scope: SCOPE });

    const knex = { "db.system.name": "microsoft.sql_server", "entra_sql.adapter": "@entra-sql/knex" };
    const [created] = await reader.points<Histogram>(M.connectionCreateTime);
    expect(created?.attributes).toEqual({ ...knex, "entra_sql.connection.token_mode": "inline" });
    expect(created?.value).toMatchObject({ count: 1, sum: 0.12 });

    const byReason = (points: DataPoint<unknown>[]) =>
      points.map((p) => [
        p.attributes["entra_sql.adapter"],
        p.attributes["entra_sql.connection.retire_reason"],
      ]);
    const retirements = await reader.points(M.connectionRetirements);
    expect(byReason(retirements)).toEqual([
      ["@entra-sql/knex", "max-age"],
      ["@entra-sql/mssql", "token-expiry"],
    ]);
    expect(retirements.map((p) => p.value)).toEqual([2, 1]);
    const ages = await reader.points<Histogram>(M.connectionAge);
    expect(byReason(ages)).toEqual(byReason(retirements));
    expect(ages.map((p) => [p.value.count, p.value.sum, p.value.max])).toEqual([
      [2, 3700, 1900],
      [1, 60, 60],
    ]);

    expect(await reader.points(M.statementRetries)).toEqual([
      expect.objectContaining({
        attributes: { ...knex, "entra_sql.retry.reason": "session-token-expired" },
        value: 1,
      }),
    ]);
    expect(await reader.points(M.loginRetries)).toEqual([
      expect.objectContaining({ attributes: { ...knex, "entra_sql.retry.reason": "expired" }, value: 1 }),
    ]);
    const units = Object.fromEntries(
      (await reader.metrics()).map((m) => [m.descriptor.name, m.descriptor.unit]),
    );
    expect(units).toMatchObject({
      [M.connectionCreateTime]: "s",
      [M.connectionRetirements]: "{connection}",
      [M.connectionAge]: "s",
      [M.statementRetries]: "{statement}",
      [M.loginRetries]: "{login}",
    });
  });

  it("a malformed or unknown message records nothing and never throws into the publisher", async () => {
    const { reader, meterProvider } = setUp();
    instrument({ meterProvider });
    for (const message of [null, 42, { type: "connection-opened" }, { type: "future-event" }]) {
      expect(() => channel(CONNECTION_CHANNEL).publish(message)).not.toThrow();
      expect(() => channel(TOKEN_SOURCE_CHANNEL).publish(message)).not.toThrow();
    }
    const counted = (await reader.metrics())
      .filter((m) => m.dataPoints.length > 0)
      .map((m) => m.descriptor.name);
    expect(counted).not.toContain(M.connectionRetirements);
    expect(counted).not.toContain(M.tokenFetches);
  });
});

describe("subscription", () => {
  it("unsubscribe() stops recording and drops the gauge; calling it again does nothing", async () => {
    const { reader, meterProvider } = setUp();
    const instrumentation = instrument({ meterProvider });
    publishTokenEvent(tokenAcquired());
    instrumentation.unsubscribe();
    instrumentation.unsubscribe();
    publishTokenEvent(tokenAcquired());
    publishConnectionEvent({ type: "login-retried", verdict: "rejected", scope: SCOPE });

    expect((await reader.points(M.tokenFetches)).map((p) => p.value)).toEqual([1]);
    expect(await reader.points(M.loginRetries)).toEqual([]);
    expect(await reader.points(M.tokenRemainingValidity)).toEqual([]);
    expect(channel(TOKEN_SOURCE_CHANNEL).hasSubscribers).toBe(false);
    expect(channel(CONNECTION_CHANNEL).hasSubscribers).toBe(false);
  });

  it("a second call replaces the first: nothing is counted twice, and the first handle no longer unsubscribes", async () => {
    const first = setUp(AggregationTemporality.DELTA);
    const second = setUp(AggregationTemporality.DELTA);
    const firstInstrumentation = instrument({ meterProvider: first.meterProvider });
    instrument({ meterProvider: first.meterProvider });
    publishTokenEvent(tokenAcquired());
    const counted = await first.reader.metrics();
    expect(pointsOf(counted, M.tokenFetches).map((p) => p.value)).toEqual([1]);
    expect(pointsOf(counted, M.tokenRemainingValidity)).toHaveLength(1);

    instrument({ meter: second.meterProvider.getMeter("my-app") });
    firstInstrumentation.unsubscribe();
    publishTokenEvent(tokenAcquired());
    const [firstMetrics, secondMetrics] = await Promise.all([
      first.reader.metrics(),
      second.reader.metrics(),
    ]);
    expect(firstMetrics.filter((m) => m.dataPoints.length > 0)).toEqual([]);
    expect(pointsOf(secondMetrics, M.tokenFetches).map((p) => p.value)).toEqual([1]);
    expect(channel(TOKEN_SOURCE_CHANNEL).hasSubscribers).toBe(true);
  });

  it("the global MeterProvider is the default", async () => {
    const { reader, meterProvider } = setUp();
    const { metrics } = await import("@opentelemetry/api");
    metrics.setGlobalMeterProvider(meterProvider);
    try {
      instrument(undefined);
      publishTokenEvent(tokenAcquired());
      const [scope] = (await reader.collect()).resourceMetrics.scopeMetrics;
      expect(scope?.scope.name).toBe("@entra-sql/opentelemetry");
    } finally {
      metrics.disable();
    }
  });

  it.each([
    [
      { meterProvder: {} },
      /option "meterProvder" is not a known option; expected one of meterProvider, meter/,
    ],
    [{ meter: {}, meterProvider: {} }, /option "meter" is given with meterProvider/],
    [{ meter: "my-app" }, /option "meter" is .*my-app.*; expected an OpenTelemetry Meter/],
    [{ meterProvider: null }, /option "meterProvider" is null; expected an OpenTelemetry MeterProvider/],
    ["meter", /option "options" is .*meter.*; expected an object/],
  ])("refuses %j", (options, message) => {
    let thrown: unknown;
    try {
      instrumentEntraSql(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidOptionError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/^@entra-sql\/opentelemetry: /);
    expect((thrown as Error).message).toMatch(message);
    expect(channel(TOKEN_SOURCE_CHANNEL).hasSubscribers).toBe(false);
  });
});
