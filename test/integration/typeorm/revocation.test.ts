import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource, EntitySchema } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoApp, demoAppTokenSource, identityRequests, SQL_SCOPE, sleep } from "../mssql/helpers.js";
import { createNotesTable, NOTE_COLUMNS, type Note, server } from "./helpers.js";

// A token revoked at the server in the middle of a run, through TypeORM under concurrent load: the
// server revalidates its open sessions (their statements are refused with 37396) and refuses logins
// with the revoked token (18456). Access comes back when the app asks for a fresh token (an admin
// re-enabled the identity; Entra ID then issues a token the server accepts). Expected: zero failed
// queries (refused statements run again on fresh connections), and ONE forced refresh.

const noteSchema = (tableName: string) =>
  new EntitySchema<Note>({ name: "Note", tableName, columns: NOTE_COLUMNS });

let standIns: StandIns;
let tableCounter = 0;

beforeAll(async () => {
  standIns = await startStandIns();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each([
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const)("revocation mid-run, tokenMode %s", (tokenMode, authMode) => {
  it("recovers with one forced refresh and no failed query", async () => {
    const app = demoApp(standIns);
    const tableName = `revoked_${++tableCounter}`;
    const tokenSource = demoAppTokenSource(standIns);
    const events: EntraMssqlEvent[] = [];
    const dataSource = new DataSource(
      entraDataSourceOptions({
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
        mssql,
        onEvent: (event) => events.push(event),
        ...server(standIns),
        options: standIns.sql.tlsOptions(),
        entities: [noteSchema(tableName)],
        pool: { min: 0, max: 4 },
      }),
    );
    const invalidations: string[] = [];
    const off = tokenSource.on("token-invalidated", (event) => {
      invalidations.push(event.type);
      standIns.sql.restorePrincipal(app.objectId);
    });
    await dataSource.initialize();
    try {
      await createNotesTable(dataSource, tableName);
      const notes = dataSource.getRepository<Note>("Note");
      await notes.insert({ body: "kept" });
      const load = () =>
        Promise.allSettled([
          notes.count(),
          notes.find({ take: 5 }),
          notes.findOneBy({ body: "kept" }),
          dataSource.query(`SELECT COUNT(*) AS "n" FROM "${tableName}"`),
        ]);
      await load(); // the pool has open connections now, all logged in with the first token

      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequests(standIns);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      standIns.sql.revokePrincipal(app.objectId);
      standIns.sql.revalidate();
      const failures: unknown[] = [];
      let queries = 0;
      for (let round = 0; round < 10; round++) {
        const results = await load();
        queries += results.length;
        for (const result of results) if (result.status === "rejected") failures.push(result.reason);
        await sleep(50);
      }

      expect(failures).toEqual([]);
      expect(queries).toBe(40);
      // The open sessions were refused (37396: mssql's check on acquire, or a statement that then ran
      // again) and retired ...
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBeGreaterThanOrEqual(1);
      expect(
        events.some((e) => e.type === "connection-retired" && e.reason === "session-token-expired"),
      ).toBe(true);
      // ... whose first login with the revoked token was refused, then succeeded with a fresh one.
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.find((l) => !l.ok)).toMatchObject({ failure: "revoked", errorNumber: 18456 });
      expect(logins.some((l) => l.ok && l.authMode === authMode)).toBe(true);
      expect(events.some((e) => e.type === "login-retried" && e.verdict === "rejected")).toBe(true);
      // One forced refresh: one invalidation, one identity request.
      expect(invalidations).toEqual(["token-invalidated"]);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await dataSource.destroy();
      tokenSource.close();
    }
  }, 30_000);
});
