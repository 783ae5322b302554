import { describe, expect, it } from "vitest";
import { tokenize } from "./lexer.js";
import { parseBatch } from "./parse-statements.js";

describe("lexer", () => {
  it("reads T-SQL quoting: [brackets], \"quotes\", N'strings' with '' escapes, @params, @@vars, 0x, comments", () => {
    const tokens = tokenize(
      `SELECT [a]]b], "c""d", N'it''s', 'x', @p0, @@ROWCOUNT, 0x0AFF, 1.5e3, .5 -- comment\n/* a /* nested */ comment */ FROM t;`,
    );
    expect(tokens.map((t) => [t.kind, t.value])).toEqual([
      ["word", "SELECT"],
      ["qident", "a]b"],
      ["op", ","],
      ["qident", 'c"d'],
      ["op", ","],
      ["string", "it's"],
      ["op", ","],
      ["string", "x"],
      ["op", ","],
      ["param", "@p0"],
      ["op", ","],
      ["sysvar", "@@ROWCOUNT"],
      ["op", ","],
      ["binary", "0AFF"],
      ["op", ","],
      ["number", "1.5e3"],
      ["op", ","],
      ["number", ".5"],
      ["word", "FROM"],
      ["word", "t"],
      ["op", ";"],
      ["eof", ""],
    ]);
    expect(tokens[5]?.national).toBe(true);
    expect(tokens[7]?.national).toBeUndefined();
  });

  it("keeps source offsets", () => {
    const [, second] = tokenize("SELECT  [x]");
    expect(second).toMatchObject({ start: 8, end: 11 });
  });

  it("fails on unterminated strings and identifiers like SQL Server (105)", () => {
    expect(() => tokenize("SELECT 'abc")).toThrow(expect.objectContaining({ number: 105 }));
    expect(() => tokenize("SELECT [abc")).toThrow(expect.objectContaining({ number: 105 }));
    expect(() => tokenize("SELECT ?")).toThrow(
      expect.objectContaining({ number: 102, message: "Incorrect syntax near '?'." }),
    );
  });
});

describe("batch splitting", () => {
  const kinds = (sql: string) => parseBatch(sql).map((s) => [s.stmt.t, s.text]);

  it("splits on ; and where one statement ends and the next begins", () => {
    expect(kinds("update [users] set [name] = @p0 where [id] = @p1;select @@rowcount")).toEqual([
      ["update", "update [users] set [name] = @p0 where [id] = @p1"],
      ["select", "select @@rowcount"],
    ]);
    expect(
      kinds("SELECT 1 SELECT 2\nINSERT INTO t VALUES (1) UPDATE t SET a = 1 WHERE a = 2 DELETE t"),
    ).toEqual([
      ["select", "SELECT 1"],
      ["select", "SELECT 2"],
      ["insert", "INSERT INTO t VALUES (1)"],
      ["update", "UPDATE t SET a = 1 WHERE a = 2"],
      ["delete", "DELETE t"],
    ]);
  });

  it("keeps the TypeORM insert batch as three statements", () => {
    const sql =
      'DECLARE @OutputTable TABLE ("id" int);\n\nINSERT INTO "users"("name") OUTPUT INSERTED."id" INTO @OutputTable VALUES (@0);\n\nSELECT * FROM @OutputTable';
    expect(kinds(sql)).toEqual([
      ["declareTable", 'DECLARE @OutputTable TABLE ("id" int)'],
      ["insert", 'INSERT INTO "users"("name") OUTPUT INSERTED."id" INTO @OutputTable VALUES (@0)'],
      ["select", "SELECT * FROM @OutputTable"],
    ]);
  });

  it("does not split inside ON DELETE SET NULL, INSERT ... SELECT, UNION or IF ... ELSE", () => {
    expect(
      kinds(
        "CREATE TABLE c (p int REFERENCES p(id) ON DELETE SET NULL ON UPDATE CASCADE) INSERT INTO t SELECT 1 UNION SELECT 2 IF 1 = 1 SELECT 3 ELSE SELECT 4",
      ).map(([k]) => k),
    ).toEqual(["createTable", "insert", "if"]);
  });

  it("reads BEGIN ... END blocks and BEGIN TRAN", () => {
    expect(kinds("BEGIN TRAN BEGIN SELECT 1; SELECT 2 END COMMIT").map(([k]) => k)).toEqual([
      "begin",
      "block",
      "commit",
    ]);
  });

  it("GO is not T-SQL: after a statement it is an alias, on its own a syntax error (as in SQL Server)", () => {
    expect(kinds("SELECT 1\nGO\nSELECT 2")).toEqual([
      ["select", "SELECT 1\nGO"],
      ["select", "SELECT 2"],
    ]);
    expect(() => parseBatch("SELECT 1;\nGO\nSELECT 2")).toThrow(
      expect.objectContaining({ number: 102, message: "Incorrect syntax near 'GO'." }),
    );
  });
});
