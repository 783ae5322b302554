import type {
  Expr,
  Ident,
  OrderItem,
  OutputClause,
  QueryExpr,
  QuerySpec,
  SelectItem,
  SelectStmt,
  TableSource,
} from "./ast.js";
import { ParserCore, RESERVED } from "./parser-core.js";

// Expressions and SELECT, by recursive descent. Precedence, loosest first: OR, AND, NOT, predicates
// (comparison, BETWEEN, IN, LIKE, IS NULL, EXISTS), + - & | ^, * / %, unary - + ~, primaries.

const COMPARISON = new Set(["=", "<>", "!=", "<", ">", "<=", ">=", "!<", "!>"]);
/** Reserved words that T-SQL also uses as function names. */
const RESERVED_FUNCTIONS = new Set(["LEFT", "RIGHT", "COALESCE", "NULLIF", "USER"]);
/** Niladic functions written without parentheses. */
const NILADIC: Record<string, string> = {
  CURRENT_TIMESTAMP: "GETDATE",
  CURRENT_USER: "USER_NAME",
  SESSION_USER: "USER_NAME",
  USER: "USER_NAME",
  SYSTEM_USER: "SUSER_SNAME",
};
/** Table hints that only steer locking or plans; a single-connection engine can drop them. */
const TABLE_HINTS = new Set([
  "NOLOCK",
  "READUNCOMMITTED",
  "UPDLOCK",
  "ROWLOCK",
  "PAGLOCK",
  "TABLOCK",
  "TABLOCKX",
  "HOLDLOCK",
  "READCOMMITTED",
  "READCOMMITTEDLOCK",
  "REPEATABLEREAD",
  "SERIALIZABLE",
  "READPAST",
  "XLOCK",
  "NOWAIT",
  "NOEXPAND",
  "FORCESEEK",
  "FORCESCAN",
]);
/** Words that end a table reference (so they are not taken as an alias). */
const NOT_ALIAS = new Set(["OUTPUT", "OFFSET", "APPLY", "WINDOW", "FETCH", "ROWS"]);

export class QueryParser extends ParserCore {
  // ---- expressions -------------------------------------------------------------------------------

  expr(): Expr {
    let left = this.andExpr();
    while (this.acceptWord("OR")) left = { t: "binary", op: "OR", left, right: this.andExpr() };
    return left;
  }

  private andExpr(): Expr {
    let left = this.notExpr();
    while (this.acceptWord("AND")) left = { t: "binary", op: "AND", left, right: this.notExpr() };
    return left;
  }

  private notExpr(): Expr {
    if (this.acceptWord("NOT")) return { t: "unary", op: "NOT", expr: this.notExpr() };
    return this.predicate();
  }

  private predicate(): Expr {
    if (this.acceptWord("EXISTS")) {
      this.expectOp("(");
      const query = this.selectStmt();
      this.expectOp(")");
      return { t: "exists", query };
    }
    const left = this.additive();
    const t = this.peek();
    if (t.kind === "op" && COMPARISON.has(t.value)) {
      this.pos++;
      if (this.isWord("ALL") || this.isWord("ANY") || this.isWord("SOME")) this.fail();
      return { t: "binary", op: t.value, left, right: this.additive() };
    }
    const not =
      this.isWord("NOT") && (this.isWord("BETWEEN", 1) || this.isWord("IN", 1) || this.isWord("LIKE", 1));
    if (not) this.pos++;
    if (this.acceptWord("BETWEEN")) {
      const low = this.additive();
      this.expectWord("AND");
      return { t: "between", expr: left, low, high: this.additive(), not };
    }
    if (this.acceptWord("IN")) {
      this.expectOp("(");
      if (this.isWord("SELECT") || (this.isOp("(") && this.isWord("SELECT", 1))) {
        const query = this.selectStmt();
        this.expectOp(")");
        return { t: "in", expr: left, query, not };
      }
      const list = [this.expr()];
      while (this.acceptOp(",")) list.push(this.expr());
      this.expectOp(")");
      return { t: "in", expr: left, list, not };
    }
    if (this.acceptWord("LIKE")) {
      const pattern = this.additive();
      const like: Expr = { t: "like", expr: left, pattern, not };
      if (this.acceptWord("ESCAPE")) like.escape = this.additive();
      return like;
    }
    if (this.acceptWord("IS")) {
      const isNot = this.acceptWord("NOT");
      this.expectWord("NULL");
      return { t: "isnull", expr: left, not: isNot };
    }
    return left;
  }

  additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t.kind === "op" && ["+", "-", "&", "|", "^"].includes(t.value)) {
        this.pos++;
        left = { t: "binary", op: t.value, left, right: this.multiplicative() };
      } else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === "op" && ["*", "/", "%"].includes(t.value)) {
        this.pos++;
        left = { t: "binary", op: t.value, left, right: this.unary() };
      } else return left;
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === "op" && (t.value === "-" || t.value === "+" || t.value === "~")) {
      this.pos++;
      return { t: "unary", op: t.value, expr: this.unary() };
    }
    const e = this.primary();
    if (this.isWord("COLLATE")) this.fail();
    return e;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "number":
        this.pos++;
        return { t: "number", text: t.value };
      case "string":
        this.pos++;
        return { t: "string", value: t.value, national: t.national === true };
      case "binary":
        this.pos++;
        return { t: "bytes", hex: t.value };
      case "param":
        this.pos++;
        return { t: "param", name: t.value };
      case "sysvar":
        this.pos++;
        return { t: "sysvar", name: t.upper };
      case "op":
        if (t.value === "(") {
          this.pos++;
          if (this.isWord("SELECT") || (this.isOp("(") && this.isWord("SELECT", 1))) {
            const query = this.selectStmt();
            this.expectOp(")");
            return { t: "subquery", query };
          }
          const inner = this.expr();
          this.expectOp(")");
          return { t: "paren", expr: inner };
        }
        return this.fail();
      case "word":
        return this.wordPrimary();
      case "qident":
        return this.columnRef();
      default:
        return this.fail();
    }
  }

  private wordPrimary(): Expr {
    const t = this.peek();
    const word = t.upper;
    if (word === "NULL") {
      this.pos++;
      return { t: "null" };
    }
    if (word === "DEFAULT") {
      this.pos++;
      return { t: "default" };
    }
    if (word === "CASE") return this.caseExpr();
    if (word === "CAST" || word === "TRY_CAST") {
      if (word === "TRY_CAST") this.unsupported("TRY_CAST");
      this.pos++;
      this.expectOp("(");
      const expr = this.expr();
      this.expectWord("AS");
      const type = this.typeName();
      this.expectOp(")");
      return { t: "cast", expr, type };
    }
    if (word === "CONVERT" || word === "TRY_CONVERT") {
      if (word === "TRY_CONVERT") this.unsupported("TRY_CONVERT");
      this.pos++;
      this.expectOp("(");
      const type = this.typeName();
      this.expectOp(",");
      const expr = this.expr();
      const cast: Expr = { t: "cast", expr, type };
      if (this.acceptOp(",")) cast.style = this.expr();
      this.expectOp(")");
      return cast;
    }
    if (NILADIC[word] && !this.isOp("(", 1)) {
      this.pos++;
      return { t: "func", name: NILADIC[word] as string, args: [], distinct: false };
    }
    if (this.isOp("(", 1)) {
      if (RESERVED.has(word) && !RESERVED_FUNCTIONS.has(word)) return this.fail();
      return this.functionCall(word);
    }
    if (RESERVED.has(word)) return this.fail();
    return this.columnRef();
  }

  private functionCall(name: string): Expr {
    this.pos += 2; // name (
    const call: Expr & { t: "func" } = { t: "func", name, args: [], distinct: false };
    if (this.acceptOp(")")) return this.afterCall(call);
    if ((name === "COUNT" || name === "COUNT_BIG") && this.isOp("*")) {
      this.pos++;
      call.args.push({ t: "star", qualifier: [] });
      this.expectOp(")");
      return this.afterCall(call);
    }
    if (this.acceptWord("DISTINCT")) call.distinct = true;
    else this.acceptWord("ALL");
    call.args.push(this.funcArg(name, 0));
    while (this.acceptOp(",")) call.args.push(this.funcArg(name, call.args.length));
    this.expectOp(")");
    return this.afterCall(call);
  }

  /** DATEADD(day, ...) and friends take a bare date part as first argument; keep it as a string. */
  private funcArg(name: string, index: number): Expr {
    if (
      index === 0 &&
      ["DATEADD", "DATEDIFF", "DATEPART", "DATENAME", "DATEDIFF_BIG", "DATETRUNC"].includes(name)
    ) {
      const t = this.peek();
      if (t.kind === "word" || t.kind === "qident") {
        this.pos++;
        return { t: "string", value: t.value.toLowerCase(), national: false };
      }
    }
    return this.expr();
  }

  private afterCall(call: Expr): Expr {
    if (this.isWord("OVER") || this.isWord("WITHIN")) this.fail();
    return call;
  }

  private columnRef(): Expr {
    const parts: Ident[] = [this.ident()];
    while (this.isOp(".")) {
      this.pos++;
      if (this.isOp("*")) {
        this.pos++;
        return { t: "star", qualifier: parts };
      }
      parts.push(this.ident());
    }
    if (this.isOp("(")) this.unsupported("user-defined or qualified function calls");
    return { t: "column", parts };
  }

  private caseExpr(): Expr {
    this.expectWord("CASE");
    const node: Expr & { t: "case" } = { t: "case", whens: [] };
    if (!this.isWord("WHEN")) node.operand = this.expr();
    while (this.acceptWord("WHEN")) {
      const when = this.expr();
      this.expectWord("THEN");
      node.whens.push({ when, result: this.expr() });
    }
    if (node.whens.length === 0) this.fail();
    if (this.acceptWord("ELSE")) node.else = this.expr();
    this.expectWord("END");
    return node;
  }

  // ---- SELECT ------------------------------------------------------------------------------------

  selectStmt(): SelectStmt {
    const body = this.queryExpr();
    const stmt: SelectStmt = { t: "select", body, orderBy: [] };
    if (this.acceptWord("ORDER")) {
      this.expectWord("BY");
      stmt.orderBy = this.orderItems();
      if (this.acceptWord("OFFSET")) {
        stmt.offset = this.expr();
        if (!this.acceptWord("ROWS")) this.expectWord("ROW");
        if (this.acceptWord("FETCH")) {
          if (!this.acceptWord("NEXT")) this.expectWord("FIRST");
          stmt.fetch = this.expr();
          if (!this.acceptWord("ROWS")) this.expectWord("ROW");
          this.expectWord("ONLY");
        }
      }
    }
    if (this.isWord("FOR") || this.isWord("OPTION")) this.fail();
    return stmt;
  }

  private orderItems(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      const expr = this.expr();
      let desc = false;
      if (this.acceptWord("DESC")) desc = true;
      else this.acceptWord("ASC");
      items.push({ expr, desc });
    } while (this.acceptOp(","));
    return items;
  }

  private queryExpr(): QueryExpr {
    let left = this.queryTerm();
    for (;;) {
      let op: "UNION" | "UNION ALL" | "EXCEPT" | "INTERSECT";
      if (this.acceptWord("UNION")) op = this.acceptWord("ALL") ? "UNION ALL" : "UNION";
      else if (this.acceptWord("EXCEPT")) op = "EXCEPT";
      else if (this.acceptWord("INTERSECT")) op = "INTERSECT";
      else return left;
      left = { t: "setop", op, left, right: this.queryTerm() };
    }
  }

  private queryTerm(): QueryExpr {
    if (this.acceptOp("(")) {
      const query = this.selectStmt();
      this.expectOp(")");
      return { t: "parenquery", query };
    }
    return this.querySpec();
  }

  private querySpec(): QuerySpec {
    this.expectWord("SELECT");
    const spec: QuerySpec = { t: "spec", distinct: false, items: [], from: [], groupBy: [] };
    if (this.acceptWord("DISTINCT")) spec.distinct = true;
    else this.acceptWord("ALL");
    if (this.acceptWord("TOP")) {
      if (this.acceptOp("(")) {
        spec.top = this.expr();
        this.expectOp(")");
      } else {
        const n = this.next();
        if (n.kind !== "number" && n.kind !== "param") this.fail(n);
        spec.top = n.kind === "number" ? { t: "number", text: n.value } : { t: "param", name: n.value };
      }
      if (this.isWord("PERCENT")) this.fail();
      if (this.isWord("WITH") && this.isWord("TIES", 1)) this.unsupported("TOP ... WITH TIES");
    }
    spec.items = this.selectItems();
    if (this.isWord("INTO")) this.fail();
    if (this.acceptWord("FROM")) spec.from = this.tableSources();
    if (this.acceptWord("WHERE")) spec.where = this.expr();
    if (this.acceptWord("GROUP")) {
      this.expectWord("BY");
      if (this.isWord("ALL")) this.unsupported("GROUP BY ALL");
      do {
        if ((this.isWord("ROLLUP") || this.isWord("CUBE") || this.isWord("GROUPING")) && this.isOp("(", 1)) {
          this.fail();
        }
        spec.groupBy.push(this.expr());
      } while (this.acceptOp(","));
    }
    if (this.acceptWord("HAVING")) spec.having = this.expr();
    return spec;
  }

  selectItems(): SelectItem[] {
    const items = [this.selectItem()];
    while (this.acceptOp(",")) items.push(this.selectItem());
    return items;
  }

  private selectItem(): SelectItem {
    if (this.acceptOp("*")) return { t: "star", qualifier: [] };
    // alias = expression
    if (this.isIdent() && this.isOp("=", 1)) {
      const alias = this.ident();
      this.pos++;
      return { t: "item", expr: this.expr(), alias };
    }
    if (this.peek().kind === "param" && this.isOp("=", 1)) this.unsupported("assigning variables in SELECT");
    const expr = this.expr();
    if (expr.t === "star") return { t: "star", qualifier: expr.qualifier };
    const item: SelectItem = { t: "item", expr };
    const alias = this.optionalAlias(true);
    if (alias) item.alias = alias;
    return item;
  }

  /** [AS] alias, where the alias may be a word, a quoted name or (for columns) a string. */
  private optionalAlias(allowString: boolean): Ident | undefined {
    const hadAs = this.acceptWord("AS");
    const t = this.peek();
    if (allowString && t.kind === "string") {
      this.pos++;
      return { name: t.value, quoted: true };
    }
    if (t.kind === "qident" || (t.kind === "word" && !RESERVED.has(t.upper) && !NOT_ALIAS.has(t.upper))) {
      return this.ident();
    }
    if (hadAs) this.fail();
    return undefined;
  }

  tableSources(): TableSource[] {
    const sources = [this.joinedTable()];
    while (this.acceptOp(",")) sources.push(this.joinedTable());
    return sources;
  }

  private joinedTable(): TableSource {
    let left = this.tablePrimary();
    for (;;) {
      let kind: "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS";
      if (this.acceptWord("JOIN") || this.acceptWord("INNER", "JOIN")) kind = "INNER";
      else if (this.acceptWord("LEFT", "JOIN") || this.acceptWord("LEFT", "OUTER", "JOIN")) kind = "LEFT";
      else if (this.acceptWord("RIGHT", "JOIN") || this.acceptWord("RIGHT", "OUTER", "JOIN")) kind = "RIGHT";
      else if (this.acceptWord("FULL", "JOIN") || this.acceptWord("FULL", "OUTER", "JOIN")) kind = "FULL";
      else if (this.acceptWord("CROSS", "JOIN")) kind = "CROSS";
      else if ((this.isWord("CROSS") || this.isWord("OUTER")) && this.isWord("APPLY", 1))
        this.fail(this.peek(1));
      else if (["INNER", "LEFT", "RIGHT", "FULL"].some((w) => this.isWord(w))) {
        this.unsupported("join hints (LOOP/HASH/MERGE JOIN)");
      } else return left;
      const right = this.tablePrimary();
      if (kind === "CROSS") {
        left = { t: "join", kind, left, right };
        continue;
      }
      this.expectWord("ON");
      left = { t: "join", kind, left, right, on: this.expr() };
    }
  }

  private tablePrimary(): TableSource {
    if (this.acceptOp("(")) {
      if (this.isWord("SELECT") || (this.isOp("(") && this.isWord("SELECT", 1))) {
        const query = this.selectStmt();
        this.expectOp(")");
        const alias = this.optionalAlias(false);
        if (!alias) this.fail();
        const derived: TableSource = { t: "derived", query, alias };
        if (this.acceptOp("(")) {
          const columns = [this.ident()];
          while (this.acceptOp(",")) columns.push(this.ident());
          this.expectOp(")");
          derived.columns = columns;
        }
        return derived;
      }
      if (this.isWord("VALUES")) this.unsupported("table value constructors in FROM");
      const source = this.joinedTable();
      this.expectOp(")");
      return { t: "parens", source };
    }
    const t = this.peek();
    if (t.kind === "param") {
      this.pos++;
      const source: TableSource = { t: "tablevar", name: t.value };
      const alias = this.optionalAlias(false);
      if (alias) source.alias = alias;
      this.tableHints();
      return source;
    }
    if (t.kind === "word" && (t.upper === "OPENJSON" || t.upper === "OPENROWSET" || t.upper === "OPENQUERY"))
      this.fail();
    const name = this.objectName();
    if (this.isOp("(") && !this.isTableHintList()) this.unsupported("table-valued functions");
    this.tableHints();
    const source: TableSource = { t: "table", name };
    const alias = this.optionalAlias(false);
    if (alias) source.alias = alias;
    this.tableHints();
    if (this.isWord("TABLESAMPLE")) this.fail();
    return source;
  }

  private isTableHintList(): boolean {
    const t = this.peek(1);
    return this.isOp("(") && t.kind === "word" && (TABLE_HINTS.has(t.upper) || t.upper === "INDEX");
  }

  /** WITH (NOLOCK, UPDLOCK, ...) or the legacy (NOLOCK): accepted and dropped. */
  tableHints(): void {
    if (this.isWord("WITH") && this.isOp("(", 1)) this.pos++;
    else if (!this.isTableHintList()) return;
    this.expectOp("(");
    do {
      const t = this.next();
      if (t.kind === "word" && TABLE_HINTS.has(t.upper)) continue;
      if (t.kind === "word" && t.upper === "INDEX") {
        if (this.acceptOp("=")) this.next();
        else {
          this.expectOp("(");
          while (!this.isOp(")") && !this.atEnd()) this.next();
          this.expectOp(")");
        }
        continue;
      }
      this.unsupported(`table hint ${this.sql.slice(t.start, t.end)}`);
    } while (this.acceptOp(","));
    this.expectOp(")");
  }

  // ---- OUTPUT ------------------------------------------------------------------------------------

  outputClause(): OutputClause | undefined {
    if (!this.acceptWord("OUTPUT")) return undefined;
    const clause: OutputClause = { items: this.selectItems() };
    if (this.acceptWord("INTO")) {
      const t = this.peek();
      if (t.kind !== "param") this.unsupported("OUTPUT INTO a table (only table variables)");
      this.pos++;
      const into: { name: string; columns?: Ident[] } = { name: t.value };
      if (this.acceptOp("(")) {
        const columns = [this.ident()];
        while (this.acceptOp(",")) columns.push(this.ident());
        this.expectOp(")");
        into.columns = columns;
      }
      clause.into = into;
    }
    return clause;
  }
}
