import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql from "mssql";
import { DataSource, EntitySchema } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, identityRequests, SQL_SCOPE } from "../mssql/helpers.js";
import { createNotesTable, expectValidTokenLogins, NOTE_COLUMNS, type Note, server } from "./helpers.js";

// The built @entra-sql/typeorm with real TypeORM 1.1, mssql 12, tedious 19 and @azure/identity against
// the local Entra ID and the SQL stand-in: DataSources built by entraDataSourceOptions log every
// connection in with a valid token, ask the identity endpoint once per token lifetime, and share one
// token source between the master and the slaves of a replicated DataSource.

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
] as const)("tokenMode %s", (tokenMode, authMode) => {
  it("CRUD and a transaction through a DataSource from entraDataSourceOptions, one identity request", async () => {
    const tableName = `notes_${++tableCounter}`;
    const tokenSource = demoAppTokenSource(standIns);
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const dataSource = new DataSource(
      entraDataSourceOptions({
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
        mssql,
        ...server(standIns),
        options: standIns.sql.tlsOptions(),
        entities: [noteSchema(tableName)],
        synchronize: false,
        pool: { max: 5, min: 0 },
      }),
    );
    await dataSource.initialize();
    try {
      await createNotesTable(dataSource, tableName);
      const notes = dataSource.getRepository<Note>("Note");
      const saved = await notes.save({ body: "first" });
      expect(saved.id).toBe(1);
      await notes.insert([{ body: "second" }, { body: "third" }]);
      expect((await notes.update({ id: 2 }, { body: "zweite" })).affected).toBe(1);
      expect((await notes.findOneByOrFail({ id: 2 })).body).toBe("zweite");
      expect((await notes.delete({ id: 3 })).affected).toBe(1);
      await dataSource.transaction(async (manager) => {
        await manager.getRepository<Note>("Note").insert({ body: "in-tx" });
      });
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.getRepository<Note>("Note").insert({ body: "rolled-back" });
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      // Many concurrent queries: the pool opens several connections.
      const counts = await Promise.all(Array.from({ length: 20 }, () => notes.count()));
      expect(new Set(counts)).toEqual(new Set([3]));
      expect((await notes.find({ order: { id: "ASC" } })).map((n) => n.body)).toEqual([
        "first",
        "zweite",
        "in-tx",
      ]);

      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(logins.length).toBeGreaterThanOrEqual(2);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      await dataSource.destroy();
      tokenSource.close();
    }
  });
});

describe("replication", () => {
  it("master and slave share one driver and one token source: one identity request", async () => {
    const tableName = `notes_${++tableCounter}`;
    const tokenSource = demoAppTokenSource(standIns);
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const options = entraDataSourceOptions({
      tokenSource,
      scope: SQL_SCOPE,
      replication: { master: server(standIns), slaves: [server(standIns)] },
      options: standIns.sql.tlsOptions(),
      entities: [noteSchema(tableName)],
    });
    const dataSource = new DataSource(options);
    await dataSource.initialize();
    try {
      await createNotesTable(dataSource, tableName);
      await dataSource.getRepository<Note>("Note").insert({ body: "on master" });
      const slave = dataSource.createQueryRunner("slave");
      try {
        expect(await slave.query(`SELECT COUNT(*) AS "n" FROM "${tableName}"`)).toEqual([{ n: 1 }]);
      } finally {
        await slave.release();
      }
      const master = dataSource.createQueryRunner("master");
      try {
        expect(await master.query(`SELECT COUNT(*) AS "n" FROM "${tableName}"`)).toEqual([{ n: 1 }]);
      } finally {
        await master.release();
      }
      // Both pools opened connections (mssql's probe login per pool at least), all with our token.
      expect(expectValidTokenLogins(standIns, loginsBefore, "fedauth-inline").length).toBeGreaterThanOrEqual(
        2,
      );
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
      expect(options.driver.tokenSource).toBe(tokenSource);
    } finally {
      await dataSource.destroy();
      tokenSource.close();
    }
  });
});

describe("a token source the helper creates", () => {
  it("from `tokenSource` options: logs in, and the driver exposes it for close()", async () => {
    const { entra, demo } = standIns;
    if (!demo) throw new Error("no demo identities");
    const options = entraDataSourceOptions({
      tokenSource: {
        credential: {
          type: "service-principal",
          tenantId: entra.tenantId,
          clientId: demo.app.clientId,
          clientSecret: demo.app.clientSecret ?? "",
        },
        identityOptions: entra.credentialOptions(),
      },
      scope: SQL_SCOPE,
      ...server(standIns),
      options: standIns.sql.tlsOptions(),
    });
    const dataSource = await new DataSource(options).initialize();
    try {
      expect(await dataSource.query('SELECT 1 AS "one"')).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
      options.driver.tokenSource.close();
    }
  });
});
