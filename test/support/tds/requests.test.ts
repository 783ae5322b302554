import { once } from "node:events";
import net from "node:net";
import sql from "mssql";
import { type Connection, type ConnectionAuthentication, Request, TYPES } from "tedious";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RegisteredUser } from "../entra/index.js";
import { type SqlStandIn, startSqlStandIn } from "./sql-stand-in.js";
import { FakeEngine } from "./test-helpers/fake-engine.js";
import { startTestIdentity, type TestIdentity } from "./test-helpers/identity.js";
import {
  close,
  connect,
  type Param,
  query,
  transactions,
  withTimeout,
} from "./test-helpers/tedious-client.js";

// Requests after login with real tedious (and mssql): SQL batches, sp_executesql with typed
// parameters, prepared statements, transactions, errors, output parameters and multi-packet
// messages in both directions.

describe("requests", () => {
  let identity: TestIdentity;
  let standIn: SqlStandIn;
  let alice: RegisteredUser;
  let engine: FakeEngine;
  const open: Connection[] = [];

  beforeAll(async () => {
    identity = await startTestIdentity();
    alice = identity.entra.registerUser({ upn: "alice@contoso.test" });
    engine = new FakeEngine();
    standIn = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      engine,
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
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

  async function login(encrypt: boolean | "strict" = true, options: Record<string, unknown> = {}) {
    const connection = await connect(standIn.connectionConfig({ authentication: auth(), encrypt, options }));
    open.push(connection);
    return connection;
  }

  it("round-trips typed sp_executesql parameters through the engine", async () => {
    const connection = await login();
    const when = new Date("2024-02-29T13:45:56.789Z");
    const params: Param[] = [
      { name: "i", type: TYPES.Int, value: -42 },
      { name: "b", type: TYPES.BigInt, value: "9007199254740993" },
      { name: "s", type: TYPES.SmallInt, value: 300 },
      { name: "t", type: TYPES.TinyInt, value: 255 },
      { name: "bit", type: TYPES.Bit, value: true },
      { name: "f", type: TYPES.Float, value: 3.25 },
      { name: "r", type: TYPES.Real, value: 1.5 },
      { name: "d", type: TYPES.Decimal, value: -12345.6789, options: { precision: 18, scale: 4 } },
      { name: "n", type: TYPES.NVarChar, value: "héllo ✓ wörld", options: { length: 50 } },
      { name: "v", type: TYPES.VarChar, value: "plain € text", options: { length: 50 } },
      { name: "dt2", type: TYPES.DateTime2, value: when, options: { scale: 7 } },
      { name: "dt", type: TYPES.DateTime, value: when },
      { name: "day", type: TYPES.Date, value: new Date("2024-02-29T00:00:00Z") },
      { name: "dto", type: TYPES.DateTimeOffset, value: when, options: { scale: 3 } },
      { name: "g", type: TYPES.UniqueIdentifier, value: "6F9619FF-8B86-D011-B42D-00C04FC964FF" },
      {
        name: "bin",
        type: TYPES.VarBinary,
        value: Buffer.from([0, 1, 2, 254, 255]),
        options: { length: 10 },
      },
      { name: "nulli", type: TYPES.Int, value: null },
      { name: "nulls", type: TYPES.NVarChar, value: null },
      { name: "nulldt", type: TYPES.DateTime2, value: null },
      { name: "nullg", type: TYPES.UniqueIdentifier, value: null },
      { name: "nulld", type: TYPES.Decimal, value: null, options: { precision: 10, scale: 2 } },
    ];
    const select = `SELECT ${params.map((p) => `@${p.name} AS ${p.name}`).join(", ")}`;
    const { rows } = await query(connection, select, { params });
    expect(rows).toEqual([
      {
        i: -42,
        b: "9007199254740993",
        s: 300,
        t: 255,
        bit: true,
        f: 3.25,
        r: 1.5,
        d: -12345.6789,
        n: "héllo ✓ wörld",
        v: "plain € text",
        dt2: when,
        dt: new Date("2024-02-29T13:45:56.790Z"), // datetime keeps 1/300 s
        day: new Date("2024-02-29T00:00:00Z"),
        dto: when,
        g: "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        bin: Buffer.from([0, 1, 2, 254, 255]),
        nulli: null,
        nulls: null,
        nulldt: null,
        nullg: null,
        nulld: null,
      },
    ]);
    // What the engine received: declared types and exact values.
    const received = engine.executed.at(-1)?.parameters ?? [];
    expect(received.find((p) => p.name === "@b")).toMatchObject({
      type: { kind: "bigint" },
      value: 9007199254740993n,
    });
    expect(received.find((p) => p.name === "@d")).toMatchObject({
      type: { kind: "decimal", precision: 18, scale: 4 },
      value: "-12345.6789",
    });
    expect(received.find((p) => p.name === "@n")).toMatchObject({
      type: { kind: "nvarchar", maxLength: 50 },
    });
    expect(received.find((p) => p.name === "@dt2")).toMatchObject({
      type: { kind: "datetime2", scale: 7 },
      value: when,
    });
    expect(received.find((p) => p.name === "@g")).toMatchObject({
      value: "6F9619FF-8B86-D011-B42D-00C04FC964FF",
    });
    expect(received.find((p) => p.name === "@nulli")).toMatchObject({ type: { kind: "int" }, value: null });
  });

  it("prepares, executes and unprepares a statement (sp_prepare / sp_execute / sp_unprepare)", async () => {
    const connection = await login("strict");
    // One Request object lives through prepare/execute/unprepare; its callback settles each step.
    let settle: (error?: Error) => void = () => undefined;
    let rows: unknown[][] = [];
    const request = new Request("SELECT @a AS a, @name AS name", (error) => settle(error ?? undefined));
    request.addParameter("a", TYPES.Int);
    request.addParameter("name", TYPES.NVarChar, undefined, { length: 20 });
    request.on("row", (columns: Array<{ value: unknown }>) => rows.push(columns.map((c) => c.value)));
    const step = (what: string, start: () => void) =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          rows = [];
          settle = (error) => (error ? reject(error) : resolve());
          start();
        }),
        5000,
        what,
      );

    // tedious reports sp_prepare through events, not the callback.
    await step("prepare", () => {
      request.once("prepared", () => settle());
      request.once("error", (error: Error) => settle(error));
      connection.prepare(request);
    });
    expect(request.handle).toBeTypeOf("number");
    await step("execute 1", () => connection.execute(request, { a: 1, name: "one" }));
    expect(rows).toEqual([[1, "one"]]);
    await step("execute 2", () => connection.execute(request, { a: 2, name: "two" }));
    expect(rows).toEqual([[2, "two"]]);
    expect(engine.executed.at(-1)).toMatchObject({
      sql: "SELECT @a AS a, @name AS name",
      parameters: [
        { name: "@a", type: { kind: "int" }, value: 2 },
        { name: "@name", type: { kind: "nvarchar", maxLength: 20 }, value: "two" },
      ],
    });
    await step("unprepare", () => connection.unprepare(request));
    // The handle is gone: executing it again is SQL Server's error 8179.
    await expect(
      step("execute after unprepare", () => connection.execute(request, { a: 3, name: "x" })),
    ).rejects.toMatchObject({
      number: 8179,
    });
  });

  it("transaction manager requests: begin/commit and begin/rollback with ENVCHANGE descriptors", async () => {
    const connection = await login();
    const sessionOf = () => standIn.sessions.find((s) => s.id === standIn.logins.at(-1)?.sessionId);
    await transactions.begin(connection, "outer");
    expect(connection.inTransaction).toBe(true);
    expect(connection.currentTransactionDescriptor().equals(Buffer.alloc(8))).toBe(false);
    expect(sessionOf()?.inTransaction).toBe(true);
    expect((await query(connection, "SELECT @@TRANCOUNT")).rows).toEqual([{ "": 1 }]);
    await transactions.commit(connection);
    expect(connection.inTransaction).toBe(false);
    expect(sessionOf()?.inTransaction).toBe(false);

    await transactions.begin(connection);
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.saveTransaction((e) => (e ? reject(e) : resolve()), "sp1"),
      ),
      5000,
      "save",
    );
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.rollbackTransaction((e) => (e ? reject(e) : resolve()), "sp1"),
      ),
      5000,
      "rollback to savepoint",
    );
    expect(connection.inTransaction).toBe(true);
    await transactions.rollback(connection);
    expect(connection.inTransaction).toBe(false);
    expect((await query(connection, "SELECT @@TRANCOUNT")).rows).toEqual([{ "": 0 }]);
    // Committing with nothing open is the engine's 3902, as a SQL error.
    await expect(transactions.commit(connection)).rejects.toMatchObject({ number: 3902 });
  });

  it("sends transaction ENVCHANGEs when SQL text moves @@TRANCOUNT", async () => {
    const connection = await login(false);
    await query(connection, "BEGIN TRANSACTION", { batch: true });
    expect(connection.inTransaction).toBe(true);
    const descriptor = connection.currentTransactionDescriptor();
    expect(descriptor.equals(Buffer.alloc(8))).toBe(false);
    await query(connection, "INSERT INTO audit VALUES ('in-tx')", { batch: true });
    await query(connection, "COMMIT", { batch: true });
    expect(connection.inTransaction).toBe(false);
    await query(connection, "BEGIN TRAN; INSERT INTO audit VALUES ('x')", { batch: true });
    expect(connection.inTransaction).toBe(true);
    await query(connection, "ROLLBACK");
    expect(connection.inTransaction).toBe(false);
  });

  it("encodes engine errors as SQL Server ERROR tokens and keeps the connection", async () => {
    const connection = await login();
    for (const batch of [true, false]) {
      await expect(query(connection, "THROW 50001, 'custom failure', 3", { batch })).rejects.toMatchObject({
        number: 50001,
        state: 3,
        class: 16,
        message: "custom failure",
        serverName: "entra-sql-stand-in",
      });
    }
    expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("returns OUTPUT parameters as RETURNVALUE tokens", async () => {
    const connection = await login();
    const result = await query(connection, "SET @out = 7", {
      params: [{ name: "out", type: TYPES.Int, value: null, output: true }],
    });
    expect(result.returnValues).toEqual({ out: 7 });
  });

  it("splits large replies at the negotiated packet size and reassembles large requests", async () => {
    const connection = await login(true, { packetSize: 512 });
    expect((await query(connection, "SELECT REPLICATE('x', 100000) AS big")).rows[0]?.big).toHaveLength(
      100_000,
    );
    const long = "y".repeat(30_000);
    const { rows } = await query(connection, "SELECT @long AS echo", {
      params: [{ name: "long", type: TYPES.NVarChar, value: long }],
    });
    expect(rows[0]?.echo).toBe(long);
    expect(engine.executed.at(-1)?.parameters[0]).toMatchObject({
      type: { kind: "nvarchar", maxLength: "max" },
    });
  });

  it("frames every reply packet at the client's negotiated packet size (seen on the wire)", async () => {
    // A relay between tedious and the stand-in records the length field of each server packet.
    const lengths: number[] = [];
    const relay = net.createServer((client) => {
      const upstream = net.connect(standIn.port, standIn.host);
      let pending = Buffer.alloc(0);
      upstream.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 8 && pending.length >= pending.readUInt16BE(2)) {
          lengths.push(pending.readUInt16BE(2));
          pending = pending.subarray(pending.readUInt16BE(2));
        }
        client.write(chunk);
      });
      client.on("data", (chunk: Buffer) => upstream.write(chunk));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    relay.listen(0, "127.0.0.1");
    await once(relay, "listening");
    try {
      const config = standIn.connectionConfig({ authentication: auth(), encrypt: false });
      config.options = {
        ...config.options,
        port: (relay.address() as net.AddressInfo).port,
        packetSize: 512,
      };
      const connection = await connect(config);
      open.push(connection);
      const loginPackets = lengths.length;
      await query(connection, "SELECT REPLICATE('x', 5000) AS big");
      const replyPackets = lengths.slice(loginPackets);
      expect(replyPackets.length).toBeGreaterThan(15);
      expect(Math.max(...replyPackets)).toBe(512);
    } finally {
      relay.close();
    }
  });

  it("refuses a parameter type it does not support with a clear error", async () => {
    const connection = await login();
    await expect(
      query(connection, "SELECT @t AS t", { params: [{ name: "t", type: TYPES.Time, value: new Date() }] }),
    ).rejects.toMatchObject({ number: 40517, message: "SQL stand-in: the time data type is not supported." });
    expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("RESETCONNECTION rolls back, drops prepared handles and acknowledges with ENVCHANGE 18", async () => {
    const connection = await login();
    await transactions.begin(connection);
    expect(connection.inTransaction).toBe(true);
    const opened = engine.sessionsOpened;
    const resetSeen = new Promise<void>((resolve) => connection.once("resetConnection", () => resolve()));
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        connection.reset((error) => (error ? reject(error) : resolve())),
      ),
      5000,
      "reset",
    );
    await withTimeout(resetSeen, 1000, "resetConnection event");
    expect(connection.inTransaction).toBe(false);
    expect((await query(connection, "SELECT @@TRANCOUNT")).rows).toEqual([{ "": 0 }]);
    expect(engine.sessionsOpened).toBe(opened + 1);
  });

  it("a failing engine factory becomes an error reply, and is retried on the next request", async () => {
    let attempts = 0;
    const flaky = await startSqlStandIn({
      tokenVerification: identity.tokenVerification(),
      users: [{ name: "alice@contoso.test", objectId: alice.objectId }],
      engine: () => {
        attempts++;
        if (attempts === 1) throw new Error("engine failed to boot");
        return new FakeEngine();
      },
    });
    try {
      const connection = await connect(flaky.connectionConfig({ authentication: auth() }));
      open.push(connection);
      await expect(query(connection, "SELECT 1 AS one")).rejects.toMatchObject({
        number: 50000,
        message: "SQL stand-in: engine fault: engine failed to boot",
      });
      expect((await query(connection, "SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      expect(attempts).toBe(2);
    } finally {
      await flaky.close();
    }
  });

  it("serves mssql (pool validation and query() go through sp_executesql)", async () => {
    const token = identity.entra.mintAccessToken({ principal: alice }).token;
    const pool = new sql.ConnectionPool({
      server: standIn.host,
      port: standIn.port,
      database: standIn.database,
      authentication: { type: "azure-active-directory-access-token", options: { token } },
      options: {
        encrypt: true,
        trustServerCertificate: false,
        serverName: "localhost",
        cryptoCredentialsDetails: { ca: standIn.caPem },
      },
      pool: { min: 0, max: 2 },
      connectionTimeout: 5000,
      requestTimeout: 5000,
    });
    await withTimeout(pool.connect(), 8000, "mssql connect");
    try {
      const result = await withTimeout(
        pool
          .request()
          .input("id", sql.Int, 5)
          .input("name", sql.NVarChar(30), "Ada")
          .query("SELECT @id AS id, @name AS name"),
        5000,
        "mssql query",
      );
      expect(result.recordset).toEqual([{ id: 5, name: "Ada" }]);
    } finally {
      await pool.close();
    }
  });
});
