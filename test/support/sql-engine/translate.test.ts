import { describe, expect, it } from "vitest";
import type { Plan, Slot } from "./plan.js";
import { testCatalog } from "./test-catalog.js";
import { translateBatch } from "./translate.js";
import { VERSION_STRING } from "./translate-query.js";
import { SqlServerError } from "./types.js";

// Pure translation tests: T-SQL in, Postgres SQL and parameter order out. No PGlite.

function translate(sql: string): Plan[] {
  return translateBatch(sql, { catalog: testCatalog, databaseName: "appdb" });
}

/** The Postgres statements of a batch's plans, with their slots. */
function pg(sql: string): { sql: string; slots: Slot[] }[] {
  return translate(sql).flatMap((plan) => {
    switch (plan.kind) {
      case "query":
        return [plan.pg];
      case "ddl":
        return plan.statements;
      case "tableVarInsert":
        return [plan.source];
      case "if":
        return [plan.condition];
      default:
        return [];
    }
  });
}

function pgSql(sql: string): string[] {
  return pg(sql).map((s) => s.sql);
}

const p = (name: string): Slot => ({ kind: "param", name });
const session = (name: Slot & { kind: "session" } extends { name: infer N } ? N : never): Slot => ({
  kind: "session",
  name,
});

function errorOf(sql: string): SqlServerError {
  try {
    translate(sql);
  } catch (error) {
    if (error instanceof SqlServerError) return error;
    throw error;
  }
  throw new Error(`no error for ${sql}`);
}

describe("SELECT", () => {
  it.each<[string, string, Slot[]]>([
    ["SELECT 1", 'SELECT 1 AS "?column?"', []],
    ["SELECT 1 AS x", 'SELECT 1 AS "x"', []],
    ["SELECT 1;", 'SELECT 1 AS "?column?"', []],
    ['SELECT SCHEMA_NAME() AS "schema_name"', `SELECT CAST('dbo' AS varchar(128)) AS "schema_name"`, []],
    ['SELECT DB_NAME() AS "db_name"', `SELECT CAST('appdb' AS varchar(128)) AS "db_name"`, []],
    [
      "SELECT @@ROWCOUNT, @@TRANCOUNT, SCOPE_IDENTITY(), @@IDENTITY",
      'SELECT $1 AS "?column?", $2 AS "?column?", CAST($3 AS numeric(38,0)) AS "?column?", CAST($4 AS numeric(38,0)) AS "?column?"',
      [session("rowcount"), session("trancount"), session("scope_identity"), session("identity")],
    ],
    [
      "SELECT SUSER_SNAME(), USER_NAME(), NEWID()",
      'SELECT CAST($1 AS varchar(128)) AS "?column?", CAST($1 AS varchar(128)) AS "?column?", gen_random_uuid() AS "?column?"',
      [session("principal")],
    ],
    [
      "SELECT GETDATE(), SYSDATETIME(), GETUTCDATE(), SYSUTCDATETIME()",
      'SELECT CAST(clock_timestamp() AS timestamp(3)) AS "?column?", CAST(clock_timestamp() AS timestamp(6)) AS "?column?", CAST(clock_timestamp() AS timestamp(3)) AS "?column?", CAST(clock_timestamp() AS timestamp(6)) AS "?column?"',
      [],
    ],
    [
      "select top (@p0) * from [users] where [id] = @p1",
      'SELECT * FROM "dbo"."users" WHERE "id" = $1 LIMIT $2',
      [p("@p1"), p("@p0")],
    ],
    [
      "SELECT TOP 5 name FROM users ORDER BY name DESC",
      'SELECT "name" FROM "dbo"."users" ORDER BY "name" DESC NULLS LAST LIMIT 5',
      [],
    ],
    [
      "select * from [users] order by [id] asc offset @p0 rows fetch next @p1 rows only",
      'SELECT * FROM "dbo"."users" ORDER BY "id" NULLS FIRST OFFSET $1 ROWS FETCH NEXT $2 ROWS ONLY',
      [p("@p0"), p("@p1")],
    ],
    [
      'SELECT "User"."id" AS "User_id", "p"."title" AS "p_title" FROM "users" "User" LEFT JOIN "posts" "p" ON "p"."authorId"="User"."id" INNER JOIN tags t ON t.name = "User".name',
      'SELECT "User"."id" AS "User_id", "p"."title" AS "p_title" FROM "dbo"."users" AS "User" LEFT JOIN "dbo"."posts" AS "p" ON "p"."authorId" = "User"."id" INNER JOIN "dbo"."tags" AS "t" ON "t"."name" = "User"."name"',
      [],
    ],
    [
      "select * from [users] where [id] in (@p0, @p1) and [email] is null or [name] like @p2",
      'SELECT * FROM "dbo"."users" WHERE "id" IN ($1, $2) AND "email" IS NULL OR "name" LIKE $3',
      [p("@p0"), p("@p1"), p("@p2")],
    ],
    [
      "select * from [users] where [id] between @p0 and @p1 and [id] not in (select [authorId] from [posts])",
      'SELECT * FROM "dbo"."users" WHERE "id" BETWEEN $1 AND $2 AND "id" NOT IN (SELECT "authorId" FROM "dbo"."posts")',
      [p("@p0"), p("@p1")],
    ],
    [
      "select count(*) as [n], sum(version), avg(version), min(name), max(name) from users group by active having count(*) > 1",
      'SELECT CAST(count(*) AS integer) AS "n", tsql.sum("version") AS "?column?", tsql.avg("version") AS "?column?", min("name") AS "?column?", max("name") AS "?column?" FROM "dbo"."users" GROUP BY "active" HAVING CAST(count(*) AS integer) > 1',
      [],
    ],
    [
      "SELECT u.name, COUNT(p.id) AS posts FROM users AS u WITH (NOLOCK) LEFT OUTER JOIN posts p (NOLOCK) ON p.authorId = u.id GROUP BY u.name",
      'SELECT "u"."name", CAST(count("p"."id") AS integer) AS "posts" FROM "dbo"."users" AS "u" LEFT JOIN "dbo"."posts" AS "p" ON "p"."authorId" = "u"."id" GROUP BY "u"."name"',
      [],
    ],
    [
      "SELECT id FROM users WITH (UPDLOCK, ROWLOCK) WHERE id = 1",
      'SELECT "id" FROM "dbo"."users" WHERE "id" = 1',
      [],
    ],
    [
      "SELECT CAST(id AS nvarchar(10)) + N'-' + name, CONVERT(varchar(20), balance), ISNULL(email, 'none'), COALESCE(email, name), LEN(name), UPPER(name), LOWER(name) FROM users",
      `SELECT CAST("id" AS varchar(10)) + '-' + "name" AS "?column?", CAST("balance" AS varchar(20)) AS "?column?", COALESCE("email", 'none') AS "?column?", COALESCE("email", "name") AS "?column?", length(rtrim(CAST("name" AS text))) AS "?column?", upper("name") AS "?column?", lower("name") AS "?column?" FROM "dbo"."users"`,
      [],
    ],
    [
      "SELECT id FROM users WHERE name = 'O''Brien' AND email <> N'x' AND id != 3 AND id !< 1",
      `SELECT "id" FROM "dbo"."users" WHERE "name" = 'O''Brien' AND "email" <> 'x' AND "id" <> 3 AND "id" >= 1`,
      [],
    ],
    [
      "SELECT CASE WHEN active = 1 THEN 'yes' ELSE 'no' END AS a, IIF(id > 1, 1, 0) FROM users",
      `SELECT CASE WHEN "active" = 1 THEN 'yes' ELSE 'no' END AS "a", CASE WHEN "id" > 1 THEN 1 ELSE 0 END AS "?column?" FROM "dbo"."users"`,
      [],
    ],
    [
      "SELECT name FROM users UNION ALL SELECT title FROM posts ORDER BY 1",
      'SELECT "name" FROM "dbo"."users" UNION ALL SELECT "title" FROM "dbo"."posts" ORDER BY 1 NULLS FIRST',
      [],
    ],
    [
      "SELECT 0x0102 AS b, -id, ~id, id & 3, id ^ 1, id % 2 FROM users",
      `SELECT CAST('\\x0102' AS bytea) AS "b", -"id" AS "?column?", ~"id" AS "?column?", ("id" & 3) AS "?column?", ("id" # 1) AS "?column?", "id" % 2 AS "?column?" FROM "dbo"."users"`,
      [],
    ],
    [
      "SELECT DATEADD(day, 1, createdAt), DATEDIFF(hour, createdAt, GETDATE()), YEAR(createdAt) FROM users",
      `SELECT tsql.dateadd('day', 1, "createdAt") AS "?column?", tsql.datediff('hour', "createdAt", CAST(clock_timestamp() AS timestamp(3))) AS "?column?", tsql.datepart('year', "createdAt") AS "?column?" FROM "dbo"."users"`,
      [],
    ],
    [
      "SELECT * FROM [dbo].[users] WHERE [dbo].[users].[id] = @id OR @id IS NULL",
      'SELECT * FROM "dbo"."users" WHERE "dbo"."users"."id" = $1 OR $1 IS NULL',
      [p("@id")],
    ],
    [
      "SELECT * FROM Users WHERE EXISTS (SELECT 1 FROM posts WHERE posts.authorId = Users.id)",
      'SELECT * FROM "dbo"."users" WHERE EXISTS (SELECT 1 FROM "dbo"."posts" WHERE "posts"."authorId" = "users"."id")',
      [],
    ],
    [
      "SELECT (SELECT COUNT(*) FROM posts) AS n, x = 1, 2 'two'",
      'SELECT (SELECT CAST(count(*) AS integer) FROM "dbo"."posts") AS "n", 1 AS "x", 2 AS "two"',
      [],
    ],
  ])("%s", (tsql, expected, slots) => {
    expect(pg(tsql)).toEqual([{ sql: expected, slots }]);
  });

  it("@@VERSION says it is the stand-in, shaped like SQL Server's", () => {
    expect(pgSql("SELECT @@VERSION")).toEqual([
      `SELECT CAST('${VERSION_STRING}' AS varchar(300)) AS "?column?"`,
    ]);
    expect(VERSION_STRING).toMatch(/^Microsoft SQL Server 2022 .*\(entra-sql stand-in/);
  });

  it("column names and aliases resolve case-insensitively like SQL Server's default collation", () => {
    expect(pgSql("SELECT U.NAME, Email, ID FROM Users u WHERE u.Active = 1 ORDER BY U.Id")).toEqual([
      'SELECT "u"."name" AS "NAME", "email" AS "Email", "id" AS "ID" FROM "dbo"."users" AS "u" WHERE "u"."active" = 1 ORDER BY "u"."id" NULLS FIRST',
    ]);
    expect(pgSql("UPDATE USERS SET NAME = 'x' OUTPUT INSERTED.NAME WHERE ID = 1")).toEqual([
      `UPDATE "dbo"."users" SET "name" = 'x' WHERE "id" = 1 RETURNING new."name" AS "NAME"`,
    ]);
    expect(pgSql("INSERT INTO Tags (NAME) VALUES ('t')")).toEqual([
      `INSERT INTO "dbo"."tags" ("name") VALUES ('t')`,
    ]);
    // Only when unambiguous: a derived table in scope could hold the name, so it is left alone.
    expect(pgSql("SELECT Name FROM users, (SELECT 1 AS Name) d")).toEqual([
      'SELECT "Name" FROM "dbo"."users", (SELECT 1 AS "Name") AS "d"',
    ]);
  });

  it("the same @name twice maps to one $n; names are case-insensitive", () => {
    expect(pg("SELECT * FROM users WHERE id = @Id OR version = @ID")).toEqual([
      { sql: 'SELECT * FROM "dbo"."users" WHERE "id" = $1 OR "version" = $1', slots: [p("@id")] },
    ]);
  });

  it("SELECT * FROM @table is answered from the table variable", () => {
    const plans = translate('DECLARE @t TABLE ("id" int); SELECT * FROM @t');
    expect(plans[1]).toEqual({ kind: "tableVarSelect", name: "@t" });
  });

  it("other table variable reads expand to a placeholder filled at execution", () => {
    const [, plan] = translate(
      "DECLARE @t TABLE (id int); SELECT u.name FROM users u JOIN @t x ON x.id = u.id",
    );
    expect(plan?.kind === "query" && plan.pg.sql).toBe(
      'SELECT "u"."name" FROM "dbo"."users" AS "u" INNER JOIN ⟦tv ["@t","x"]⟧ ON "x"."id" = "u"."id"',
    );
  });
});

describe("INSERT / UPDATE / DELETE", () => {
  it.each<[string, string[], Slot[][]]>([
    [
      "insert into [users] ([name]) output inserted.[id] values (@p0)",
      ['INSERT INTO "dbo"."users" ("name") VALUES ($1) RETURNING new."id" AS "id", new."id" AS "?identity?"'],
      [[p("@p0")]],
    ],
    [
      "insert into [users] ([name], [version]) values (@p0, @p1), (@p2, @p3)",
      [
        'INSERT INTO "dbo"."users" ("name", "version") VALUES ($1, $2), ($3, $4) RETURNING new."id" AS "?identity?"',
      ],
      [[p("@p0"), p("@p1"), p("@p2"), p("@p3")]],
    ],
    [
      // Prisma's createMany and nested creates qualify the columns of the list.
      "INSERT INTO [dbo].[users] ([dbo].[users].[name], [dbo].[users].[version]) VALUES (@P1,@P2),(@P3,@P4)",
      [
        'INSERT INTO "dbo"."users" ("name", "version") VALUES ($1, $2), ($3, $4) RETURNING new."id" AS "?identity?"',
      ],
      [[p("@p1"), p("@p2"), p("@p3"), p("@p4")]],
    ],
    ["insert into [tags] default values", ['INSERT INTO "dbo"."tags" DEFAULT VALUES'], [[]]],
    [
      "insert into tags (name) output inserted.* values ('a')",
      [`INSERT INTO "dbo"."tags" ("name") VALUES ('a') RETURNING new.*`],
      [[]],
    ],
    [
      "INSERT INTO users VALUES ('a', NULL, 1, 0, GETDATE(), 1)",
      [
        `INSERT INTO "dbo"."users" ("name", "email", "active", "balance", "createdAt", "version") VALUES ('a', NULL, 1, 0, CAST(clock_timestamp() AS timestamp(3)), 1) RETURNING new."id" AS "?identity?"`,
      ],
      [[]],
    ],
    [
      "INSERT INTO tags (name, weight) SELECT name, 1 FROM users WHERE active = 1",
      ['INSERT INTO "dbo"."tags" ("name", "weight") SELECT "name", 1 FROM "dbo"."users" WHERE "active" = 1'],
      [[]],
    ],
    [
      "update [users] set [name] = @p0 where [id] = @p1;select @@rowcount",
      ['UPDATE "dbo"."users" SET "name" = $1 WHERE "id" = $2', 'SELECT $1 AS "?column?"'],
      [[p("@p0"), p("@p1")], [session("rowcount")]],
    ],
    [
      "update [users] set [name] = @p0 output inserted.[id], inserted.[name] where [id] = @p1",
      [
        'UPDATE "dbo"."users" SET "name" = $1 WHERE "id" = $2 RETURNING new."id" AS "id", new."name" AS "name"',
      ],
      [[p("@p0"), p("@p1")]],
    ],
    [
      "UPDATE users WITH (ROWLOCK) SET users.name = 'x' OUTPUT DELETED.name AS old_name, INSERTED.name WHERE id = 1",
      [
        `UPDATE "dbo"."users" SET "name" = 'x' WHERE "id" = 1 RETURNING old."name" AS "old_name", new."name" AS "name"`,
      ],
      [[]],
    ],
    [
      "delete from [users] where [id] = @p0;select @@rowcount",
      ['DELETE FROM "dbo"."users" WHERE "id" = $1', 'SELECT $1 AS "?column?"'],
      [[p("@p0")], [session("rowcount")]],
    ],
    [
      "delete from [users] output deleted.[id] where [id] = @p0",
      ['DELETE FROM "dbo"."users" WHERE "id" = $1 RETURNING old."id" AS "id"'],
      [[p("@p0")]],
    ],
    [
      "DECLARE @t TABLE (name nvarchar(50), w int); INSERT INTO @t VALUES ('a', 1), ('b', 2)",
      [
        "VALUES (CAST('a' AS varchar(50)), CAST(1 AS integer)), (CAST('b' AS varchar(50)), CAST(2 AS integer))",
      ],
      [[]],
    ],
  ])("%s", (tsql, sqls, slots) => {
    expect(pg(tsql)).toEqual(sqls.map((sql, i) => ({ sql, slots: slots[i] })));
  });

  it("the TypeORM insert: OUTPUT INTO a table variable casts to its declared types", () => {
    const plans = translate(
      'DECLARE @OutputTable TABLE ("id" int, "balance" decimal); INSERT INTO "users"("name") OUTPUT INSERTED."id", INSERTED."balance" INTO @OutputTable VALUES (@0); SELECT * FROM @OutputTable',
    );
    expect(plans.map((plan) => plan.kind)).toEqual(["declareTable", "query", "tableVarSelect"]);
    expect(plans[0]).toMatchObject({
      columns: [
        { name: "id", sqlType: { kind: "int" }, pg: "integer" },
        { name: "balance", sqlType: { kind: "decimal", precision: 18, scale: 0 }, pg: "numeric(18,0)" },
      ],
    });
    expect(plans[1]).toMatchObject({
      kind: "query",
      outputInto: "@outputtable",
      returnsRows: false,
      identityCapture: true,
      pg: {
        sql: 'INSERT INTO "dbo"."users" ("name") VALUES ($1) RETURNING CAST(new."id" AS integer) AS "id", CAST(new."balance" AS numeric(18,0)) AS "balance", new."id" AS "?identity?"',
        slots: [p("@0")],
      },
    });
  });

  it("an explicit identity column gets an OVERRIDING SYSTEM VALUE variant for IDENTITY_INSERT", () => {
    const [plan] = translate("INSERT INTO users (id, name, version) VALUES (10, 'x', 1)");
    expect(plan?.kind === "query" && plan.identityInsertPg?.sql).toBe(
      `INSERT INTO "dbo"."users" ("id", "name", "version") OVERRIDING SYSTEM VALUE VALUES (10, 'x', 1) RETURNING new."id" AS "?identity?"`,
    );
  });

  it("value counts that do not match the columns fail like SQL Server", () => {
    expect(errorOf("INSERT INTO tags (name, weight) VALUES ('a')").number).toBe(109);
    expect(errorOf("INSERT INTO tags (name) VALUES ('a', 1)").number).toBe(110);
  });
});

describe("DDL", () => {
  it("CREATE TABLE maps types, IDENTITY, defaults and constraints, and records T-SQL types", () => {
    expect(
      pgSql(
        'CREATE TABLE "orders" ("id" int NOT NULL IDENTITY(1,1), "userId" int NOT NULL, "total" decimal(10,2) NOT NULL CONSTRAINT "DF_t" DEFAULT 0, "ref" uniqueidentifier NOT NULL DEFAULT NEWID(), "at" datetime NOT NULL DEFAULT (getdate()), "note" nvarchar(max), "flag" bit DEFAULT ((1)), CONSTRAINT "PK_orders" PRIMARY KEY ("id"), CONSTRAINT "FK_orders_users" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE, CONSTRAINT "UQ_ref" UNIQUE ("ref"), CHECK ("total" >= 0))',
      ),
    ).toEqual([
      'CREATE TABLE "dbo"."orders" ("id" integer GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1) NOT NULL, "userId" integer NOT NULL, "total" numeric(10,2) NOT NULL DEFAULT 0, "ref" uuid NOT NULL DEFAULT gen_random_uuid(), "at" timestamp(3) NOT NULL DEFAULT (CAST(clock_timestamp() AS timestamp(3))), "note" text, "flag" boolean DEFAULT ((1)), CONSTRAINT "PK_orders" PRIMARY KEY ("id"), CONSTRAINT "FK_orders_users" FOREIGN KEY ("userId") REFERENCES "dbo"."users" ("id") ON DELETE CASCADE, CONSTRAINT "UQ_ref" UNIQUE ("ref"), CONSTRAINT "CK__orders__1DE64CE7" CHECK ("total" >= 0))',
      `COMMENT ON COLUMN "dbo"."orders"."id" IS 'tsql:{"kind":"int"}'`,
      `COMMENT ON COLUMN "dbo"."orders"."userId" IS 'tsql:{"kind":"int"}'`,
      `COMMENT ON COLUMN "dbo"."orders"."total" IS 'tsql:{"kind":"decimal","precision":10,"scale":2}'`,
      `COMMENT ON COLUMN "dbo"."orders"."ref" IS 'tsql:{"kind":"uniqueidentifier"}'`,
      `COMMENT ON COLUMN "dbo"."orders"."at" IS 'tsql:{"kind":"datetime"}'`,
      `COMMENT ON COLUMN "dbo"."orders"."note" IS 'tsql:{"kind":"nvarchar","maxLength":"max"}'`,
      `COMMENT ON COLUMN "dbo"."orders"."flag" IS 'tsql:{"kind":"bit"}'`,
    ]);
  });

  it("Knex's migration table: inline primary key, generated SQL Server-style constraint name", () => {
    const [create] = pgSql(
      "CREATE TABLE [knex_migrations2] ([id] int identity(1,1) not null primary key, [name] nvarchar(255), [batch] int, [migration_time] datetime2)",
    );
    expect(create).toBe(
      'CREATE TABLE "dbo"."knex_migrations2" ("id" integer GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1) NOT NULL CONSTRAINT "PK__knex_mig__184D2E854588A99B" PRIMARY KEY, "name" varchar(255), "batch" integer, "migration_time" timestamp(6))',
    );
  });

  it.each<[string, string[]]>([
    ["DROP TABLE [tags]", ['DROP TABLE "dbo"."tags"']],
    ["DROP TABLE IF EXISTS [nope]", []],
    ["TRUNCATE TABLE tags", ['TRUNCATE TABLE "dbo"."tags" RESTART IDENTITY']],
    [
      "CREATE INDEX [users_name_index] ON [users] ([name])",
      ['CREATE INDEX "users_name_index" ON "dbo"."users" ("name")'],
    ],
    [
      "CREATE UNIQUE NONCLUSTERED INDEX [users_name_unique] ON [users] ([name] DESC) INCLUDE (email) WHERE [name] IS NOT NULL",
      [
        'CREATE UNIQUE INDEX "users_name_unique" ON "dbo"."users" ("name" DESC) INCLUDE ("email") WHERE "name" IS NOT NULL',
      ],
    ],
    ["DROP INDEX users_name_index ON users", ['DROP INDEX "dbo"."users_name_index"']],
    ["DROP INDEX IF EXISTS users.ix", ['DROP INDEX IF EXISTS "dbo"."ix"']],
    [
      "ALTER TABLE [users] ADD [nick] nvarchar(255)",
      [
        'ALTER TABLE "dbo"."users" ADD COLUMN "nick" varchar(255)',
        `COMMENT ON COLUMN "dbo"."users"."nick" IS 'tsql:{"kind":"nvarchar","maxLength":255}'`,
      ],
    ],
    [
      'ALTER TABLE "posts" ADD CONSTRAINT "FK_c5a322ad12a7bf95460c958e80e" FOREIGN KEY ("authorId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
      [
        'ALTER TABLE "dbo"."posts" ADD CONSTRAINT "FK_c5a322ad12a7bf95460c958e80e" FOREIGN KEY ("authorId") REFERENCES "dbo"."users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION',
      ],
    ],
    [
      "ALTER TABLE users ALTER COLUMN email nvarchar(320) NOT NULL",
      [
        'ALTER TABLE "dbo"."users" ALTER COLUMN "email" TYPE varchar(320) USING CAST("email" AS varchar(320)), ALTER COLUMN "email" SET NOT NULL',
        `COMMENT ON COLUMN "dbo"."users"."email" IS 'tsql:{"kind":"nvarchar","maxLength":320}'`,
      ],
    ],
    [
      "ALTER TABLE users DROP COLUMN email, nick",
      ['ALTER TABLE "dbo"."users" DROP COLUMN "email", DROP COLUMN "nick"'],
    ],
    [
      "ALTER TABLE users DROP CONSTRAINT IF EXISTS UQ_x",
      ['ALTER TABLE "dbo"."users" DROP CONSTRAINT IF EXISTS "UQ_x"'],
    ],
    [
      "IF OBJECT_ID(N'dbo.widgets', N'U') IS NULL CREATE TABLE dbo.widgets (id int PRIMARY KEY)",
      ["SELECT CASE WHEN tsql.object_id('dbo.widgets', 'U') IS NULL THEN 1 ELSE 0 END"],
    ],
    [
      "if object_id('[users]', 'U') is not null DROP TABLE [users]",
      ["SELECT CASE WHEN tsql.object_id('[users]', 'U') IS NOT NULL THEN 1 ELSE 0 END"],
    ],
  ])("%s", (tsql, expected) => {
    expect(pgSql(tsql)).toEqual(expected);
  });

  it("IF keeps the statement to run for execution, where the catalog may have changed", () => {
    const [plan] = translate(
      "IF OBJECT_ID('x') IS NULL BEGIN CREATE TABLE x (a int); CREATE INDEX ix ON x (a) END ELSE SELECT 1",
    );
    expect(plan).toMatchObject({
      kind: "if",
      thenBranch: {
        stmt: { t: "block" },
        text: "BEGIN CREATE TABLE x (a int); CREATE INDEX ix ON x (a) END",
      },
      elseBranch: { text: "SELECT 1" },
    });
  });

  it("CREATE TABLE of an existing table is 2714, DROP of a missing one 3701", () => {
    expect(errorOf("CREATE TABLE users (a int)").number).toBe(2714);
    expect(errorOf("DROP TABLE nope")).toMatchObject({
      number: 3701,
      message: "Cannot drop the table 'nope', because it does not exist or you do not have permission.",
    });
  });
});

describe("transactions, SET, DECLARE", () => {
  it.each<[string, Plan[]]>([
    ["BEGIN TRAN", [{ kind: "begin" }]],
    ["BEGIN TRANSACTION t1", [{ kind: "begin", name: "t1" }]],
    ["COMMIT", [{ kind: "commit" }]],
    ["COMMIT TRANSACTION", [{ kind: "commit" }]],
    ["ROLLBACK", [{ kind: "rollback" }]],
    ["ROLLBACK TRANSACTION typeorm_1", [{ kind: "rollback", name: "typeorm_1" }]],
    ["SAVE TRANSACTION typeorm_1", [{ kind: "save", name: "typeorm_1" }]],
    ["SAVE TRAN [sp 1]", [{ kind: "save", name: "sp 1" }]],
    ["SET NOCOUNT ON", [{ kind: "option", option: "NOCOUNT", value: "ON" }]],
    ["SET XACT_ABORT OFF", [{ kind: "option", option: "XACT_ABORT", value: "OFF" }]],
    ["SET LOCK_TIMEOUT -1", [{ kind: "option", option: "LOCK_TIMEOUT", value: "-1" }]],
    [
      "SET ANSI_NULLS, QUOTED_IDENTIFIER ON",
      [
        {
          kind: "block",
          statements: [
            { stmt: { t: "setOption", option: "ANSI_NULLS", value: "ON" }, text: "SET ANSI_NULLS ON" },
            {
              stmt: { t: "setOption", option: "QUOTED_IDENTIFIER", value: "ON" },
              text: "SET QUOTED_IDENTIFIER ON",
            },
          ],
        },
      ],
    ],
  ])("%s", (tsql, expected) => {
    expect(translate(tsql)).toEqual(expected);
  });

  it("tedious' login batch: fifteen newline-separated SET statements, all accepted", () => {
    const batch = [
      "set ansi_nulls on",
      "set ansi_null_dflt_on on",
      "set ansi_padding on",
      "set ansi_warnings on",
      "set arithabort on",
      "set concat_null_yields_null on",
      "set cursor_close_on_commit off",
      "set datefirst 7",
      "set dateformat mdy",
      "set implicit_transactions off",
      "set language us_english",
      "set numeric_roundabort off",
      "set quoted_identifier on",
      "set textsize 2147483647",
      "set transaction isolation level read committed",
    ].join("\n");
    const plans = translate(batch);
    expect(plans).toHaveLength(15);
    expect(
      plans.map((plan) => (plan.kind === "option" ? `${plan.option}=${plan.value}` : plan.kind)),
    ).toEqual([
      "ANSI_NULLS=ON",
      "ANSI_NULL_DFLT_ON=ON",
      "ANSI_PADDING=ON",
      "ANSI_WARNINGS=ON",
      "ARITHABORT=ON",
      "CONCAT_NULL_YIELDS_NULL=ON",
      "CURSOR_CLOSE_ON_COMMIT=OFF",
      "DATEFIRST=7",
      "DATEFORMAT=MDY",
      "IMPLICIT_TRANSACTIONS=OFF",
      "LANGUAGE=US_ENGLISH",
      "NUMERIC_ROUNDABORT=OFF",
      "QUOTED_IDENTIFIER=ON",
      "TEXTSIZE=2147483647",
      "TRANSACTION ISOLATION LEVEL=READ COMMITTED",
    ]);
  });

  it("SET IDENTITY_INSERT names a table with an identity column", () => {
    expect(translate("SET IDENTITY_INSERT users ON")).toMatchObject([{ kind: "identityInsert", on: true }]);
    expect(errorOf("SET IDENTITY_INSERT tags ON").number).toBe(8106);
  });

  it("DECLARE and SET of scalar variables", () => {
    expect(translate("DECLARE @x int = 5, @s nvarchar(20); SET @s = N'a'; SELECT @x AS x, @s AS s")).toEqual([
      {
        kind: "declareVariables",
        variables: [
          { name: "@x", sqlType: { kind: "int" }, init: { sql: "SELECT CAST(5 AS integer)", slots: [] } },
          { name: "@s", sqlType: { kind: "nvarchar", maxLength: 20 } },
        ],
      },
      { kind: "setVariable", name: "@s", value: { sql: `SELECT 'a' AS "?column?"`, slots: [] } },
      {
        kind: "query",
        verb: "SELECT",
        pg: { sql: 'SELECT $1 AS "x", $2 AS "s"', slots: [p("@x"), p("@s")] },
        returnsRows: true,
        identityCapture: false,
      },
    ]);
  });
});

describe("errors at translation", () => {
  it.each<[string, number, RegExp]>([
    ["SELECT * FROM nope", 208, /^Invalid object name 'nope'\.$/],
    ["SELECT * FROM [dbo].[nope]", 208, /^Invalid object name 'dbo\.nope'\.$/],
    ["SELECT * FROM otherdb.dbo.users", 208, /^Invalid object name 'otherdb\.dbo\.users'\.$/],
    ["SELECT FOOBAR(1)", 195, /^'foobar' is not a recognized built-in function name\.$/],
    ["SELECT LEN(1, 2)", 174, /^The len function requires 1 argument\(s\)\.$/],
    ["SELECT @@FOO", 137, /^Must declare the scalar variable "@@FOO"\.$/],
    ["SELECT * FROM @t", 1087, /^Must declare the table variable "@t"\.$/],
    ["USE otherdb", 911, /^Database 'otherdb' does not exist/],
    ["SELEC 1", 2812, /^Could not find stored procedure 'SELEC'\.$/],
    ["SELECT FROM users", 156, /^Incorrect syntax near the keyword 'FROM'\.$/],
    ["SELECT 1 +", 102, /^Incorrect syntax near '\+'\.$/],
    ["SELECT 'abc", 105, /^Unclosed quotation mark after the character string 'abc'\.$/],
    ["SELECT 1 /* open", 113, /^Missing end comment mark/],
  ])("%s -> %i", (tsql, number, message) => {
    const error = errorOf(tsql);
    expect(error.number).toBe(number);
    expect(error.message).toMatch(message);
  });

  it.each<[string, string]>([
    ["WITH x AS (SELECT 1 AS a) SELECT * FROM x", "common table expressions (WITH)"],
    ["MERGE users AS t USING posts AS s ON 1=0 WHEN MATCHED THEN DELETE;", "MERGE"],
    ["EXEC sp_who", "EXEC / stored procedures"],
    ["SELECT ROW_NUMBER() OVER (ORDER BY id) FROM users", "window functions (OVER)"],
    ["SELECT * FROM users u CROSS APPLY (SELECT 1 AS x) y", "CROSS/OUTER APPLY"],
    ["SELECT FORMAT(GETDATE(), 'yyyy')", "function FORMAT"],
    ["SELECT * FROM #temp", "temporary tables (#name)"],
    ["SELECT * INTO x FROM users", "SELECT ... INTO"],
    ["UPDATE users SET name = 'x' FROM users u", "UPDATE ... FROM"],
    ["CREATE VIEW v AS SELECT 1 AS a", "CREATE VIEW"],
    ["SET ROWCOUNT 10", "SET ROWCOUNT other than 0"],
    ["SET IMPLICIT_TRANSACTIONS ON", "SET IMPLICIT_TRANSACTIONS ON"],
    ["SELECT TOP 10 PERCENT * FROM users", "TOP ... PERCENT"],
    ["CREATE TABLE t (x xml)", "data type xml"],
    ["SELECT CONVERT(varchar(10), GETDATE(), 120)", "CONVERT with a style to a string type"],
  ])("unsupported: %s", (tsql, reason) => {
    const error = errorOf(tsql);
    expect(error.number).toBe(50501);
    expect(error.severity).toBe(16);
    expect(error.message).toContain(
      `The entra-sql SQL stand-in does not support this statement: ${tsql.replace(/;$/, "")} (${reason}). Supported: `,
    );
  });

  it("the unsupported-statement text quotes at most 200 characters of the statement", () => {
    const long = `SELECT ${"a, ".repeat(100)}ROW_NUMBER() OVER (ORDER BY id) FROM users`;
    const error = errorOf(long);
    expect(error.message).toContain(
      `does not support this statement: ${long.slice(0, 200)}... (window functions (OVER))`,
    );
  });
});
