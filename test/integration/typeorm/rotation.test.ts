import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource, EntitySchema } from "typeorm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import type { StandInEvent } from "../../support/tds/index.js";
import { demoAppTokenSource, identityRequests, SQL_SCOPE, sleep } from "../mssql/helpers.js";
import { createNotesTable, expectValidTokenLogins, NOTE_COLUMNS, type Note, server } from "./helpers.js";

// Time-compressed token rotation through TypeORM (issue 4's rotation invariants): 6 s tokens and
// 2.5 s connections under concurrent load while the server keeps revalidating open sessions.
// - zero failed queries, zero statements refused with 37396;
// - every login presents a valid token; identity-endpoint requests are one per token fetched, about
//   one per (lifetime - refresh window), however many connections log in;
// - no statement starts on a connection older than max age, or past its login token;
// - a transaction that spans the max-age boundary completes, and its connection retires afterwards.

const TOKEN_LIFETIME_SECONDS = 6;
const REFRESH_WINDOW_MS = 1_500;
const MAX_AGE_MS = 2_500;
const JITTER_RATIO = 0.025;
/** A statement's start is taken from the stand-in's request event (end - duration): allow scheduling slop. */
const SLOP_MS = 250;

const noteSchema = (tableName: string) =>
  new EntitySchema<Note>({ name: "Note", tableName, columns: NOTE_COLUMNS });

let standIns: StandIns;
let onServerEvent: ((event: StandInEvent) => void) | undefined;
let tableCounter = 0;

beforeAll(async () => {
  standIns = await startStandIns({ sql: { onEvent: (event) => onServerEvent?.(event) } });
});

afterEach(() => {
  onServerEvent = undefined;
  standIns.entra.settings.tokenLifetimeSeconds = 3600;
});

afterAll(async () => {
  await standIns?.close();
});

/** For each statement the server ran: the age of its session and its login token's time left, at start. */
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

describe.each([
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const)("rotation, tokenMode %s", (tokenMode, authMode) => {
  function rotatingDataSource(tableName: string, events: EntraMssqlEvent[]) {
    standIns.entra.settings.tokenLifetimeSeconds = TOKEN_LIFETIME_SECONDS;
    const tokenSource = demoAppTokenSource(standIns, {
      refreshWindowInMs: REFRESH_WINDOW_MS,
      minimumValidityInMs: 1_000,
    });
    const dataSource = new DataSource(
      entraDataSourceOptions({
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
        mssql,
        maxAgeInMs: MAX_AGE_MS,
        maxAgeJitterRatio: JITTER_RATIO,
        tokenExpiryMarginInMs: 800,
        onEvent: (event) => events.push(event),
        ...server(standIns),
        options: standIns.sql.tlsOptions(),
        entities: [noteSchema(tableName)],
        pool: { min: 0, max: 4 },
      }),
    );
    return { dataSource, tokenSource };
  }

  it("three tokens under load: no failure, valid logins, one identity request per token, no old connection used", async () => {
    const events: EntraMssqlEvent[] = [];
    const tableName = `rotating_${++tableCounter}`;
    const { dataSource, tokenSource } = rotatingDataSource(tableName, events);
    const tokensFetched: number[] = [];
    tokenSource.on("token-acquired", (event) => {
      if (event.type === "token-acquired") tokensFetched.push(event.expiresOnTimestamp);
    });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const started = Date.now();
    await dataSource.initialize();
    const seen = watchStatements();
    let queries = 0;
    const failures: unknown[] = [];
    try {
      await createNotesTable(dataSource, tableName);
      const notes = dataSource.getRepository<Note>("Note");
      await notes.insert({ body: "kept" });
      const tokensUsed = () =>
        new Set(standIns.sql.logins.slice(loginsBefore).map((l) => l.tokenExpiresAt?.getTime())).size;
      // Bounded: three tokens take about 2 x 4.5 s; a loaded machine gets up to 40 s.
      const deadline = Date.now() + 40_000;
      let nextRevalidation = Date.now() + 1_000;
      while (tokensUsed() < 3 && Date.now() < deadline) {
        const results = await Promise.allSettled([
          notes.count(),
          notes.find({ take: 5 }),
          dataSource.transaction((manager) => manager.getRepository<Note>("Note").count()),
          dataSource.query(`SELECT COUNT(*) AS "n" FROM "${tableName}"`),
        ]);
        queries += results.length;
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
        if (Date.now() >= nextRevalidation) {
          standIns.sql.revalidate(); // as Azure SQL does after maintenance: expired sessions get 37396
          nextRevalidation = Date.now() + 1_000;
        }
        await sleep(100);
      }
      const elapsedMs = Date.now() - started;

      expect(failures).toEqual([]);
      expect(queries).toBeGreaterThan(20);
      expect(standIns.sql.counters.statementsRejected).toBe(0);
      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(new Set(logins.map((l) => l.tokenExpiresAt?.getTime())).size).toBeGreaterThanOrEqual(3);
      for (const login of logins) {
        expect(login.tokenExpiresAt?.getTime() ?? 0).toBeGreaterThan(login.at.getTime() + 800);
      }

      // One identity request per token, and no more tokens than the refresh cadence allows.
      const requests = identityRequests(standIns) - requestsBefore;
      expect(requests).toBe(tokensFetched.length);
      const cadenceMs = TOKEN_LIFETIME_SECONDS * 1000 - REFRESH_WINDOW_MS;
      expect(requests).toBeLessThanOrEqual(Math.ceil(elapsedMs / cadenceMs) + 1);
      // ... however many connections logged in.
      expect(logins.length).toBeGreaterThanOrEqual(2 * requests);

      expect(seen.statements).toBeGreaterThan(queries);
      expect(seen.oldestSessionAgeMs).toBeLessThanOrEqual(MAX_AGE_MS + SLOP_MS);
      expect(seen.leastTokenLeftMs).toBeGreaterThan(0);
      expect(events.some((e) => e.type === "connection-retired" && e.reason === "max-age")).toBe(true);
    } finally {
      onServerEvent = undefined;
      await dataSource.destroy();
      tokenSource.close();
    }
  }, 60_000);

  it("a transaction that spans the max-age boundary completes, then its connection retires", async () => {
    const events: EntraMssqlEvent[] = [];
    const tableName = `rotating_${++tableCounter}`;
    const { dataSource, tokenSource } = rotatingDataSource(tableName, events);
    await dataSource.initialize();
    try {
      await createNotesTable(dataSource, tableName);
      const loginsBefore = standIns.sql.logins.length;
      await dataSource.transaction(async (manager) => {
        const notes = manager.getRepository<Note>("Note");
        await notes.insert({ body: "before the boundary" });
        await sleep(MAX_AGE_MS + 200);
        await notes.insert({ body: "after the boundary" });
      });
      const notes = dataSource.getRepository<Note>("Note");
      expect((await notes.find({ order: { id: "ASC" } })).map((n) => n.body)).toEqual([
        "before the boundary",
        "after the boundary",
      ]);
      expect(
        events.some((e) => e.type === "connection-retired" && e.ageInMs >= MAX_AGE_MS * (1 - JITTER_RATIO)),
      ).toBe(true);
      // The query after the transaction needed a new login: the old connection was not handed out again.
      expect(standIns.sql.logins.length).toBeGreaterThan(loginsBefore);
    } finally {
      await dataSource.destroy();
      tokenSource.close();
    }
  }, 30_000);
});
