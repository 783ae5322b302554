import type { Expr } from "./ast.js";
import { sqlErrors } from "./errors.js";
import type { SessionVar } from "./plan.js";

// T-SQL built-in functions -> Postgres. Each entry checks its argument count and writes the Postgres
// expression. Functions that need T-SQL semantics Postgres lacks live in the `tsql` schema (bootstrap.ts):
// SUM/AVG keep the argument's integer type,
// DATEADD/DATEDIFF/DATEPART take T-SQL date parts, OBJECT_ID parses T-SQL names.

export interface FunctionContext {
  databaseName: string;
  sessionSlot(name: SessionVar): string;
  literal(text: string): string;
  unsupported(reason: string): never;
}

type Emit = (args: string[], raw: Expr[], ctx: FunctionContext, distinct: string) => string;

interface FunctionDef {
  min: number;
  max: number;
  emit: Emit;
}

const fn =
  (name: string): Emit =>
  (args, _raw, _ctx, distinct) =>
    `${name}(${distinct}${args.join(", ")})`;

/** The date part argument, which the parser keeps as a lower-cased string literal. */
function datePart(raw: Expr[], ctx: FunctionContext): string {
  const first = raw[0];
  if (first?.t !== "string") return ctx.unsupported("date parts given as expressions");
  return ctx.literal(first.value);
}

const principal: FunctionDef = {
  min: 0,
  max: 0,
  emit: (_a, _r, ctx) => `CAST(${ctx.sessionSlot("principal")} AS varchar(128))`,
};
/** The fixed database roles (and `public`): IS_ROLEMEMBER answers 0 for those the user is not in. */
const FIXED_DATABASE_ROLES = [
  "public",
  "db_owner",
  "db_securityadmin",
  "db_accessadmin",
  "db_backupoperator",
  "db_ddladmin",
  "db_datawriter",
  "db_datareader",
  "db_denydatawriter",
  "db_denydatareader",
];
/**
 * IS_ROLEMEMBER('role'): 1 for `public` and the session user's roles, 0 for the other fixed database
 * roles, NULL for a role the stand-in does not know (SQL Server: a role that does not exist).
 */
const isRoleMember: FunctionDef = {
  min: 1,
  max: 1,
  emit: (args, _r, ctx) => {
    const role = `lower(CAST(${args[0]} AS text))`;
    const fixed = FIXED_DATABASE_ROLES.map((name) => ctx.literal(name)).join(", ");
    return (
      `CAST(CASE WHEN ${role} = 'public' OR ${role} = ANY(string_to_array(${ctx.sessionSlot("roles")}, ',')) THEN 1 ` +
      `WHEN ${role} IN (${fixed}) THEN 0 END AS integer)`
    );
  },
};
// The clock time, not now(): Postgres' now() is frozen at the transaction start.
const getdate: FunctionDef = { min: 0, max: 0, emit: () => "CAST(clock_timestamp() AS timestamp(3))" };
const sysdatetime: FunctionDef = { min: 0, max: 0, emit: () => "CAST(clock_timestamp() AS timestamp(6))" };

const FUNCTIONS: Record<string, FunctionDef> = {
  COUNT: {
    min: 1,
    max: 1,
    emit: (args, raw, _ctx, distinct) =>
      `CAST(count(${distinct}${raw[0]?.t === "star" ? "*" : args[0]}) AS integer)`,
  },
  COUNT_BIG: {
    min: 1,
    max: 1,
    emit: (args, raw, _c, d) => `count(${d}${raw[0]?.t === "star" ? "*" : args[0]})`,
  },
  SUM: { min: 1, max: 1, emit: fn("tsql.sum") },
  AVG: { min: 1, max: 1, emit: fn("tsql.avg") },
  MIN: { min: 1, max: 1, emit: fn("min") },
  MAX: { min: 1, max: 1, emit: fn("max") },
  STRING_AGG: {
    min: 2,
    max: 2,
    emit: (args, _r, _c, d) => `string_agg(${d}CAST(${args[0]} AS text), ${args[1]})`,
  },
  ISNULL: { min: 2, max: 2, emit: (args) => `COALESCE(${args.join(", ")})` },
  COALESCE: { min: 2, max: 100, emit: (args) => `COALESCE(${args.join(", ")})` },
  NULLIF: { min: 2, max: 2, emit: (args) => `NULLIF(${args.join(", ")})` },
  IIF: { min: 3, max: 3, emit: (args) => `CASE WHEN ${args[0]} THEN ${args[1]} ELSE ${args[2]} END` },
  // LEN ignores trailing spaces and converts its argument to a string.
  LEN: { min: 1, max: 1, emit: (args) => `length(rtrim(CAST(${args[0]} AS text)))` },
  UPPER: { min: 1, max: 1, emit: fn("upper") },
  LOWER: { min: 1, max: 1, emit: fn("lower") },
  LTRIM: { min: 1, max: 2, emit: fn("ltrim") },
  RTRIM: { min: 1, max: 2, emit: fn("rtrim") },
  TRIM: { min: 1, max: 1, emit: fn("btrim") },
  REPLACE: { min: 3, max: 3, emit: fn("replace") },
  SUBSTRING: { min: 3, max: 3, emit: fn("substr") },
  LEFT: { min: 2, max: 2, emit: fn("left") },
  RIGHT: { min: 2, max: 2, emit: fn("right") },
  CHARINDEX: { min: 2, max: 2, emit: (args) => `strpos(${args[1]}, ${args[0]})` },
  REVERSE: { min: 1, max: 1, emit: fn("reverse") },
  REPLICATE: { min: 2, max: 2, emit: fn("repeat") },
  SPACE: { min: 1, max: 1, emit: (args) => `repeat(' ', ${args[0]})` },
  CONCAT: { min: 2, max: 254, emit: fn("concat") },
  CONCAT_WS: { min: 3, max: 254, emit: fn("concat_ws") },
  ASCII: { min: 1, max: 1, emit: fn("ascii") },
  UNICODE: { min: 1, max: 1, emit: fn("ascii") },
  CHAR: { min: 1, max: 1, emit: fn("chr") },
  NCHAR: { min: 1, max: 1, emit: fn("chr") },
  ABS: { min: 1, max: 1, emit: fn("abs") },
  CEILING: { min: 1, max: 1, emit: fn("ceil") },
  FLOOR: { min: 1, max: 1, emit: fn("floor") },
  ROUND: { min: 2, max: 2, emit: fn("tsql.round") },
  POWER: { min: 2, max: 2, emit: fn("power") },
  SQRT: { min: 1, max: 1, emit: fn("sqrt") },
  SIGN: { min: 1, max: 1, emit: fn("sign") },
  EXP: { min: 1, max: 1, emit: fn("exp") },
  LOG: {
    min: 1,
    max: 2,
    emit: (args) => (args.length === 1 ? `ln(${args[0]})` : `log(${args[1]}, ${args[0]})`),
  },
  LOG10: { min: 1, max: 1, emit: fn("log") },
  PI: { min: 0, max: 0, emit: () => "pi()" },
  RAND: { min: 0, max: 0, emit: () => "random()" },
  GETDATE: getdate,
  GETUTCDATE: getdate,
  SYSDATETIME: sysdatetime,
  SYSUTCDATETIME: sysdatetime,
  SYSDATETIMEOFFSET: { min: 0, max: 0, emit: () => "clock_timestamp()" },
  NEWID: { min: 0, max: 0, emit: () => "gen_random_uuid()" },
  NEWSEQUENTIALID: { min: 0, max: 0, emit: () => "uuidv7()" },
  DATEADD: {
    min: 3,
    max: 3,
    emit: (args, raw, ctx) => `tsql.dateadd(${datePart(raw, ctx)}, ${args[1]}, ${args[2]})`,
  },
  DATEDIFF: {
    min: 3,
    max: 3,
    emit: (args, raw, ctx) => `tsql.datediff(${datePart(raw, ctx)}, ${args[1]}, ${args[2]})`,
  },
  DATEPART: { min: 2, max: 2, emit: (args, raw, ctx) => `tsql.datepart(${datePart(raw, ctx)}, ${args[1]})` },
  YEAR: { min: 1, max: 1, emit: (args) => `tsql.datepart('year', ${args[0]})` },
  MONTH: { min: 1, max: 1, emit: (args) => `tsql.datepart('month', ${args[0]})` },
  DAY: { min: 1, max: 1, emit: (args) => `tsql.datepart('day', ${args[0]})` },
  DB_NAME: {
    min: 0,
    max: 0,
    emit: (_a, _r, ctx) => `CAST(${ctx.literal(ctx.databaseName)} AS varchar(128))`,
  },
  DB_ID: {
    min: 0,
    max: 1,
    emit: (args, _r, ctx) =>
      args.length === 0
        ? "5"
        : `CASE WHEN lower(CAST(${args[0]} AS text)) = lower(${ctx.literal(ctx.databaseName)}) THEN 5 END`,
  },
  SCHEMA_NAME: {
    min: 0,
    max: 1,
    emit: (args) => (args.length === 0 ? "CAST('dbo' AS varchar(128))" : `tsql.schema_name(${args[0]})`),
  },
  SCHEMA_ID: { min: 0, max: 1, emit: (args) => (args.length === 0 ? "1" : `tsql.schema_id(${args[0]})`) },
  OBJECT_ID: { min: 1, max: 2, emit: fn("tsql.object_id") },
  OBJECT_NAME: { min: 1, max: 1, emit: fn("tsql.object_name") },
  // Only ProductVersion (Sequelize's mssql dialect reads it to learn the server version); NULL otherwise,
  // as SQL Server answers an unknown property.
  SERVERPROPERTY: {
    min: 1,
    max: 1,
    emit: (args) =>
      `CASE WHEN upper(CAST(${args[0]} AS text)) = 'PRODUCTVERSION' THEN CAST('16.0.1000.6' AS varchar(128)) END`,
  },
  SUSER_SNAME: principal,
  SUSER_NAME: principal,
  USER_NAME: principal,
  ORIGINAL_LOGIN: principal,
  IS_ROLEMEMBER: isRoleMember,
  SCOPE_IDENTITY: {
    min: 0,
    max: 0,
    emit: (_a, _r, ctx) => `CAST(${ctx.sessionSlot("scope_identity")} AS numeric(38,0))`,
  },
};

/** T-SQL built-ins the stand-in knows but does not run (they get 50501, not 195). */
const KNOWN_BUILTINS = new Set(
  (
    "APP_NAME ATN2 ACOS ASIN ATAN CHECKSUM BINARY_CHECKSUM CHOOSE COL_LENGTH COL_NAME COLUMNPROPERTY COMPRESS " +
    "CONTEXT_INFO COS COT CUME_DIST CURRENT_REQUEST_ID CURSOR_STATUS DATABASEPROPERTYEX DATALENGTH DATEDIFF_BIG " +
    "DATEFROMPARTS DATENAME DATETIME2FROMPARTS DATETIMEFROMPARTS DATETRUNC DECOMPRESS DEGREES DENSE_RANK DIFFERENCE " +
    "EOMONTH ERROR_LINE ERROR_MESSAGE ERROR_NUMBER ERROR_PROCEDURE ERROR_SEVERITY ERROR_STATE FIRST_VALUE FORMAT " +
    "FORMATMESSAGE GREATEST GROUPING GROUPING_ID HAS_PERMS_BY_NAME HOST_ID HOST_NAME IDENT_CURRENT IDENT_INCR " +
    "IDENT_SEED INDEXPROPERTY IS_MEMBER IS_SRVROLEMEMBER ISDATE ISJSON ISNUMERIC JSON_MODIFY " +
    "JSON_QUERY JSON_VALUE JSON_OBJECT JSON_ARRAY LAG LAST_VALUE LEAD LEAST NEXT NTILE OBJECT_DEFINITION " +
    "OBJECT_SCHEMA_NAME OBJECTPROPERTY OBJECTPROPERTYEX PARSE PARSENAME PATINDEX PERCENT_RANK PERMISSIONS QUOTENAME " +
    "RADIANS RANK ROWCOUNT_BIG ROW_NUMBER SESSION_CONTEXT SESSIONPROPERTY SIN SOUNDEX SQUARE STDEV " +
    "STDEVP STR STRING_ESCAPE STRING_SPLIT STUFF SWITCHOFFSET TAN TODATETIMEOFFSET TRANSLATE TRY_PARSE TYPE_ID " +
    "TYPE_NAME TYPEPROPERTY USER_ID SUSER_ID SUSER_SID VAR VARP XACT_STATE CHECKSUM_AGG APPROX_COUNT_DISTINCT " +
    "OPENJSON GENERATE_SERIES TIMEFROMPARTS SMALLDATETIMEFROMPARTS DATETIMEOFFSETFROMPARTS"
  ).split(" "),
);

/** Writes a function call in Postgres; `args` are the already translated arguments. */
export function translateFunction(
  name: string,
  args: string[],
  raw: Expr[],
  distinct: boolean,
  ctx: FunctionContext,
): string {
  const def = FUNCTIONS[name];
  if (!def) {
    if (KNOWN_BUILTINS.has(name)) return ctx.unsupported(`function ${name}`);
    throw sqlErrors.notBuiltIn(name.toLowerCase());
  }
  if (args.length < def.min || args.length > def.max) {
    throw sqlErrors.wrongArgumentCount(name.toLowerCase(), def.min, def.max);
  }
  if (distinct && !["COUNT", "COUNT_BIG", "SUM", "AVG", "MIN", "MAX", "STRING_AGG"].includes(name)) {
    return ctx.unsupported(`DISTINCT in ${name}`);
  }
  return def.emit(args, raw, ctx, distinct ? "DISTINCT " : "");
}
