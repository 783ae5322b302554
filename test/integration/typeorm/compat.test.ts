import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createEntraMssql } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import mssql12 from "mssql";
import { DataSource, EntitySchema } from "typeorm-0.3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StandIns, startStandIns } from "../../support/stand-ins.js";
import { demoAppTokenSource, identityRequests, mssqlConfig, SQL_SCOPE } from "../mssql/helpers.js";
import { createNotesTable, expectValidTokenLogins, NOTE_COLUMNS, type Note, server } from "./helpers.js";

// The oldest supported majors: mssql 11 (npm alias "mssql-11", with its own tedious 18) injected into
// createEntraMssql and into entraDataSourceOptions, and TypeORM 0.3 (npm alias "typeorm-0.3") building
// the DataSource, against the local Entra ID and the SQL stand-in. @entra-sql/typeorm imports typeorm
// for types only, so the DataSource and its SqlServerDriver here are TypeORM 0.3's.

const require = createRequire(import.meta.url);
// mssql 11 ships no types and @types/mssql 12 is bound to the "mssql" name; its API (ConnectionPool,
// Request, Transaction, data types) is the one @types/mssql 12 describes, so it is typed as mssql 12.
const mssql11 = require("mssql-11") as typeof mssql12;
const typeorm03 = JSON.parse(
  readFileSync(new URL("../../node_modules/typeorm-0.3/package.json", import.meta.url), "utf8"),
) as { version: string };

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

const TOKEN_MODES = [
  ["inline", "fedauth-inline"],
  ["token-credential", "fedauth-credential"],
] as const;

describe("the aliased packages", () => {
  it("are mssql 11 with tedious 18, and TypeORM 0.3", () => {
    const mssqlDir = require.resolve("mssql-11/package.json");
    const mssqlPkg = require(mssqlDir) as { version: string };
    const tediousPkg = createRequire(mssqlDir)("tedious/package.json") as { version: string };
    expect(mssqlPkg.version).toMatch(/^11\./);
    // mssql 11 depends on tedious ^18 (not 19); tedious 18 runs on Node 20.
    expect(tediousPkg.version).toMatch(/^18\./);
    expect(typeorm03.version).toMatch(/^0\.3\./);
    expect(mssql11.ConnectionPool).not.toBe(mssql12.ConnectionPool);
  });
});

describe.each(TOKEN_MODES)("mssql 11, tokenMode %s", (tokenMode, authMode) => {
  it("a pool logs in with the demo app's token and runs queries", async () => {
    const tokenSource = demoAppTokenSource(standIns);
    const sql = createEntraMssql(mssql11, {
      tokenSource,
      tokenMode,
      ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
    });
    expect(sql.ConnectionPool).not.toBe(mssql11.ConnectionPool);
    const loginsBefore = standIns.sql.logins.length;
    const requestsBefore = identityRequests(standIns);
    const pool = await new sql.ConnectionPool(mssqlConfig(standIns, { max: 5 })).connect();
    try {
      expect(pool).toBeInstanceOf(mssql11.ConnectionPool);
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, i) => pool.request().input("n", sql.Int, i).query("SELECT @n AS n")),
      );
      expect(results.map((r) => r.recordset[0]?.n)).toEqual(Array.from({ length: 15 }, (_, i) => i));
      const logins = expectValidTokenLogins(standIns, loginsBefore, authMode);
      expect(logins.length).toBeGreaterThanOrEqual(2);
      expect(identityRequests(standIns) - requestsBefore).toBe(1);
    } finally {
      await pool.close();
      tokenSource.close();
    }
  });
});

describe.each([
  ["mssql 12", mssql12],
  ["mssql 11", mssql11],
] as const)("TypeORM 0.3 with %s", (_name, mssql) => {
  describe.each(TOKEN_MODES)("tokenMode %s", (tokenMode, authMode) => {
    it("initializes, CRUD via EntitySchema, transactions, valid-token logins", async () => {
      const tableName = `compat_notes_${++tableCounter}`;
      const tokenSource = demoAppTokenSource(standIns);
      const loginsBefore = standIns.sql.logins.length;
      const requestsBefore = identityRequests(standIns);
      const options = entraDataSourceOptions({
        tokenSource,
        tokenMode,
        ...(tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
        mssql,
        ...server(standIns),
        options: standIns.sql.tlsOptions(),
        synchronize: false,
        pool: { max: 5, min: 0 },
      });
      // Entities go straight to TypeORM 0.3's DataSource, not through entraDataSourceOptions: in this
      // workspace @entra-sql/typeorm's types resolve "typeorm" to 1.1, whose EntitySchema type differs
      // from 0.3's (tsc TS2322). With 0.3 as the app's only "typeorm" they type-check passed inline.
      const dataSource = new DataSource({ ...options, entities: [noteSchema(tableName)] });
      await dataSource.initialize();
      try {
        // TypeORM 0.3's driver got our wrapped module, built from the injected mssql.
        const driver = dataSource.driver as unknown as { mssql: unknown };
        expect(driver.mssql).toBe(options.driver);
        expect(new options.driver.ConnectionPool({ server: "x" })).toBeInstanceOf(mssql.ConnectionPool);

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
});
