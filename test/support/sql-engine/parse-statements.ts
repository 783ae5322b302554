import type {
  AlterAction,
  ColumnDef,
  DeleteStmt,
  Expr,
  ForeignKeyRef,
  Ident,
  InsertStmt,
  ObjectName,
  ParsedStatement,
  Statement,
  TableConstraint,
  TypeName,
  UpdateStmt,
} from "./ast.js";
import { tokenize } from "./lexer.js";
import { QueryParser } from "./parse-query.js";
import { RESERVED } from "./parser-core.js";
import { SqlServerError } from "./types.js";

// Batches and statements. A T-SQL batch needs no `;` between statements: each statement parser stops
// where its grammar ends and the next statement begins (as SQL Server's parser does), so tedious' login
// batch of newline-separated SET statements and Knex's "update ...;select @@rowcount" both split right.

/** Statement-leading words that are T-SQL but outside the supported set. */
const UNSUPPORTED_LEADERS: Record<string, string> = {
  WITH: "common table expressions (WITH)",
  MERGE: "MERGE",
  EXEC: "EXEC / stored procedures",
  EXECUTE: "EXEC / stored procedures",
  PRINT: "PRINT",
  RAISERROR: "RAISERROR",
  THROW: "THROW",
  WHILE: "WHILE loops",
  GRANT: "permissions",
  REVOKE: "permissions",
  DENY: "permissions",
  DBCC: "DBCC",
  BACKUP: "BACKUP",
  RESTORE: "RESTORE",
  WAITFOR: "WAITFOR",
  OPEN: "cursors",
  FETCH: "cursors",
  CLOSE: "cursors",
  DEALLOCATE: "cursors",
  GOTO: "GOTO",
  RETURN: "RETURN",
  BREAK: "BREAK",
  CONTINUE: "CONTINUE",
  CHECKPOINT: "CHECKPOINT",
  KILL: "KILL",
  RECONFIGURE: "RECONFIGURE",
  REVERT: "EXECUTE AS / REVERT",
  BULK: "BULK INSERT",
  ENABLE: "triggers",
  DISABLE: "triggers",
  SETUSER: "SETUSER",
  SHUTDOWN: "SHUTDOWN",
  READTEXT: "text pointers",
  WRITETEXT: "text pointers",
  UPDATETEXT: "text pointers",
};

const BOOLEAN_OPTIONS = new Set([
  "ANSI_NULLS",
  "ANSI_NULL_DFLT_ON",
  "ANSI_NULL_DFLT_OFF",
  "ANSI_PADDING",
  "ANSI_WARNINGS",
  "ANSI_DEFAULTS",
  "ARITHABORT",
  "ARITHIGNORE",
  "CONCAT_NULL_YIELDS_NULL",
  "CURSOR_CLOSE_ON_COMMIT",
  "NUMERIC_ROUNDABORT",
  "QUOTED_IDENTIFIER",
  "IMPLICIT_TRANSACTIONS",
  "NOCOUNT",
  "XACT_ABORT",
  "STATISTICS",
  "FORCEPLAN",
  "NOEXEC",
  "PARSEONLY",
  "FMTONLY",
  "SHOWPLAN_ALL",
  "SHOWPLAN_TEXT",
  "SHOWPLAN_XML",
  "REMOTE_PROC_TRANSACTIONS",
]);
const VALUED_OPTIONS = new Set([
  "TEXTSIZE",
  "DATEFIRST",
  "DATEFORMAT",
  "LANGUAGE",
  "LOCK_TIMEOUT",
  "DEADLOCK_PRIORITY",
  "ROWCOUNT",
  "QUERY_GOVERNOR_COST_LIMIT",
  "CONTEXT_INFO",
]);

class StatementParser extends QueryParser {
  batch(): ParsedStatement[] {
    const statements: ParsedStatement[] = [];
    while (!this.atEnd()) {
      if (this.acceptOp(";")) continue;
      statements.push(this.statement(statements.length === 0));
    }
    return statements;
  }

  statement(firstInBatch = false): ParsedStatement {
    const outerStart = this.stmtStart;
    this.stmtStart = this.pos;
    const startToken = this.peek();
    const stmt = this.statementBody(firstInBatch);
    const endToken = this.tokens[this.pos - 1] ?? startToken;
    const text = this.sql.slice(startToken.start, endToken.end);
    this.stmtStart = outerStart;
    return { stmt, text };
  }

  private statementBody(firstInBatch: boolean): Statement {
    const t = this.peek();
    if (t.kind === "op" && t.value === "(") return this.selectStmt();
    if (t.kind !== "word") return this.fail();
    switch (t.upper) {
      case "SELECT":
        return this.selectStmt();
      case "INSERT":
        return this.insert();
      case "UPDATE":
        return this.update();
      case "DELETE":
        return this.deleteStmt();
      case "CREATE":
        return this.create();
      case "DROP":
        return this.drop();
      case "ALTER":
        return this.alter();
      case "TRUNCATE":
        this.pos++;
        this.expectWord("TABLE");
        return { t: "truncate", name: this.objectName() };
      case "BEGIN":
        return this.begin();
      case "COMMIT":
        this.pos++;
        if (!this.acceptWord("TRAN") && !this.acceptWord("TRANSACTION")) this.acceptWord("WORK");
        this.optionalTransactionName();
        return { t: "commit" };
      case "ROLLBACK": {
        this.pos++;
        if (!this.acceptWord("TRAN") && !this.acceptWord("TRANSACTION")) this.acceptWord("WORK");
        const name = this.optionalTransactionName();
        return name === undefined ? { t: "rollback" } : { t: "rollback", name };
      }
      case "SAVE": {
        this.pos++;
        if (!this.acceptWord("TRAN")) this.expectWord("TRANSACTION");
        const name = this.optionalTransactionName();
        if (name === undefined) return this.fail();
        return { t: "save", name };
      }
      case "SET":
        return this.set();
      case "DECLARE":
        return this.declare();
      case "IF":
        return this.ifStatement();
      case "USE": {
        this.pos++;
        return { t: "use", database: this.ident().name };
      }
    }
    const reason = UNSUPPORTED_LEADERS[t.upper];
    if (reason) this.unsupported(reason);
    if (firstInBatch && !RESERVED.has(t.upper) && this.stmtStart === 0) {
      // SQL Server runs a batch that starts with a bare name as a stored procedure call.
      throw new SqlServerError(`Could not find stored procedure '${t.value}'.`, 2812, 62, 16);
    }
    return this.fail();
  }

  private optionalTransactionName(): string | undefined {
    const t = this.peek();
    if (t.kind === "qident" || (t.kind === "word" && !RESERVED.has(t.upper))) {
      this.pos++;
      return t.value;
    }
    if (t.kind === "param") this.unsupported("transaction names in variables");
    return undefined;
  }

  // ---- DML ---------------------------------------------------------------------------------------

  private insert(): InsertStmt {
    this.expectWord("INSERT");
    if (this.isWord("TOP")) this.unsupported("INSERT TOP");
    this.acceptWord("INTO");
    const t = this.peek();
    let target: InsertStmt["target"];
    if (t.kind === "param") {
      this.pos++;
      target = { t: "tablevar", name: t.value };
    } else {
      target = { t: "table", name: this.objectName() };
      this.tableHints();
    }
    const stmt: InsertStmt = { t: "insert", target, source: { t: "default" } };
    if (this.isOp("(") && !this.isWord("SELECT", 1) && !this.isOp("(", 1)) {
      this.pos++;
      const columns = [this.insertColumn()];
      while (this.acceptOp(",")) columns.push(this.insertColumn());
      this.expectOp(")");
      stmt.columns = columns;
    }
    const output = this.outputClause();
    if (output) stmt.output = output;
    if (this.acceptWord("VALUES")) {
      const rows = [];
      do {
        this.expectOp("(");
        const row = [this.expr()];
        while (this.acceptOp(",")) row.push(this.expr());
        this.expectOp(")");
        rows.push(row);
      } while (this.acceptOp(","));
      stmt.source = { t: "values", rows };
    } else if (this.acceptWord("DEFAULT")) {
      this.expectWord("VALUES");
    } else if (this.isWord("SELECT") || this.isOp("(")) {
      stmt.source = { t: "select", query: this.selectStmt() };
    } else if (this.isWord("EXEC") || this.isWord("EXECUTE")) {
      this.unsupported("INSERT ... EXEC");
    } else this.fail();
    return stmt;
  }

  /**
   * A column of an INSERT list: `col`, or qualified as Prisma writes its multi-row INSERT
   * (`[dbo].[Book].[title]`); SQL Server takes the last part, as in UPDATE ... SET.
   */
  private insertColumn(): Ident {
    const parts = [this.ident()];
    while (this.acceptOp(".")) parts.push(this.ident());
    return parts[parts.length - 1] as Ident;
  }

  private update(): UpdateStmt {
    this.expectWord("UPDATE");
    if (this.isWord("STATISTICS")) this.unsupported("UPDATE STATISTICS");
    if (this.isWord("TOP")) this.unsupported("UPDATE TOP");
    if (this.peek().kind === "param") this.unsupported("UPDATE of table variables");
    const target = this.objectName();
    this.tableHints();
    this.expectWord("SET");
    const sets: UpdateStmt["sets"] = [];
    do {
      if (this.peek().kind === "param") this.unsupported("assigning variables in UPDATE");
      const parts = [this.ident()];
      while (this.acceptOp(".")) parts.push(this.ident());
      if (this.isOp(".")) this.unsupported(".WRITE");
      this.expectOp("=");
      sets.push({ column: parts[parts.length - 1] as Ident, expr: this.expr() });
    } while (this.acceptOp(","));
    const stmt: UpdateStmt = { t: "update", target, sets };
    const output = this.outputClause();
    if (output) stmt.output = output;
    if (this.isWord("FROM")) this.unsupported("UPDATE ... FROM");
    if (this.acceptWord("WHERE")) {
      if (this.isWord("CURRENT")) this.unsupported("WHERE CURRENT OF");
      stmt.where = this.expr();
    }
    if (this.isWord("OPTION")) this.fail();
    return stmt;
  }

  private deleteStmt(): DeleteStmt {
    this.expectWord("DELETE");
    if (this.isWord("TOP")) this.unsupported("DELETE TOP");
    this.acceptWord("FROM");
    if (this.peek().kind === "param") this.unsupported("DELETE from table variables");
    const target = this.objectName();
    this.tableHints();
    const stmt: DeleteStmt = { t: "delete", target };
    const output = this.outputClause();
    if (output) stmt.output = output;
    if (this.isWord("FROM")) this.unsupported("DELETE ... FROM");
    if (this.acceptWord("WHERE")) {
      if (this.isWord("CURRENT")) this.unsupported("WHERE CURRENT OF");
      stmt.where = this.expr();
    }
    if (this.isWord("OPTION")) this.fail();
    return stmt;
  }

  // ---- DDL ---------------------------------------------------------------------------------------

  private create(): Statement {
    this.expectWord("CREATE");
    if (this.acceptWord("TABLE")) return this.createTable();
    const unique = this.acceptWord("UNIQUE");
    if (!this.acceptWord("CLUSTERED")) this.acceptWord("NONCLUSTERED");
    if (this.acceptWord("INDEX")) {
      const name = this.ident();
      this.expectWord("ON");
      const table = this.objectName();
      this.expectOp("(");
      const columns: { name: Ident; desc: boolean }[] = [];
      do {
        const column = this.ident();
        let desc = false;
        if (this.acceptWord("DESC")) desc = true;
        else this.acceptWord("ASC");
        columns.push({ name: column, desc });
      } while (this.acceptOp(","));
      this.expectOp(")");
      const include: Ident[] = [];
      if (this.acceptWord("INCLUDE")) {
        this.expectOp("(");
        do include.push(this.ident());
        while (this.acceptOp(","));
        this.expectOp(")");
      }
      const stmt: Statement = { t: "createIndex", unique, name, table, columns, include };
      if (this.acceptWord("WHERE")) stmt.where = this.expr();
      if (this.isWord("WITH")) this.unsupported("index options (WITH ...)");
      this.onFilegroup();
      return stmt;
    }
    const what = this.peek();
    return this.unsupported(`CREATE ${what.kind === "word" ? what.upper : "..."}`);
  }

  /** ON [PRIMARY] / TEXTIMAGE_ON [PRIMARY]: storage placement, meaningless here. */
  private onFilegroup(): void {
    const fg = this.peek(1);
    const isFilegroup =
      fg.kind === "qident" || (fg.kind === "word" && fg.upper !== "DELETE" && fg.upper !== "UPDATE");
    if (this.isWord("ON") && isFilegroup) this.pos += 2;
    if (this.isWord("TEXTIMAGE_ON")) this.pos += 2;
  }

  private createTable(): Statement {
    const name = this.objectName();
    this.expectOp("(");
    const { columns, constraints } = this.tableElements();
    this.expectOp(")");
    if (this.isWord("WITH")) this.unsupported("table options (WITH ...)");
    this.onFilegroup();
    return { t: "createTable", name, columns, constraints };
  }

  /** Column definitions and table constraints, comma separated (CREATE TABLE, DECLARE @t TABLE). */
  tableElements(): { columns: ColumnDef[]; constraints: TableConstraint[] } {
    const columns: ColumnDef[] = [];
    const constraints: TableConstraint[] = [];
    do {
      if (this.isOp(")")) break; // a trailing comma is allowed in T-SQL table definitions
      const constraint = this.tableConstraint();
      if (constraint) constraints.push(constraint);
      else if (this.isWord("INDEX")) this.unsupported("inline INDEX definitions");
      else columns.push(this.columnDef());
    } while (this.acceptOp(","));
    return { columns, constraints };
  }

  private tableConstraint(): TableConstraint | undefined {
    let name: Ident | undefined;
    if (this.acceptWord("CONSTRAINT")) name = this.ident();
    const withName = <T extends TableConstraint>(c: T): T => (name ? { ...c, name } : c);
    if (this.acceptWord("PRIMARY")) {
      this.expectWord("KEY");
      this.clustering();
      return withName({ t: "primary", columns: this.keyColumns() });
    }
    if (this.acceptWord("UNIQUE")) {
      this.clustering();
      return withName({ t: "unique", columns: this.keyColumns() });
    }
    if (this.acceptWord("FOREIGN")) {
      this.expectWord("KEY");
      const columns = this.columnList();
      return withName({ t: "foreign", columns, ref: this.references() });
    }
    if (this.acceptWord("CHECK")) {
      this.acceptWord("NOT", "FOR", "REPLICATION"); // replication does not exist here
      this.expectOp("(");
      const expr = this.expr();
      this.expectOp(")");
      return withName({ t: "check", expr });
    }
    if (name && this.isWord("DEFAULT")) this.unsupported("ADD CONSTRAINT ... DEFAULT ... FOR");
    if (name) this.fail();
    return undefined;
  }

  private clustering(): void {
    if (!this.acceptWord("CLUSTERED")) this.acceptWord("NONCLUSTERED");
  }

  /** (a [ASC|DESC], b ...) of a PRIMARY KEY or UNIQUE constraint, with its storage clauses. */
  private keyColumns(): Ident[] {
    const columns = this.columnList();
    if (this.isWord("WITH")) this.unsupported("index options (WITH ...)");
    this.onFilegroup();
    return columns;
  }

  private columnList(): Ident[] {
    this.expectOp("(");
    const columns: Ident[] = [];
    do {
      columns.push(this.ident());
      if (!this.acceptWord("ASC")) this.acceptWord("DESC");
    } while (this.acceptOp(","));
    this.expectOp(")");
    return columns;
  }

  private references(): ForeignKeyRef {
    this.expectWord("REFERENCES");
    const ref: ForeignKeyRef = { table: this.objectName(), columns: [] };
    if (this.isOp("(")) ref.columns = this.columnList();
    for (;;) {
      if (this.acceptWord("ON", "DELETE")) ref.onDelete = this.referentialAction();
      else if (this.acceptWord("ON", "UPDATE")) ref.onUpdate = this.referentialAction();
      else if (this.acceptWord("NOT", "FOR", "REPLICATION")) continue;
      else return ref;
    }
  }

  private referentialAction(): string {
    if (this.acceptWord("NO", "ACTION")) return "NO ACTION";
    if (this.acceptWord("CASCADE")) return "CASCADE";
    if (this.acceptWord("SET", "NULL")) return "SET NULL";
    if (this.acceptWord("SET", "DEFAULT")) return "SET DEFAULT";
    return this.fail();
  }

  private columnDef(): ColumnDef {
    const name = this.ident();
    if (this.isWord("AS")) this.unsupported("computed columns");
    const column: ColumnDef = { name, type: this.typeName(), constraints: [] };
    for (;;) {
      if (this.acceptWord("IDENTITY")) {
        column.identity = { seed: "1", increment: "1" };
        if (this.acceptOp("(")) {
          const seed = this.signedNumber();
          this.expectOp(",");
          column.identity = { seed, increment: this.signedNumber() };
          this.expectOp(")");
        }
        continue;
      }
      if (this.acceptWord("NOT", "NULL")) {
        column.notNull = true;
        continue;
      }
      if (this.acceptWord("NULL")) {
        column.notNull = false;
        continue;
      }
      if (this.acceptWord("COLLATE")) {
        // Collations are accepted and ignored: comparisons follow Postgres (see README).
        this.ident();
        continue;
      }
      if (this.acceptWord("ROWGUIDCOL")) continue;
      if (this.acceptWord("NOT", "FOR", "REPLICATION")) continue;
      let constraintName: Ident | undefined;
      const save = this.pos;
      if (this.acceptWord("CONSTRAINT")) constraintName = this.ident();
      if (this.acceptWord("DEFAULT")) {
        column.default = this.defaultExpr();
        if (this.acceptWord("WITH")) this.expectWord("VALUES");
        continue;
      }
      const named = <T extends TableConstraint>(c: T): T =>
        constraintName ? { ...c, name: constraintName } : c;
      if (this.acceptWord("PRIMARY")) {
        this.expectWord("KEY");
        this.clustering();
        column.constraints.push(named({ t: "primary", columns: [name] }));
        continue;
      }
      if (this.acceptWord("UNIQUE")) {
        this.clustering();
        column.constraints.push(named({ t: "unique", columns: [name] }));
        continue;
      }
      if (this.isWord("FOREIGN") || this.isWord("REFERENCES")) {
        if (this.acceptWord("FOREIGN")) this.expectWord("KEY");
        column.constraints.push(named({ t: "foreign", columns: [name], ref: this.references() }));
        continue;
      }
      if (this.acceptWord("CHECK")) {
        this.expectOp("(");
        const expr = this.expr();
        this.expectOp(")");
        column.constraints.push(named({ t: "check", expr }));
        continue;
      }
      if (["SPARSE", "FILESTREAM", "MASKED", "GENERATED", "ENCRYPTED"].some((w) => this.isWord(w))) {
        this.unsupported(`${this.peek().upper} columns`);
      }
      this.pos = save;
      if (constraintName) this.fail();
      return column;
    }
  }

  /** DEFAULT's value, written bare or in any number of parentheses as SQL Server scripts it: ((0)). */
  private defaultExpr() {
    return this.additive();
  }

  private signedNumber(): string {
    const negative = this.acceptOp("-");
    const t = this.next();
    if (t.kind !== "number") this.fail(t);
    return negative ? `-${t.value}` : t.value;
  }

  private drop(): Statement {
    this.expectWord("DROP");
    if (this.acceptWord("TABLE")) {
      const ifExists = this.acceptWord("IF", "EXISTS");
      const names = [this.objectName()];
      while (this.acceptOp(",")) names.push(this.objectName());
      return { t: "dropTable", names, ifExists };
    }
    if (this.acceptWord("INDEX")) {
      const ifExists = this.acceptWord("IF", "EXISTS");
      const indexes: { name: Ident; table: ObjectName }[] = [];
      do {
        const first = this.objectName();
        if (this.acceptWord("ON")) indexes.push({ name: first.name, table: this.objectName() });
        else if (first.schema) {
          // DROP INDEX table.index (old form)
          const table: ObjectName = {
            name: first.schema,
            text: first.text.slice(0, first.text.lastIndexOf(".")),
          };
          if (first.db) table.schema = first.db;
          indexes.push({ name: first.name, table });
        } else this.fail();
      } while (this.acceptOp(","));
      return { t: "dropIndex", indexes, ifExists };
    }
    const what = this.peek();
    return this.unsupported(`DROP ${what.kind === "word" ? what.upper : "..."}`);
  }

  private alter(): Statement {
    this.expectWord("ALTER");
    if (!this.acceptWord("TABLE")) {
      const what = this.peek();
      return this.unsupported(`ALTER ${what.kind === "word" ? what.upper : "..."}`);
    }
    const name = this.objectName();
    const actions: AlterAction[] = [];
    // WITH CHECK ADD CONSTRAINT: existing rows are checked, as Postgres always does.
    const withCheck = this.acceptWord("WITH", "CHECK");
    if (!withCheck && this.isWord("WITH") && this.isWord("NOCHECK", 1)) this.unsupported("WITH NOCHECK");
    if (this.acceptWord("ADD")) {
      const { columns, constraints } = this.tableElements();
      for (const column of columns) actions.push({ t: "addColumn", column });
      for (const constraint of constraints) actions.push({ t: "addConstraint", constraint });
    } else if (this.acceptWord("DROP")) {
      do {
        if (this.acceptWord("COLUMN")) {
          const ifExists = this.acceptWord("IF", "EXISTS");
          const names = [this.ident()];
          while (this.isOp(",") && this.isIdent(1)) {
            this.pos++;
            names.push(this.ident());
          }
          actions.push({ t: "dropColumn", names, ifExists });
        } else {
          this.acceptWord("CONSTRAINT");
          const ifExists = this.acceptWord("IF", "EXISTS");
          const names = [this.ident()];
          while (this.isOp(",") && this.isIdent(1)) {
            this.pos++;
            names.push(this.ident());
          }
          actions.push({ t: "dropConstraint", names, ifExists });
        }
      } while (this.acceptOp(","));
    } else if (this.acceptWord("ALTER", "COLUMN")) {
      const column = this.ident();
      const type = this.typeName();
      if (this.acceptWord("COLLATE")) this.ident();
      let notNull = false;
      if (this.acceptWord("NOT", "NULL")) notNull = true;
      else this.acceptWord("NULL");
      actions.push({ t: "alterColumn", name: column, type, notNull });
    } else {
      const what = this.peek();
      return this.unsupported(`ALTER TABLE ... ${what.kind === "word" ? what.upper : "..."}`);
    }
    return { t: "alterTable", name, actions };
  }

  // ---- control flow, variables, options ----------------------------------------------------------

  private begin(): Statement {
    this.expectWord("BEGIN");
    if (this.acceptWord("TRAN") || this.acceptWord("TRANSACTION")) {
      const name = this.optionalTransactionName();
      if (this.isWord("WITH") && this.isWord("MARK", 1)) this.unsupported("WITH MARK");
      return name === undefined ? { t: "begin" } : { t: "begin", name };
    }
    if (this.isWord("DISTRIBUTED")) this.unsupported("distributed transactions");
    if (this.isWord("TRY") || this.isWord("CATCH")) this.unsupported("TRY/CATCH");
    if (this.isWord("DIALOG") || this.isWord("CONVERSATION")) this.unsupported("Service Broker");
    const statements: ParsedStatement[] = [];
    for (;;) {
      if (this.acceptOp(";")) continue;
      if (this.acceptWord("END")) break;
      if (this.atEnd()) this.fail();
      statements.push(this.statement());
    }
    return { t: "block", statements };
  }

  private ifStatement(): Statement {
    this.expectWord("IF");
    const condition = this.expr();
    const thenBranch = this.statement();
    const save = this.pos;
    while (this.acceptOp(";")) {
      // a `;` may end the THEN statement before ELSE
    }
    if (this.acceptWord("ELSE")) return { t: "if", condition, thenBranch, elseBranch: this.statement() };
    this.pos = save;
    return { t: "if", condition, thenBranch };
  }

  private declare(): Statement {
    this.expectWord("DECLARE");
    const first = this.peek();
    if (first.kind !== "param") return this.fail();
    if (this.isWord("TABLE", 1) || (this.isWord("AS", 1) && this.isWord("TABLE", 2))) {
      this.pos++;
      this.acceptWord("AS");
      this.expectWord("TABLE");
      this.expectOp("(");
      const { columns } = this.tableElements();
      this.expectOp(")");
      return { t: "declareTable", name: first.value, columns };
    }
    const variables: { name: string; type: TypeName; init?: Expr }[] = [];
    do {
      const v = this.next();
      if (v.kind !== "param") this.fail(v);
      this.acceptWord("AS");
      if (this.isWord("CURSOR")) this.fail();
      if (this.isWord("TABLE")) this.unsupported("table variables declared with other variables");
      const variable: (typeof variables)[number] = { name: v.value, type: this.typeName() };
      if (this.acceptOp("=")) variable.init = this.expr();
      variables.push(variable);
    } while (this.acceptOp(","));
    return { t: "declareVariables", variables };
  }

  private set(): Statement {
    this.expectWord("SET");
    const t = this.peek();
    if (t.kind === "param") {
      this.pos++;
      const op = this.peek();
      if (op.kind === "op" && op.value !== "=" && op.value.endsWith("=")) this.fail(op);
      this.expectOp("=");
      return { t: "setVariable", name: t.value, expr: this.expr() };
    }
    if (this.acceptWord("TRANSACTION", "ISOLATION", "LEVEL")) {
      const levels = [
        ["READ", "UNCOMMITTED"],
        ["READ", "COMMITTED"],
        ["REPEATABLE", "READ"],
        ["SNAPSHOT"],
        ["SERIALIZABLE"],
      ];
      for (const words of levels) {
        if (this.acceptWord(...words))
          return { t: "setOption", option: "TRANSACTION ISOLATION LEVEL", value: words.join(" ") };
      }
      return this.fail();
    }
    if (this.acceptWord("IDENTITY_INSERT")) {
      const table = this.objectName();
      const on = this.onOff();
      return { t: "setIdentityInsert", table, on };
    }
    if (t.kind !== "word") return this.fail();
    if (BOOLEAN_OPTIONS.has(t.upper)) {
      // SET ANSI_NULLS, QUOTED_IDENTIFIER ON sets several options at once.
      const options = [this.next().upper];
      if (options[0] === "STATISTICS") {
        const which = this.next();
        options[0] = `STATISTICS ${which.upper}`;
      }
      while (this.acceptOp(",")) {
        const o = this.next();
        if (o.kind !== "word" || !BOOLEAN_OPTIONS.has(o.upper)) this.fail(o);
        options.push(o.upper);
      }
      const value = this.onOff() ? "ON" : "OFF";
      if (options.length === 1) return { t: "setOption", option: options[0] as string, value };
      return {
        t: "block",
        statements: options.map((option) => ({
          stmt: { t: "setOption", option, value },
          text: `SET ${option} ${value}`,
        })),
      };
    }
    if (VALUED_OPTIONS.has(t.upper)) {
      this.pos++;
      const negative = this.acceptOp("-");
      const v = this.next();
      if (!["word", "number", "string", "qident", "param", "binary"].includes(v.kind)) this.fail(v);
      if (v.kind === "param") this.unsupported(`SET ${t.upper} from a variable`);
      return { t: "setOption", option: t.upper, value: `${negative ? "-" : ""}${v.value}` };
    }
    return this.unsupported(`SET ${t.value}`);
  }

  private onOff(): boolean {
    if (this.acceptWord("ON")) return true;
    if (this.acceptWord("OFF")) return false;
    return this.fail();
  }
}

/** Parses a whole batch; throws SqlServerError for syntax errors (102/156/105) and unsupported statements. */
export function parseBatch(sql: string): ParsedStatement[] {
  const tokens = tokenize(sql);
  return new StatementParser(sql, tokens).batch();
}
