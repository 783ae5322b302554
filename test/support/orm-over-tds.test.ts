import "reflect-metadata";
import { ClientSecretCredential } from "@azure/identity";
import knexFactory, { type Knex } from "knex";
import { DataSource, EntitySchema, type QueryRunner } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlEngine } from "./sql-engine/index.js";
import type { BatchOutcome, SqlEngine, SqlParameter, SqlSession } from "./sql-engine/types.js";
import { type StandIns, startStandIns } from "./stand-ins.js";

// Real Knex 3.3 (client "mssql": real tedious) and real TypeORM 1.1 (type "mssql": real node-mssql +
// tedious) against both stand-ins: the demo app gets an access token from the local Entra ID with
// ClientSecretCredential, logs in over TLS to the TDS stand-in with it, and the ORMs' statements run on
// the embedded SQL engine. The engine is wrapped in a recorder, so the statements are checked word for
// word as the TDS server handed them to the engine, with their results as the ORMs read them.

/** An SqlEngine that forwards everything to `inner` and records the text of every `execute`. */
class RecordingEngine implements SqlEngine {
  readonly sent: string[] = [];

  constructor(
    private readonly inner: SqlEngine,
    /** Statements not to record. */
    private readonly skip: (sql: string) => boolean,
  ) {}

  get databaseName(): string {
    return this.inner.databaseName;
  }

  openSession(context: { principalName: string }): SqlSession {
    const session = this.inner.openSession(context);
    const record = (sql: string) => {
      if (!this.skip(sql)) this.sent.push(sql);
    };
    return {
      execute(sql: string, parameters?: readonly SqlParameter[]): Promise<BatchOutcome> {
        record(sql);
        return session.execute(sql, parameters);
      },
      beginTransaction: (name) => session.beginTransaction(name),
      commitTransaction: (name) => session.commitTransaction(name),
      rollbackTransaction: (name) => session.rollbackTransaction(name),
      saveTransaction: (name) => session.saveTransaction(name),
      get transactionCount() {
        return session.transactionCount;
      },
      close: () => session.close(),
    };
  }

  exec(sql: string): Promise<BatchOutcome> {
    return this.inner.exec(sql);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** node-mssql checks out each pooled connection with this (its default `validateConnection: true`). */
const MSSQL_POOL_PROBE = "SELECT 1;";

let engine: SqlEngine | undefined;
let recorder: RecordingEngine;
let standIns: StandIns;
/** The statements the engine received, in order (tests empty it before the part they check). */
let sent: string[];
let token: string;
/** tedious options: TLS inside PRELOGIN, the stand-in's certificate checked against the shared CA. */
let tls: ReturnType<StandIns["sql"]["tlsOptions"]>;

beforeAll(async () => {
  engine = await createSqlEngine({ databaseName: "appdb" });
  recorder = new RecordingEngine(engine, (sql) => sql === MSSQL_POOL_PROBE);
  sent = recorder.sent;
  // The caller owns an engine it passes in: closed in afterAll.
  standIns = await startStandIns({ sql: { database: "appdb", engine: recorder } });
  const { entra, demo } = standIns;
  if (!demo) throw new Error("the demo identities are missing");
  const credential = new ClientSecretCredential(
    entra.tenantId,
    demo.app.clientId,
    demo.app.clientSecret ?? "",
    entra.credentialOptions(),
  );
  token = (await credential.getToken("https://database.windows.net/.default")).token;
  tls = standIns.sql.tlsOptions();
}, 60_000);

afterAll(async () => {
  await standIns?.close();
  await engine?.close();
});

describe("Knex 3.3 (mssql)", () => {
  let knex: Knex;

  const migrations = {
    getMigrations: async () => ["001_people"],
    getMigrationName: (name: string) => name,
    getMigration: async () => ({
      up: async (k: Knex) => {
        await k.schema.createTable("people", (t) => {
          t.increments("id");
          t.string("name", 100).notNullable();
          t.boolean("active").defaultTo(true);
          t.timestamps(true, true);
        });
      },
      down: async (k: Knex) => {
        await k.schema.dropTable("people");
      },
    }),
  };

  beforeAll(() => {
    // Knex maps `type`/`token` to tedious' authentication and spreads `options` over tedious' options.
    knex = knexFactory({
      client: "mssql",
      connection: {
        server: standIns.sql.host,
        port: standIns.sql.port,
        database: standIns.sql.database,
        type: "azure-active-directory-access-token",
        token,
        options: { ...tls },
      },
      pool: { min: 0, max: 4 },
    });
  });

  afterAll(async () => {
    await knex?.destroy();
  });

  it("migrate.latest(): creates knex_migrations and the lock table, locks, migrates, unlocks", async () => {
    sent.length = 0;
    await knex.migrate.latest({ migrationSource: migrations });
    expect(sent).toEqual([
      "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = @p0",
      "CREATE TABLE [knex_migrations] ([id] int identity(1,1) not null primary key, [name] nvarchar(255), [batch] int, [migration_time] datetime2)",
      "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = @p0",
      "CREATE TABLE [knex_migrations_lock] ([index] int identity(1,1) not null primary key, [is_locked] int)",
      "select * from [knex_migrations_lock]",
      "select * from [knex_migrations_lock]",
      "insert into [knex_migrations_lock] ([is_locked]) values (@p0)",
      "select [name] from [knex_migrations] order by [id] asc",
      "update [knex_migrations_lock] set [is_locked] = @p0 where [is_locked] = @p1;select @@rowcount",
      "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = @p0",
      "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = @p0",
      "select * from [knex_migrations_lock]",
      "select [name] from [knex_migrations] order by [id] asc",
      "select max([batch]) as [max_batch] from [knex_migrations]",
      "CREATE TABLE [people] ([id] int identity(1,1) not null primary key, [name] nvarchar(100) not null, [active] bit CONSTRAINT [people_active_default] DEFAULT '1', [created_at] datetime2 not null CONSTRAINT [people_created_at_default] DEFAULT CURRENT_TIMESTAMP, [updated_at] datetime2 not null CONSTRAINT [people_updated_at_default] DEFAULT CURRENT_TIMESTAMP)",
      "insert into [knex_migrations] ([batch], [migration_time], [name]) values (@p0, @p1, @p2)",
      "update [knex_migrations_lock] set [is_locked] = @p0;select @@rowcount",
    ]);
    expect(await knex("knex_migrations").select("name", "batch")).toEqual([{ name: "001_people", batch: 1 }]);
    expect(await knex("knex_migrations_lock").select("is_locked")).toEqual([{ is_locked: 0 }]);
    expect(await knex.schema.hasTable("people")).toBe(true);
    expect(await knex.schema.hasColumn("people", "name")).toBe(true);
    expect(await knex.schema.hasColumn("people", "nope")).toBe(false);
  });

  it("CRUD: insert ... output, first(), update/delete with @@rowcount, count, whereIn, join", async () => {
    sent.length = 0;
    const [ann] = await knex("people").insert({ name: "ann" }, ["id"]);
    await knex("people").insert([{ name: "bob" }, { name: "cy", active: false }]);
    const first = await knex("people").where({ id: ann.id }).first();
    expect(first).toMatchObject({ id: ann.id, name: "ann", active: true });
    expect(first.created_at).toBeInstanceOf(Date);
    expect(await knex("people").where({ name: "bob" }).update({ name: "bobby" })).toBe(1);
    expect(await knex("people").count("* as n")).toEqual([{ n: 3 }]);
    expect(await knex("people").whereIn("name", ["ann", "cy"]).orderBy("name").pluck("name")).toEqual([
      "ann",
      "cy",
    ]);
    expect(await knex("people").where("active", false).pluck("name")).toEqual(["cy"]);
    expect(
      await knex("people as p")
        .leftJoin("knex_migrations as m", "m.id", "p.id")
        .select("p.name", "m.name as migration")
        .where("p.id", ann.id),
    ).toEqual([{ name: "ann", migration: "001_people" }]);
    expect(await knex("people").where({ name: "cy" }).del()).toBe(1);
    expect(sent).toEqual([
      "insert into [people] ([name]) output inserted.[id] values (@p0)",
      "insert into [people] ([active], [name]) values (DEFAULT, @p0), (@p1, @p2)",
      "select top (@p0) * from [people] where [id] = @p1",
      "update [people] set [name] = @p0 where [name] = @p1;select @@rowcount",
      "select count(*) as [n] from [people]",
      "select [name] from [people] where [name] in (@p0, @p1) order by [name] asc",
      "select [name] from [people] where [active] = @p0",
      "select [p].[name], [m].[name] as [migration] from [people] as [p] left join [knex_migrations] as [m] on [m].[id] = [p].[id] where [p].[id] = @p0",
      "delete from [people] where [name] = @p0;select @@rowcount",
    ]);
  });

  it("transactions: commit, and a nested transaction (savepoint) rolled back alone", async () => {
    await knex.transaction(async (trx) => {
      await trx("people").insert({ name: "in-trx" });
      await expect(
        trx.transaction(async (nested) => {
          await nested("people").insert({ name: "nested" });
          throw new Error("undo nested");
        }),
      ).rejects.toThrow("undo nested");
    });
    expect(await knex("people").whereIn("name", ["in-trx", "nested"]).pluck("name")).toEqual(["in-trx"]);
  });

  it("SQL errors reach Knex with SQL Server's number", async () => {
    await expect(knex("people").insert({ name: null })).rejects.toMatchObject({ number: 515 });
    await expect(knex("nope").select("*")).rejects.toMatchObject({
      number: 208,
      message: /Invalid object name 'nope'/,
    });
  });

  it("migrate.rollback(): deletes the migration row and drops the table", async () => {
    sent.length = 0;
    await knex.migrate.rollback({ migrationSource: migrations });
    expect(sent).toContain("DROP TABLE [people]");
    expect(sent).toContain("delete from [knex_migrations] where [name] = @p0;select @@rowcount");
    expect(await knex.schema.hasTable("people")).toBe(false);
    expect(await knex("knex_migrations").count("* as n")).toEqual([{ n: 0 }]);
  });
});

describe("TypeORM 1.1 (mssql, synchronize off)", () => {
  const User = new EntitySchema<{
    id: number;
    name: string;
    email: string | null;
    active: boolean;
    balance: number;
    createdAt: Date;
    updatedAt: Date;
    version: number;
    posts?: { id: number; title: string }[];
  }>({
    name: "User",
    tableName: "users",
    columns: {
      id: { type: Number, primary: true, generated: true },
      name: { type: String, length: 100 },
      email: { type: String, nullable: true, unique: true },
      active: { type: Boolean, default: true },
      balance: { type: "decimal", precision: 10, scale: 2, default: 0 },
      createdAt: { type: "datetime2", createDate: true },
      updatedAt: { type: "datetime2", updateDate: true },
      version: { type: Number, version: true },
    },
    relations: { posts: { type: "one-to-many", target: "Post", inverseSide: "author" } },
  });
  const Post = new EntitySchema<{ id: number; title: string; author?: { id: number } }>({
    name: "Post",
    tableName: "posts",
    columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
    relations: {
      author: {
        type: "many-to-one",
        target: "User",
        joinColumn: { name: "authorId" },
        inverseSide: "posts",
        onDelete: "CASCADE",
      },
    },
  });
  const Tag = new EntitySchema<{ id: string; label: string }>({
    name: "Tag",
    tableName: "tags",
    columns: { id: { type: "uniqueidentifier", primary: true, generated: "uuid" }, label: { type: String } },
  });
  class Init1700000000000 {
    name = "Init1700000000000";
    async up(queryRunner: QueryRunner) {
      await queryRunner.query(
        'CREATE TABLE "users" ("id" int NOT NULL IDENTITY(1,1), "name" nvarchar(100) NOT NULL, "email" nvarchar(255), "active" bit NOT NULL CONSTRAINT "DF_active" DEFAULT 1, "balance" decimal(10,2) NOT NULL CONSTRAINT "DF_balance" DEFAULT 0, "createdAt" datetime2 NOT NULL CONSTRAINT "DF_created" DEFAULT getdate(), "updatedAt" datetime2 NOT NULL CONSTRAINT "DF_updated" DEFAULT getdate(), "version" int NOT NULL, CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))',
      );
      await queryRunner.query(
        'CREATE TABLE "posts" ("id" int NOT NULL IDENTITY(1,1), "title" nvarchar(255) NOT NULL, "authorId" int, CONSTRAINT "PK_2829ac61eff60fcec60d7274b9e" PRIMARY KEY ("id"))',
      );
      await queryRunner.query(
        'ALTER TABLE "posts" ADD CONSTRAINT "FK_c5a322ad12a7bf95460c958e80e" FOREIGN KEY ("authorId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
      );
      await queryRunner.query(
        'CREATE TABLE "tags" ("id" uniqueidentifier NOT NULL CONSTRAINT "DF_tag_id" DEFAULT NEWSEQUENTIALID(), "label" nvarchar(255) NOT NULL, CONSTRAINT "PK_tags" PRIMARY KEY ("id"))',
      );
    }
    async down(queryRunner: QueryRunner) {
      await queryRunner.query('ALTER TABLE "posts" DROP CONSTRAINT "FK_c5a322ad12a7bf95460c958e80e"');
      await queryRunner.query('DROP TABLE "tags"');
      await queryRunner.query('DROP TABLE "posts"');
      await queryRunner.query('DROP TABLE "users"');
    }
  }

  let ds: DataSource;

  beforeAll(async () => {
    ds = new DataSource({
      type: "mssql",
      host: standIns.sql.host,
      port: standIns.sql.port,
      database: standIns.sql.database,
      authentication: { type: "azure-active-directory-access-token", options: { token } },
      options: { ...tls },
      entities: [User, Post, Tag],
      migrations: [Init1700000000000],
      migrationsTableName: "migrations",
      synchronize: false,
    });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it("runMigrations(): the migrations table, the migration inside a transaction, its row", async () => {
    sent.length = 0;
    const ran = await ds.runMigrations();
    expect(ran.map((m) => m.name)).toEqual(["Init1700000000000"]);
    const hasTable =
      'SELECT * FROM "appdb"."INFORMATION_SCHEMA"."TABLES" WHERE "TABLE_NAME" = @0 AND "TABLE_SCHEMA" = @1';
    expect(sent.slice(0, 3)).toEqual([
      hasTable,
      'CREATE TABLE "migrations" ("id" int NOT NULL IDENTITY(1,1), "timestamp" bigint NOT NULL, "name" varchar(255) NOT NULL, CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY ("id"))',
      'SELECT * FROM "appdb".."migrations" "migrations" ORDER BY "id" DESC',
    ]);
    expect(sent).toContain('INSERT INTO "appdb".."migrations"("timestamp", "name") VALUES (@0, @1)');
    expect(await ds.showMigrations()).toBe(false);
    // tedious reads bigint as a string (as from SQL Server).
    expect(await ds.query('SELECT "timestamp", "name" FROM "migrations"')).toEqual([
      { timestamp: "1700000000000", name: "Init1700000000000" },
    ]);
  });

  it("repository CRUD: insert/save through @OutputTable, findOneBy, relations, count, exists, update, delete", async () => {
    const users = ds.getRepository(User);
    sent.length = 0;
    await users.insert({ name: "alice", email: "a@x" });
    expect(sent[0]).toBe(
      'DECLARE @OutputTable TABLE ("id" int, "active" bit, "balance" decimal, "createdAt" datetime2, "updatedAt" datetime2, "version" int);\n\nINSERT INTO "users"("name", "email", "active", "balance", "createdAt", "updatedAt", "version") OUTPUT INSERTED."id", INSERTED."active", INSERTED."balance", INSERTED."createdAt", INSERTED."updatedAt", INSERTED."version" INTO @OutputTable VALUES (@0, @1, DEFAULT, DEFAULT, DEFAULT, DEFAULT, 1);\n\nSELECT * FROM @OutputTable',
    );
    const bob = await users.save({ name: "bob" });
    expect(bob).toMatchObject({ id: 2, name: "bob", active: true, version: 1 });
    expect(bob.createdAt).toBeInstanceOf(Date);
    await ds.getRepository(Post).save({ title: "hello", author: { id: bob.id } });

    sent.length = 0;
    const alice = await users.findOneBy({ id: 1 });
    expect(alice).toMatchObject({
      id: 1,
      name: "alice",
      email: "a@x",
      active: true,
      balance: 0, // tedious reads decimal as a number, and TypeORM keeps what the driver gives
      version: 1,
    });
    expect(sent).toEqual([
      'SELECT "User"."id" AS "User_id", "User"."name" AS "User_name", "User"."email" AS "User_email", "User"."active" AS "User_active", "User"."balance" AS "User_balance", "User"."createdAt" AS "User_createdAt", "User"."updatedAt" AS "User_updatedAt", "User"."version" AS "User_version" FROM "users" "User" WHERE (("User"."id" = @0)) ORDER BY (SELECT NULL) OFFSET 0 ROWS FETCH NEXT 1 ROWS ONLY',
    ]);

    const withPosts = await users.find({
      relations: { posts: true },
      where: { name: "bob" },
      order: { id: "DESC" },
      take: 5,
    });
    expect(withPosts).toHaveLength(1);
    expect(withPosts[0]?.posts).toEqual([{ id: 1, title: "hello" }]);
    expect(await users.count()).toBe(2);
    expect(await users.exists({ where: { name: "nobody" } })).toBe(false);
    expect(await users.exists({ where: { name: "alice" } })).toBe(true);

    sent.length = 0;
    expect((await users.update({ id: 1 }, { name: "alicia" })).affected).toBe(1);
    expect(sent).toEqual([
      'UPDATE "users" SET "name" = @0, "version" = "version" + 1, "updatedAt" = CURRENT_TIMESTAMP WHERE "id" = @1',
    ]);
    expect(await users.findOneBy({ id: 1 })).toMatchObject({ name: "alicia", version: 2 });
    const found = await users
      .createQueryBuilder("u")
      .where("u.name LIKE :n", { n: "%li%" })
      .andWhere("u.id IN (:...ids)", { ids: [1, 2] })
      .orderBy("u.id")
      .getMany();
    expect(found.map((u) => u.name)).toEqual(["alicia"]);
    expect((await users.delete({ id: 1 })).affected).toBe(1);
    expect(await users.count()).toBe(1);
  });

  it("save() of a loaded entity updates it (version check), remove() deletes it", async () => {
    const users = ds.getRepository(User);
    const bob = await users.findOneByOrFail({ name: "bob" });
    bob.name = "robert";
    sent.length = 0;
    const saved = await users.save(bob);
    expect(saved).toMatchObject({ name: "robert", version: 2 });
    expect(sent).toEqual([
      'SELECT "User"."id" AS "User_id", "User"."name" AS "User_name", "User"."email" AS "User_email", "User"."active" AS "User_active", "User"."balance" AS "User_balance", "User"."createdAt" AS "User_createdAt", "User"."updatedAt" AS "User_updatedAt", "User"."version" AS "User_version" FROM "users" "User" WHERE "User"."id" = @0',
      'DECLARE @OutputTable TABLE ("updatedAt" datetime2, "version" int);\n\nUPDATE "users" SET "name" = @0, "version" = "version" + 1, "updatedAt" = CURRENT_TIMESTAMP OUTPUT INSERTED."updatedAt", INSERTED."version" INTO @OutputTable WHERE "id" = @1;\n\nSELECT * FROM @OutputTable',
    ]);
    const temp = await users.save({ name: "temp" });
    await users.remove(temp);
    expect(await users.findOneBy({ name: "temp" })).toBeNull();
    bob.name = "bob";
    await users.save(bob);
  });

  it("uniqueidentifier primary keys generated by the database come back upper-case", async () => {
    const tags = ds.getRepository(Tag);
    const tag = await tags.save({ label: "t1" });
    expect(tag.id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(await tags.findOneBy({ id: tag.id })).toEqual({ id: tag.id, label: "t1" });
    expect(await tags.findOneBy({ id: tag.id.toLowerCase() })).toEqual({ id: tag.id, label: "t1" });
  });

  it("transactions: ds.transaction with a nested SAVE TRANSACTION typeorm_1 rolled back", async () => {
    sent.length = 0;
    await ds.transaction(async (manager) => {
      await manager.getRepository(User).insert({ name: "in-tx" });
      const runner = manager.queryRunner as QueryRunner;
      await runner.startTransaction();
      await manager.getRepository(User).insert({ name: "nested" });
      await runner.rollbackTransaction();
    });
    expect(sent).toContain("SAVE TRANSACTION typeorm_1");
    expect(sent).toContain("ROLLBACK TRANSACTION typeorm_1");
    const names = (await ds.getRepository(User).find({ order: { id: "ASC" } })).map((u) => u.name);
    expect(names).toEqual(["bob", "in-tx"]);
  });

  it("a unique violation surfaces as QueryFailedError carrying SQL Server's 2627", async () => {
    await ds.getRepository(User).insert({ name: "x1", email: "same@x" });
    await expect(ds.getRepository(User).insert({ name: "x2", email: "same@x" })).rejects.toMatchObject({
      name: "QueryFailedError",
      driverError: { number: 2627 },
      message: expect.stringContaining("Violation of UNIQUE KEY constraint 'UQ_97672ac88f789774dd47f7c8be3'"),
    });
  });

  it("undoLastMigration(): runs down() and deletes the migration row", async () => {
    sent.length = 0;
    await ds.undoLastMigration();
    expect(sent).toContain('DELETE FROM "appdb".."migrations" WHERE "timestamp" = @0 AND "name" = @1');
    expect(await ds.query('SELECT COUNT(*) AS "n" FROM "migrations"')).toEqual([{ n: 0 }]);
    expect(await ds.createQueryRunner().hasTable("users")).toBe(false);
  });
});

describe("over the wire", () => {
  it("every connection of both ORMs logged in as the demo app with its Entra token, over TLS", () => {
    const logins = standIns.sql.logins;
    expect(logins.length).toBeGreaterThanOrEqual(2);
    for (const login of logins) {
      expect(login).toMatchObject({
        ok: true,
        authMode: "fedauth-inline",
        encryption: "tls",
        principal: { kind: "app", appId: standIns.demo?.app.clientId, databaseUser: "entra-sql-demo-app" },
      });
    }
  });
});
