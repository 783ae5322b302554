import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import {
  demoAppTokenSource,
  entraKysely,
  expectValidTokenLogins,
  identityRequests,
  modeOptions,
  ofType,
  recorder,
  sleep,
  until,
  versionModes,
} from "./helpers.js";

// Both token modes through real Kysely (0.27.0 and 0.29.9, MssqlDialect on tedious 19 + tarn 3): logins
// with a valid token, typed CRUD, a committed and a rolled-back transaction, a streamed query, concurrent
// queries over several connections and ONE identity request.

let standIns: StandIns;

beforeAll(async () => {
  standIns = await startStandIns();
  await standIns.sql.engine();
});

afterAll(async () => {
  await standIns?.close();
});

describe.each(versionModes())("%s", (_, v, tokenMode, authMode) => {
  const table = `k_${v.version.replaceAll(".", "")}_${tokenMode.replace("-", "_")}`;

  it("logs in with a token, runs CRUD, transactions and a stream, one identity request", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const { events, onEvent } = recorder();
    const { db } = entraKysely(v, standIns, { tokenSource, ...modeOptions(tokenMode), onEvent });
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    try {
      await v.sql`create table ${v.sql.table(table)} (id int primary key, name nvarchar(50))`.execute(db);
      await db.insertInto(table).values({ id: 1, name: "one" }).execute();
      await db.transaction().execute(async (trx) => {
        await trx.insertInto(table).values({ id: 2, name: "two" }).execute();
      });
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto(table).values({ id: 3, name: "three" }).execute();
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");
      await db.updateTable(table).set({ name: "uno" }).where("id", "=", 1).execute();
      const rows = await db.selectFrom(table).selectAll().orderBy("id").execute();
      expect(rows).toEqual([
        { id: 1, name: "uno" },
        { id: 2, name: "two" },
      ]);
      const streamed: unknown[] = [];
      for await (const row of db.selectFrom(table).select("id").orderBy("id").stream(1)) streamed.push(row);
      expect(streamed).toEqual([{ id: 1 }, { id: 2 }]);
      const counts = await Promise.all(
        Array.from({ length: 8 }, () =>
          db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow(),
        ),
      );
      expect(counts.map((c) => Number(c.n))).toEqual(Array(8).fill(2));
      await db.deleteFrom(table).where("id", "=", 2).execute();

      // tarn may have started more logins for the concurrent counts than it needed; each reaches the pool
      // (and says connection-opened) a little after the server accepted it.
      const accepted = () => standIns.sql.logins.slice(loginsBefore).filter((l) => l.ok).length;
      expect(
        await until(
          () => ofType(events, "connection-opened").length === accepted(),
          () => sleep(25),
          5_000,
        ),
      ).toBe(true);
      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      expect(ofType(events, "connection-opened").length).toBe(logins.length);
      expect(ofType(events, "connection-opened")[0]).toMatchObject({ tokenMode, attempt: 1 });
    } finally {
      await db.destroy();
      tokenSource.close();
    }
  });
});
