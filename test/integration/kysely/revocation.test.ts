import { isLoginRefusedError, isTokenLoginRejectedError } from "@entra-sql/kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoApp,
  demoAppTokenSource,
  entraKysely,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  sleep,
  versionModes,
} from "./helpers.js";

// Refused logins and a token revoked mid-run, through real Kysely (0.27.0 and 0.29.9), both token modes:
// - a login refused with 18456 (the cached token was revoked) runs once more with a token fetched after
//   the refusal: one identity request, no failed query; refused again: TokenLoginRejectedError;
// - a wrong database is a LoginRefusedError naming it (4060), never retried with a new token;
// - a token revoked at the server under concurrent load (open sessions revalidated: 37396): zero failed
//   queries, one forced refresh (one invalidation, one identity request).

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode) => {
  const table = `krev_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  it("18456: one retry with a token fetched after the refusal; a second refusal is TokenLoginRejectedError", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    try {
      const first = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode) });
      await v.sql`select 1 as one`.execute(first.db); // the token source caches T1
      await first.db.destroy();
      await sleep(1_100); // tokens carry `iat` in whole seconds
      standIns.sql.revokePrincipal(app.objectId, {
        tokensIssuedBefore: new Date(Math.floor(Date.now() / 1000) * 1000),
      });
      const { events, onEvent } = recorder();
      const second = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode), onEvent });
      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequests(standIns);
      try {
        expect((await v.sql<{ n: number }>`select 2 as n`.execute(second.db)).rows).toEqual([{ n: 2 }]);
        const logins = standIns.sql.logins.slice(loginsBefore);
        expect(logins.map((l) => [l.ok, l.failure, l.errorNumber])).toEqual([
          [false, "revoked", 18456],
          [true, undefined, undefined],
        ]);
        expect(identityRequests(standIns) - requestsBefore).toBe(1);
        expect(ofType(events, "login-retried")).toHaveLength(1);
        expect(ofType(events, "connection-opened")[0]).toMatchObject({ attempt: 2 });
      } finally {
        await second.db.destroy();
      }

      standIns.sql.revokePrincipal(app.objectId);
      const third = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode) });
      try {
        const error = await v.sql`select 3 as n`.execute(third.db).catch((e: unknown) => e);
        expect(isTokenLoginRejectedError(error)).toBe(true);
        expect(String((error as Error).message)).toMatch(/^@entra-sql\/kysely: /);
      } finally {
        await third.db.destroy();
      }
    } finally {
      standIns.sql.restorePrincipal(app.objectId);
      tokenSource.close();
    }
  });

  it("a wrong database is LoginRefusedError (4060) naming it, one login, no retry", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(
      v,
      standIns,
      { tokenSource, ...modeOptions(tokenMode), onEvent },
      { database: "no_such_db", pool: { min: 0, max: 1 } },
    );
    const loginsBefore = standIns.sql.logins.length;
    try {
      const error = await v.sql`select 1 as one`.execute(db).catch((e: unknown) => e);
      expect(isLoginRefusedError(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/no_such_db/);
      expect(standIns.sql.logins.slice(loginsBefore).map((l) => l.errorNumber)).toEqual([4060]);
      expect(ofType(events, "login-retried")).toEqual([]);
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });

  it("a token revoked mid-run: no failed query, one forced refresh", async () => {
    const app = demoApp(standIns);
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode), onEvent });
    const invalidations: string[] = [];
    const off = tokenSource.on("token-invalidated", (event) => {
      invalidations.push(event.type);
      standIns.sql.restorePrincipal(app.objectId);
    });
    try {
      await v.sql`create table ${v.sql.table(table)} (id int primary key, name nvarchar(50))`.execute(db);
      await db.insertInto(table).values({ id: 1, name: "kept" }).execute();
      const load = () =>
        Promise.allSettled([
          db.selectFrom(table).selectAll().execute(),
          db.selectFrom(table).select("name").where("id", "=", 1).execute(),
          v.sql`select 1 as one`.execute(db),
          db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .execute(),
        ]);
      await load();
      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequests(standIns);
      const rejectedBefore = standIns.sql.counters.statementsRejected;
      standIns.sql.revokePrincipal(app.objectId);
      standIns.sql.revalidate();
      const failures: unknown[] = [];
      for (let round = 0; round < 8; round++) {
        for (const result of await load()) if (result.status === "rejected") failures.push(result.reason);
        await sleep(50);
      }
      expect(failures).toEqual([]);
      expect(standIns.sql.counters.statementsRejected - rejectedBefore).toBeGreaterThanOrEqual(1);
      expect(ofType(events, "connection-retired").some((e) => e.reason === "session-token-expired")).toBe(
        true,
      );
      const logins = standIns.sql.logins.slice(loginsBefore);
      expect(logins.find((l) => !l.ok)).toMatchObject({ failure: "revoked", errorNumber: 18456 });
      // Concurrent logins refused with the same token each invalidate it; one fetch serves them all.
      expect(invalidations.length).toBeGreaterThanOrEqual(1);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      off();
      standIns.sql.restorePrincipal(app.objectId);
      await db.destroy();
      tokenSource.close();
    }
  });
});
