import type { Ident, ObjectName, TypeName } from "./ast.js";
import { incorrectSyntaxNear, unsupported } from "./errors.js";
import type { Token } from "./lexer.js";

// Token cursor shared by the query and statement parsers, plus the rules that decide between "this is a
// syntax error" (102/156, as SQL Server would say) and "this is T-SQL the stand-in does not run" (50501).

/** T-SQL reserved keywords (they are never identifiers unless quoted). */
export const RESERVED = new Set(
  (
    "ADD ALL ALTER AND ANY AS ASC AUTHORIZATION BACKUP BEGIN BETWEEN BREAK BROWSE BULK BY CASCADE CASE CHECK " +
    "CHECKPOINT CLOSE CLUSTERED COALESCE COLLATE COLUMN COMMIT COMPUTE CONSTRAINT CONTAINS CONTAINSTABLE CONTINUE " +
    "CONVERT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DBCC " +
    "DEALLOCATE DECLARE DEFAULT DELETE DENY DESC DISK DISTINCT DISTRIBUTED DOUBLE DROP DUMP ELSE END ERRLVL ESCAPE " +
    "EXCEPT EXEC EXECUTE EXISTS EXIT EXTERNAL FETCH FILE FILLFACTOR FOR FOREIGN FREETEXT FREETEXTTABLE FROM FULL " +
    "FUNCTION GOTO GRANT GROUP HAVING HOLDLOCK IDENTITY IDENTITY_INSERT IDENTITYCOL IF IN INDEX INNER INSERT " +
    "INTERSECT INTO IS JOIN KEY KILL LEFT LIKE LINENO LOAD MERGE NATIONAL NOCHECK NONCLUSTERED NOT NULL NULLIF OF " +
    "OFF OFFSETS ON OPEN OPENDATASOURCE OPENQUERY OPENROWSET OPENXML OPTION OR ORDER OUTER OVER PERCENT PIVOT PLAN " +
    "PRECISION PRIMARY PRINT PROC PROCEDURE PUBLIC RAISERROR READ READTEXT RECONFIGURE REFERENCES REPLICATION " +
    "RESTORE RESTRICT RETURN REVERT REVOKE RIGHT ROLLBACK ROWCOUNT ROWGUIDCOL RULE SAVE SCHEMA SECURITYAUDIT SELECT " +
    "SESSION_USER SET SETUSER SHUTDOWN SOME STATISTICS SYSTEM_USER TABLE TABLESAMPLE TEXTSIZE THEN TO TOP TRAN " +
    "TRANSACTION TRIGGER TRUNCATE TRY_CONVERT TSEQUAL UNION UNIQUE UNPIVOT UPDATE UPDATETEXT USE USER VALUES " +
    "VARYING VIEW WAITFOR WHEN WHERE WHILE WITH WITHIN WRITETEXT"
  ).split(" "),
);

/** Valid T-SQL words that, met where the parser does not expect them, mean a feature the stand-in lacks. */
const FEATURE_WORDS: Record<string, string> = {
  OVER: "window functions (OVER)",
  APPLY: "CROSS/OUTER APPLY",
  PIVOT: "PIVOT",
  UNPIVOT: "UNPIVOT",
  OPTION: "query hints (OPTION)",
  FOR: "FOR XML/JSON/BROWSE",
  COLLATE: "COLLATE",
  TABLESAMPLE: "TABLESAMPLE",
  CONTAINS: "full-text predicates",
  FREETEXT: "full-text predicates",
  WITHIN: "WITHIN GROUP",
  INTO: "SELECT ... INTO",
  PERCENT: "TOP ... PERCENT",
  ROLLUP: "ROLLUP",
  CUBE: "CUBE",
  GROUPING: "GROUPING SETS",
  MERGE: "MERGE",
  CURSOR: "cursors",
  COMPUTE: "COMPUTE",
  ANY: "ANY/SOME/ALL subquery comparisons",
  SOME: "ANY/SOME/ALL subquery comparisons",
  OUTPUT: "OUTPUT here",
  WITH: "WITH here (common table expressions, options)",
  EXEC: "EXEC",
  EXECUTE: "EXECUTE",
  OPENJSON: "OPENJSON",
  OPENROWSET: "OPENROWSET",
  OPENQUERY: "OPENQUERY",
};

export class ParserCore {
  pos = 0;
  /** Token index where the statement being parsed starts (error messages quote the statement). */
  stmtStart = 0;

  constructor(
    readonly sql: string,
    readonly tokens: Token[],
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  atEnd(): boolean {
    return this.peek().kind === "eof";
  }

  /** An unquoted word (keyword) at `offset`. */
  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === "word" && t.upper === word;
  }

  isOp(op: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === "op" && t.value === op;
  }

  acceptWord(...words: string[]): boolean {
    for (const [i, w] of words.entries()) if (!this.isWord(w, i)) return false;
    this.pos += words.length;
    return true;
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail();
  }

  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.pos++;
    return true;
  }

  expectOp(op: string): void {
    if (!this.acceptOp(op)) this.fail();
  }

  /** The source text of the current statement: from its first token up to the next top-level `;`. */
  statementText(): string {
    const start = this.tokens[this.stmtStart] as Token;
    let depth = 0;
    let end = start.end;
    for (let i = this.stmtStart; i < this.tokens.length; i++) {
      const t = this.tokens[i] as Token;
      if (t.kind === "eof") break;
      if (t.kind === "op" && t.value === "(") depth++;
      if (t.kind === "op" && t.value === ")") depth--;
      if (t.kind === "op" && t.value === ";" && depth <= 0) break;
      end = t.end;
    }
    return this.sql.slice(start.start, end);
  }

  unsupported(reason: string): never {
    throw unsupported(this.statementText(), reason);
  }

  /** Fails at `token`: unsupported when it names a T-SQL feature the stand-in lacks, else a syntax error. */
  fail(token: Token = this.peek()): never {
    if (token.kind === "eof") {
      const last = this.tokens[this.tokens.length - 2];
      const text = last ? this.sql.slice(last.start, last.end) : "";
      throw incorrectSyntaxNear(
        last?.kind === "word" ? last.value : text,
        last?.kind === "word" && RESERVED.has(last.upper),
      );
    }
    if (token.kind === "word" && FEATURE_WORDS[token.upper])
      this.unsupported(FEATURE_WORDS[token.upper] as string);
    if (token.kind === "op" && /^[-+*/%&|^]=$/.test(token.value))
      this.unsupported("compound assignment operators");
    if (token.kind === "op" && token.value === "::") this.unsupported("'::' method calls");
    const text =
      token.kind === "qident" || token.kind === "string"
        ? token.value
        : this.sql.slice(token.start, token.end);
    throw incorrectSyntaxNear(text, token.kind === "word" && RESERVED.has(token.upper));
  }

  /** An identifier: a non-reserved word or a [quoted] / "quoted" name. */
  isIdent(offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === "qident" || (t.kind === "word" && !RESERVED.has(t.upper));
  }

  ident(): Ident {
    const t = this.peek();
    if (t.kind === "qident") {
      this.pos++;
      return { name: t.value, quoted: true };
    }
    if (t.kind === "word" && !RESERVED.has(t.upper)) {
      if (t.value.startsWith("#")) this.unsupported("temporary tables (#name)");
      this.pos++;
      return { name: t.value, quoted: false };
    }
    return this.fail();
  }

  /** [server.][db.][schema.]name, with empty parts allowed as in "db..table". */
  objectName(): ObjectName {
    const parts: (Ident | undefined)[] = [this.ident()];
    while (this.isOp(".")) {
      this.pos++;
      if (this.isOp(".")) {
        parts.push(undefined);
        continue;
      }
      parts.push(this.ident());
    }
    // SQL Server quotes names in messages without their brackets: 'dbo.users'.
    const text = parts.map((p) => p?.name ?? "").join(".");
    if (parts.length > 3) this.unsupported("four-part (linked server) names");
    const name = parts[parts.length - 1];
    if (!name) return this.fail();
    const result: ObjectName = { name, text };
    if (parts.length >= 2) result.schema = parts[parts.length - 2] ?? { name: "", quoted: false };
    if (parts.length === 3) result.db = parts[0] ?? { name: "", quoted: false };
    return result;
  }

  /** A T-SQL data type: int, nvarchar(255), nvarchar(max), decimal(10, 2), double precision, [int]. */
  typeName(): TypeName {
    const t = this.peek();
    let name: string;
    if (t.kind === "qident") name = t.value.toUpperCase();
    else if (t.kind === "word") name = t.upper;
    else return this.fail();
    this.pos++;
    if (name === "DOUBLE" && this.acceptWord("PRECISION")) name = "DOUBLE PRECISION";
    if ((name === "CHARACTER" || name === "CHAR" || name === "NCHAR") && this.acceptWord("VARYING")) {
      name = name === "NCHAR" ? "NVARCHAR" : "VARCHAR";
    }
    const args: (number | "MAX")[] = [];
    if (this.acceptOp("(")) {
      do {
        const a = this.next();
        if (a.kind === "word" && a.upper === "MAX") args.push("MAX");
        else if (a.kind === "number") args.push(Number(a.value));
        else this.fail(a);
      } while (this.acceptOp(","));
      this.expectOp(")");
    }
    return { name, args };
  }
}
