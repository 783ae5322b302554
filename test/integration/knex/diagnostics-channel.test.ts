import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { TOKEN_SOURCE_CHANNEL } from "@entra-sql/core";
import { CONNECTION_CHANNEL, createEntraKnexConfig } from "@entra-sql/knex";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { recordDiagnostics } from "../mssql/diagnostics-fixtures.js";
import { demoAppTokenSource, knexConfig, OLDEST_AND_NEWEST, SQL_SCOPE, sleep, until } from "./helpers.js";

// The documented diagnostics channels through real Knex and @azure/identity, observed by a channel
// subscriber only (no onEvent, no on()): during a time-compressed rotation, token fetches arrive with
// their source and duration, connections open with their token's expiry and retire with a reason and
// an age. A subscriber that throws fails no login, query or release: Node reports its error as an
// uncaught exception (caught here instead of by the test runner).

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { clockSkewSeconds: 0 } });
});

afterEach(() => {
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

/** Subscribes a throwing subscriber to both channels and catches what Node rethrows, until stopped. */
function buggySubscriber() {
  const uncaught: unknown[] = [];
  const buggy = () => {
    throw new Error("buggy subscriber");
  };
  const runnerHandlers = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", (error) => uncaught.push(error));
  subscribe(TOKEN_SOURCE_CHANNEL, buggy);
  subscribe(CONNECTION_CHANNEL, buggy);
  return {
    uncaught,
    stop() {
      unsubscribe(TOKEN_SOURCE_CHANNEL, buggy);
      unsubscribe(CONNECTION_CHANNEL, buggy);
      process.removeAllListeners("uncaughtException");
      for (const handler of runnerHandlers) process.on("uncaughtException", handler);
    },
  };
}

const TOKEN_LIFETIME_S = 4;
const MAX_AGE_MS = 1_500;

describe.each(OLDEST_AND_NEWEST)("Knex $version", (v) => {
  it(`publishes token fetches on ${TOKEN_SOURCE_CHANNEL} and connection lives on ${CONNECTION_CHANNEL}`, async () => {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const buggy = buggySubscriber();
    const diagnostics = recordDiagnostics();
    const tokenSource = demoAppTokenSource(standIns, { refreshWindowInMs: 1_200, minimumValidityInMs: 600 });
    const db = v.create(
      createEntraKnexConfig(v.knex, knexConfig(standIns, { min: 0, max: 2 }), {
        tokenSource,
        tokenMode: "inline",
        scope: SQL_SCOPE,
        maxAgeInMs: MAX_AGE_MS,
        tokenExpiryMarginInMs: 300,
      }),
    );
    const startedAt = Date.now();
    const acquired = () => diagnostics.tokenSource.filter((event) => event.type === "token-acquired");
    const retired = () => diagnostics.connection.filter((event) => event.type === "connection-retired");
    try {
      // A rotation: a second token fetched and a connection retired; bounded at three token lifetimes.
      const reached = await until(
        () => acquired().length >= 2 && retired().length >= 1,
        async () => {
          await Promise.all(Array.from({ length: 3 }, (_, i) => db.raw("select ? as n", [i])));
          await sleep(100);
        },
        3 * TOKEN_LIFETIME_S * 1000,
      );
      expect(reached).toBe(true);
    } finally {
      await db.destroy();
      tokenSource.close();
      diagnostics.stop();
      await sleep(10); // Node rethrows a subscriber's error on the next tick
      buggy.stop();
    }
    const elapsed = Date.now() - startedAt;
    expect(buggy.uncaught.length).toBe(diagnostics.tokenSource.length + diagnostics.connection.length);

    const starts = diagnostics.tokenSource.filter((event) => event.type === "acquire-started");
    expect(starts[0]).toEqual({ type: "acquire-started", scope: SQL_SCOPE, reason: "cold" });
    const [first, second] = acquired();
    expect(first).toMatchObject({ scope: SQL_SCOPE, source: "ClientSecretCredential", reason: "cold" });
    expect(["refresh", "expired"]).toContain(second?.reason); // ahead of expiry, or once it stopped being handed out
    for (const event of acquired()) {
      expect(event.durationInMs).toBeGreaterThanOrEqual(0);
      expect(event.durationInMs).toBeLessThan(elapsed);
      expect(event.expiresOnTimestamp).toBeGreaterThan(startedAt);
    }

    const opened = diagnostics.connection.filter((event) => event.type === "connection-opened");
    expect(opened.length).toBeGreaterThanOrEqual(2);
    const tokenExpiries = new Set(acquired().map((event) => event.expiresOnTimestamp));
    for (const event of opened) {
      expect(event.adapter).toBe("@entra-sql/knex");
      expect(tokenExpiries.has(event.tokenExpiresOnTimestamp ?? Number.NaN)).toBe(true);
      expect(event.retireAt).toBeLessThanOrEqual((event.tokenExpiresOnTimestamp ?? 0) - 300);
    }

    const [retirement] = retired();
    expect(retirement).toMatchObject({ adapter: "@entra-sql/knex" });
    expect(["max-age", "token-expiry"]).toContain(retirement?.reason);
    expect(retirement?.ageInMs).toBeGreaterThanOrEqual(MAX_AGE_MS - 500);
    expect(retirement?.ageInMs).toBeLessThan(elapsed);
  });
});
