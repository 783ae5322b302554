import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import {
  demoAppTokenSource,
  entraKysely,
  expectValidTokenLogins,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  sleep,
  versionModes,
} from "./helpers.js";

// Time-compressed token rotation through real Kysely (0.27.0 and 0.29.9), the rotation invariants of the
// Knex and Prisma suites: 4 s tokens and 1.5 s connections under concurrent load (queries, a transaction,
// a stream) while the server revalidates every open session after each round.
// - zero failed queries, zero statements refused with 37396;
// - every login presents a valid token; identity-endpoint requests are one per token fetched, about one per
//   (lifetime - refresh window), however many connections log in;
// - no statement starts on a session older than max age, or past its login token (the stand-in's records:
//   each request's session, its login time and its token's expiry).

const TOKEN_LIFETIME_S = 4;
const REFRESH_WINDOW_MS = 1_200;
const MAX_AGE_MS = 1_500;
/** A statement's start is taken from the stand-in's request event (end - duration): scheduling slop. */
const SLOP_MS = 300;

let standIns: StandIns;
let onServerEvent: ((event: StandInEvent) => void) | undefined;

beforeAll(async () => {
  standIns = await startStandIns({
    sql: { clockSkewSeconds: 0, onEvent: (event) => onServerEvent?.(event) },
  });
  await standIns.sql.engine();
});

afterEach(() => {
  onServerEvent = undefined;
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

function watchStatements() {
  const seen = { statements: 0, oldestSessionAgeMs: 0, leastTokenLeftMs: Number.POSITIVE_INFINITY };
  onServerEvent = (event) => {
    if (event.type !== "request") return;
    const session = standIns.sql.sessions.find((s) => s.id === event.sessionId);
    if (session === undefined) return;
    const startedAt = Date.now() - event.durationMs;
    seen.statements += 1;
    seen.oldestSessionAgeMs = Math.max(seen.oldestSessionAgeMs, startedAt - session.loginAt.getTime());
    const expiresAt = session.tokenExpiresAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    seen.leastTokenLeftMs = Math.min(seen.leastTokenLeftMs, expiresAt - startedAt);
  };
  return seen;
}

describe.each(versionModes())("%s", (_, v, tokenMode, authMode) => {
  const table = `krot_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  it("three tokens under load: no failure, valid logins, one identity request per token, no old connection used", async () => {
    const setupSource = demoAppTokenSource(standIns);
    const setup = entraKysely(v, standIns, { tokenSource: setupSource, ...modeOptions(tokenMode) });
    await v.sql`create table ${v.sql.table(table)} (id int primary key, name nvarchar(50))`.execute(setup.db);
    await setup.db.insertInto(table).values({ id: 1, name: "kept" }).execute();
    await setup.db.destroy();
    setupSource.close();

    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_S;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: REFRESH_WINDOW_MS,
      minimumValidityInMs: 600,
    });
    const tokensFetched: number[] = [];
    tokenSource.on("token-acquired", (event) => {
      if (event.type === "token-acquired") tokensFetched.push(event.expiresOnTimestamp);
    });
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      { tokenSource, ...modeOptions(tokenMode), maxAgeInMs: MAX_AGE_MS, tokenExpiryMarginInMs: 300, onEvent },
      { pool: { min: 0, max: 3 } },
    );
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const rejectedBefore = standIns.sql.counters.statementsRejected;
    const started = Date.now();
    const failures: unknown[] = [];
    let queries = 0;
    try {
      const seen = watchStatements();
      const tokensUsed = () =>
        new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
      const deadline = Date.now() + 6 * TOKEN_LIFETIME_S * 1000;
      while (tokensUsed() < 3 && Date.now() < deadline) {
        const results = await Promise.allSettled([
          ...Array.from({ length: 4 }, (_, i) => v.sql`select ${i} as n`.execute(db)),
          db.selectFrom(table).selectAll().execute(),
          db.transaction().execute(async (trx) => {
            await trx.updateTable(table).set({ name: "kept" }).where("id", "=", 1).execute();
            return trx.selectFrom(table).select("name").executeTakeFirstOrThrow();
          }),
          (async () => {
            const rows: unknown[] = [];
            for await (const row of db.selectFrom(table).select("id").stream(5)) rows.push(row);
            return rows;
          })(),
        ]);
        queries += results.length;
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
        standIns.sql.revalidate();
        await sleep(100);
      }
      const elapsedMs = Date.now() - started;

      expect(failures).toEqual([]);
      expect(queries).toBeGreaterThan(30);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBe(0);
      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(new Set(logins.map((l) => l.tokenExpiresAt?.getTime())).size).toBeGreaterThanOrEqual(3);

      const requests = identityRequests(standIns) - requestsBefore;
      expect(requests).toBe(tokensFetched.length);
      const cadenceMs = TOKEN_LIFETIME_S * 1000 - REFRESH_WINDOW_MS;
      expect(requests).toBeLessThanOrEqual(Math.ceil(elapsedMs / cadenceMs) + 1);
      expect(logins.length).toBeGreaterThan(requests);

      expect(seen.statements).toBeGreaterThan(queries);
      expect(seen.oldestSessionAgeMs).toBeLessThanOrEqual(MAX_AGE_MS + SLOP_MS);
      expect(seen.leastTokenLeftMs).toBeGreaterThan(0);
      expect(ofType(events, "connection-retired").some((e) => e.reason === "max-age")).toBe(true);
      expect(standIns.sql.sessions.length).toBeLessThanOrEqual(3);
    } finally {
      onServerEvent = undefined;
      await db.destroy();
      tokenSource.close();
    }
  }, 45_000);
});
