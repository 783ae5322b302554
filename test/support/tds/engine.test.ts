import sql from "mssql";
import { type Connection, type ConnectionAuthentication, Request, TYPES } from "tedious";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredUser } from "../entra/index.js";
import type { StandInEvent } from "./events.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import { close, connect, query, transactions, withTimeout } from "./test-helpers/tedious-client.js";

// The stand-in with the real embedded engine (test/support/sql-engine, the default): typed values
// round-trip through tables, transactions are real, errors carry the engine's SQL Server numbers.
// The engine boots once (PGlite, several seconds), lazily, on the first query.

const ENGINE_BOOT_TIMEOUT_MS = 30_000;

describe("with the embedded SQL engine", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let alice: RegisteredUser;
  const events: StandInEvent[] = [];
  const open: Connection[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    alice = identity.entra.registerUser({ upn: "alice@contoso.test" });
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      onEvent: (event) => events.push(event),
    });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => close(c).catch(() => undefined)));
  });

  afterAll(async () => {
    await standIn?.close();
    await identity?.close();
  });

  const auth = (): ConnectionAuthentication => ({
    type: "azure-active-directory-access-token",
    options: { token: identity.entra.mintAccessToken({ principal: alice }).token },
  });

  async function login(
    encrypt: boolean | "strict" = true,
    options: Record<string, unknown> = {},
  ): Promise<Connection> {
    const connection = await connect(standIn.connectionConfig({ authentication: auth(), encrypt, options }));
    open.push(connection);
    return connection;
  }

  it(
    "boots the engine on the first query, not at login, and runs as the database user",
    async () => {
      // The first query waits for the engine to boot: allow for it on the client side too.
      const connection = await login(true, { requestTimeout: ENGINE_BOOT_TIMEOUT_MS });
      expect(events.some((e) => e.type === "engine-started")).toBe(false);
      const { rows } = await query(connection, "SELECT USER_NAME() AS u, DB_NAME() AS db", {
        timeoutMs: ENGINE_BOOT_TIMEOUT_MS,
      });
      expect(rows).toEqual([{ u: "alice@contoso.test", db: "entra_sql_demo" }]);
      expect(events.filter((e) => e.type === "engine-started")).toHaveLength(1);
    },
    ENGINE_BOOT_TIMEOUT_MS + 5000,
  );

  it(
    "IS_ROLEMEMBER follows ALTER ROLE ... ADD MEMBER for the session's database user",
    async () => {
      const connection = await login(true, { requestTimeout: ENGINE_BOOT_TIMEOUT_MS });
      const sql = "SELECT IS_ROLEMEMBER('db_datareader') AS r, IS_ROLEMEMBER('db_owner') AS o";
      const before = await query(connection, sql, { timeoutMs: ENGINE_BOOT_TIMEOUT_MS });
      expect(before.rows).toEqual([{ r: 0, o: 0 }]);
      await query(connection, "ALTER ROLE [db_datareader] ADD MEMBER [alice@contoso.test]", { batch: true });
      expect((await query(connection, sql)).rows).toEqual([{ r: 1, o: 0 }]);
    },
    ENGINE_BOOT_TIMEOUT_MS + 5000,
  );

  it("round-trips typed sp_executesql parameters through the engine (int, bigint, bit, float, decimal, nvarchar, datetime2, uniqueidentifier, NULL)", async () => {
    const connection = await login();
    const when = new Date("2024-02-29T13:45:56.789Z");
    const { rows } = await query(
      connection,
      "SELECT @i AS i, @b AS b, @bit AS bit, @f AS f, @d AS d, @n AS n, @dt2 AS dt2, @g AS g, @nulli AS nulli, @nulls AS nulls",
      {
        params: [
          { name: "i", type: TYPES.Int, value: -42 },
          { name: "b", type: TYPES.BigInt, value: "9007199254740993" },
          { name: "bit", type: TYPES.Bit, value: false },
          { name: "f", type: TYPES.Float, value: 2.5e-8 },
          { name: "d", type: TYPES.Decimal, value: 1234.5678, options: { precision: 18, scale: 4 } },
          { name: "n", type: TYPES.NVarChar, value: "Zoë ✓ 日本" },
          { name: "dt2", type: TYPES.DateTime2, value: when },
          { name: "g", type: TYPES.UniqueIdentifier, value: "0E984725-C51C-4BF4-9960-E1C80E27ABA0" },
          { name: "nulli", type: TYPES.Int, value: null },
          { name: "nulls", type: TYPES.NVarChar, value: null },
        ],
      },
    );
    expect(rows).toEqual([
      {
        i: -42,
        b: "9007199254740993",
        bit: false,
        f: 2.5e-8,
        d: 1234.5678,
        n: "Zoë ✓ 日本",
        dt2: when,
        g: "0E984725-C51C-4BF4-9960-E1C80E27ABA0",
        nulli: null,
        nulls: null,
      },
    ]);
  });

  it("round-trips typed rows through a table (sp_executesql with OUTPUT INSERTED)", async () => {
    await standIn.exec(
      "CREATE TABLE dbo.items (id int IDENTITY(1,1) PRIMARY KEY, name nvarchar(100) NOT NULL, price decimal(10,2) NULL, " +
        "created datetime2 NOT NULL, flag bit NOT NULL, ref uniqueidentifier NULL, qty bigint NULL)",
    );
    const connection = await login("strict");
    const created = new Date("2024-02-29T13:45:56.789Z");
    const inserted = await query(
      connection,
      "INSERT INTO dbo.items (name, price, created, flag, ref, qty) OUTPUT INSERTED.id VALUES (@name, @price, @created, @flag, @ref, @qty)",
      {
        params: [
          { name: "name", type: TYPES.NVarChar, value: "wídget ✓", options: { length: 100 } },
          { name: "price", type: TYPES.Decimal, value: 9.99, options: { precision: 10, scale: 2 } },
          { name: "created", type: TYPES.DateTime2, value: created },
          { name: "flag", type: TYPES.Bit, value: true },
          { name: "ref", type: TYPES.UniqueIdentifier, value: "6F9619FF-8B86-D011-B42D-00C04FC964FF" },
          { name: "qty", type: TYPES.BigInt, value: null },
        ],
      },
    );
    expect(inserted.rows).toEqual([{ id: 1 }]);
    const { rows } = await query(
      connection,
      "SELECT id, name, price, created, flag, ref, qty FROM dbo.items WHERE id = @id",
      {
        params: [{ name: "id", type: TYPES.Int, value: 1 }],
      },
    );
    expect(rows).toEqual([
      {
        id: 1,
        name: "wídget ✓",
        price: 9.99,
        created,
        flag: true,
        ref: "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        qty: null,
      },
    ]);
  });

  it("transactions are real: rollback discards, commit is visible to another session", async () => {
    await standIn.exec(
      "CREATE TABLE dbo.ledger (id int IDENTITY(1,1) PRIMARY KEY, note nvarchar(50) NOT NULL)",
    );
    const writer = await login();
    const reader = await login(false);
    const count = async () => (await query(reader, "SELECT COUNT(*) AS n FROM dbo.ledger")).rows[0]?.n;

    await transactions.begin(writer);
    await query(writer, "INSERT INTO dbo.ledger (note) VALUES (@note)", {
      params: [{ name: "note", type: TYPES.NVarChar, value: "rolled back" }],
    });
    await transactions.rollback(writer);
    expect(await count()).toBe(0);

    await query(writer, "BEGIN TRANSACTION", { batch: true });
    expect(writer.inTransaction).toBe(true);
    await query(writer, "INSERT INTO dbo.ledger (note) VALUES (N'kept')", { batch: true });
    await query(writer, "COMMIT TRANSACTION", { batch: true });
    expect(writer.inTransaction).toBe(false);
    expect(await count()).toBe(1);
  });

  it("prepared statements run on the engine", async () => {
    const connection = await login();
    let settle: (error?: Error) => void = () => undefined;
    const rows: unknown[][] = [];
    const request = new Request("SELECT @a + 1 AS next", (error) => settle(error ?? undefined));
    request.addParameter("a", TYPES.Int);
    request.on("row", (columns: Array<{ value: unknown }>) => rows.push(columns.map((c) => c.value)));
    const step = (start: () => void) =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          settle = (error) => (error ? reject(error) : resolve());
          start();
        }),
        5000,
        "prepared statement step",
      );
    await step(() => {
      request.once("prepared", () => settle());
      connection.prepare(request);
    });
    await step(() => connection.execute(request, { a: 41 }));
    await step(() => connection.unprepare(request));
    expect(rows).toEqual([[42]]);
  });

  it("SQL errors keep the engine's numbers (208, 515) and the connection", async () => {
    const connection = await login();
    await expect(query(connection, "SELECT * FROM dbo.nope", { batch: true })).rejects.toMatchObject({
      number: 208,
      class: 16,
    });
    await standIn.exec("CREATE TABLE dbo.required (id int NOT NULL)");
    await expect(
      query(connection, "INSERT INTO dbo.required (id) VALUES (@id)", {
        params: [{ name: "id", type: TYPES.Int, value: null }],
      }),
    ).rejects.toMatchObject({ number: 515 });
    expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("serves mssql end to end", async () => {
    const pool = new sql.ConnectionPool({
      server: standIn.host,
      port: standIn.port,
      database: standIn.database,
      authentication: {
        type: "azure-active-directory-access-token",
        options: { token: identity.entra.mintAccessToken({ principal: alice }).token },
      },
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: "localhost",
        cryptoCredentialsDetails: { ca: standIn.caPem },
      },
      pool: { min: 0, max: 1 },
      connectionTimeout: 5000,
      requestTimeout: 5000,
    });
    await withTimeout(pool.connect(), 8000, "mssql connect");
    try {
      await pool
        .request()
        .query("CREATE TABLE dbo.people (id int IDENTITY(1,1) PRIMARY KEY, name nvarchar(50) NOT NULL)");
      await pool
        .request()
        .input("name", sql.NVarChar(50), "Ada")
        .query("INSERT INTO dbo.people (name) VALUES (@name)");
      const result = await pool
        .request()
        .input("name", sql.NVarChar(50), "Ada")
        .query("SELECT id, name FROM dbo.people WHERE name = @name");
      expect(result.recordset).toEqual([{ id: 1, name: "Ada" }]);
    } finally {
      await pool.close();
    }
  });
});
