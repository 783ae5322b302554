// The syntax tree of the T-SQL subset the stand-in understands. The parser produces it, the translators
// turn it into Postgres SQL or engine actions. Only constructs the stand-in can run have a node here.

export interface Ident {
  name: string;
  /** Written as [x] or "x". */
  quoted: boolean;
}

/** [db.][schema.]name; `db` and `schema` may be empty strings for "db..name". */
export interface ObjectName {
  db?: Ident;
  schema?: Ident;
  name: Ident;
  /** As written, for error messages (e.g. "dbo.users"). */
  text: string;
}

export interface TypeName {
  /** Upper-cased T-SQL type name, e.g. "NVARCHAR", "DOUBLE PRECISION". */
  name: string;
  args: (number | "MAX")[];
}

export type Expr =
  | { t: "number"; text: string }
  | { t: "string"; value: string; national: boolean }
  | { t: "bytes"; hex: string }
  | { t: "null" }
  | { t: "default" }
  | { t: "param"; name: string }
  | { t: "sysvar"; name: string }
  | { t: "column"; parts: Ident[] }
  | { t: "star"; qualifier: Ident[] }
  | { t: "func"; name: string; args: Expr[]; distinct: boolean }
  | { t: "cast"; expr: Expr; type: TypeName; style?: Expr }
  | { t: "unary"; op: "-" | "+" | "~" | "NOT"; expr: Expr }
  | { t: "binary"; op: string; left: Expr; right: Expr }
  | { t: "between"; expr: Expr; low: Expr; high: Expr; not: boolean }
  | { t: "in"; expr: Expr; list?: Expr[]; query?: SelectStmt; not: boolean }
  | { t: "like"; expr: Expr; pattern: Expr; escape?: Expr; not: boolean }
  | { t: "isnull"; expr: Expr; not: boolean }
  | { t: "exists"; query: SelectStmt }
  | { t: "subquery"; query: SelectStmt }
  | { t: "case"; operand?: Expr; whens: { when: Expr; result: Expr }[]; else?: Expr }
  | { t: "paren"; expr: Expr };

export type SelectItem = { t: "star"; qualifier: Ident[] } | { t: "item"; expr: Expr; alias?: Ident };

export type TableSource =
  | { t: "table"; name: ObjectName; alias?: Ident }
  | { t: "tablevar"; name: string; alias?: Ident }
  | { t: "derived"; query: SelectStmt; alias: Ident; columns?: Ident[] }
  | {
      t: "join";
      kind: "INNER" | "LEFT" | "RIGHT" | "FULL" | "CROSS";
      left: TableSource;
      right: TableSource;
      on?: Expr;
    }
  | { t: "parens"; source: TableSource };

export interface QuerySpec {
  t: "spec";
  distinct: boolean;
  top?: Expr;
  items: SelectItem[];
  from: TableSource[];
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
}

export type QueryExpr =
  | QuerySpec
  | { t: "setop"; op: "UNION" | "UNION ALL" | "EXCEPT" | "INTERSECT"; left: QueryExpr; right: QueryExpr }
  | { t: "parenquery"; query: SelectStmt };

export interface OrderItem {
  expr: Expr;
  desc: boolean;
}

export interface SelectStmt {
  t: "select";
  body: QueryExpr;
  orderBy: OrderItem[];
  offset?: Expr;
  fetch?: Expr;
}

export interface OutputClause {
  items: SelectItem[];
  into?: { name: string; columns?: Ident[] };
}

export type InsertTarget = { t: "table"; name: ObjectName } | { t: "tablevar"; name: string };

export interface InsertStmt {
  t: "insert";
  target: InsertTarget;
  columns?: Ident[];
  output?: OutputClause;
  source: { t: "values"; rows: Expr[][] } | { t: "default" } | { t: "select"; query: SelectStmt };
}

export interface UpdateStmt {
  t: "update";
  target: ObjectName;
  sets: { column: Ident; expr: Expr }[];
  output?: OutputClause;
  where?: Expr;
}

export interface DeleteStmt {
  t: "delete";
  target: ObjectName;
  output?: OutputClause;
  where?: Expr;
}

export interface ColumnDef {
  name: Ident;
  type: TypeName;
  identity?: { seed: string; increment: string };
  /** undefined: not stated (NULL allowed, except for PRIMARY KEY columns). */
  notNull?: boolean;
  default?: Expr;
  constraints: TableConstraint[];
}

export interface ForeignKeyRef {
  table: ObjectName;
  columns: Ident[];
  onDelete?: string;
  onUpdate?: string;
}

export type TableConstraint =
  | { t: "primary"; name?: Ident; columns: Ident[] }
  | { t: "unique"; name?: Ident; columns: Ident[] }
  | { t: "foreign"; name?: Ident; columns: Ident[]; ref: ForeignKeyRef }
  | { t: "check"; name?: Ident; expr: Expr };

export interface CreateTableStmt {
  t: "createTable";
  name: ObjectName;
  columns: ColumnDef[];
  constraints: TableConstraint[];
}

export type AlterAction =
  | { t: "addColumn"; column: ColumnDef }
  | { t: "addConstraint"; constraint: TableConstraint }
  | { t: "dropColumn"; names: Ident[]; ifExists: boolean }
  | { t: "dropConstraint"; names: Ident[]; ifExists: boolean }
  | { t: "alterColumn"; name: Ident; type: TypeName; notNull: boolean };

export type Statement =
  | SelectStmt
  | InsertStmt
  | UpdateStmt
  | DeleteStmt
  | CreateTableStmt
  | { t: "dropTable"; names: ObjectName[]; ifExists: boolean }
  | { t: "truncate"; name: ObjectName }
  | { t: "alterTable"; name: ObjectName; actions: AlterAction[] }
  | {
      t: "createIndex";
      unique: boolean;
      name: Ident;
      table: ObjectName;
      columns: { name: Ident; desc: boolean }[];
      include: Ident[];
      where?: Expr;
    }
  | { t: "dropIndex"; indexes: { name: Ident; table: ObjectName }[]; ifExists: boolean }
  | { t: "begin"; name?: string }
  | { t: "commit" }
  | { t: "rollback"; name?: string }
  | { t: "save"; name: string }
  | { t: "setOption"; option: string; value: string }
  | { t: "setIdentityInsert"; table: ObjectName; on: boolean }
  | { t: "setVariable"; name: string; expr: Expr }
  | { t: "declareTable"; name: string; columns: ColumnDef[] }
  | { t: "declareVariables"; variables: { name: string; type: TypeName; init?: Expr }[] }
  | { t: "if"; condition: Expr; thenBranch: ParsedStatement; elseBranch?: ParsedStatement }
  | { t: "block"; statements: ParsedStatement[] }
  | { t: "use"; database: string };

/** A statement with the source text it came from (errors quote it). */
export interface ParsedStatement {
  stmt: Statement;
  text: string;
}
