// The few statements the TDS layer itself recognises in SQL text. Everything else goes to the
// engine untouched; these are recognised only when a batch consists of nothing else.

/** Splits on semicolons and line breaks outside quotes and brackets. */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const char of text) {
    if (quote) {
      current += char;
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    if (char === "[") quote = "]";
    if (char === ";" || char === "\n" || char === "\r") {
      if (current.trim() !== "") statements.push(current.trim());
      current = "";
      continue;
    }
    current += char;
  }
  if (current.trim() !== "") statements.push(current.trim());
  return statements;
}

const SESSION_OPTION =
  /^set\s+(?:(?:ansi_nulls|ansi_null_dflt_on|ansi_null_dflt_off|ansi_padding|ansi_warnings|arithabort|arithignore|concat_null_yields_null|cursor_close_on_commit|implicit_transactions|numeric_roundabort|quoted_identifier|xact_abort|nocount|fmtonly|noexec|statistics\s+\w+)\s+(?:on|off)|datefirst\s+\d+|dateformat\s+\w+|language\s+[\w[\]]+|textsize\s+-?\d+|lock_timeout\s+-?\d+|deadlock_priority\s+\w+|transaction\s+isolation\s+level\s+(?:read\s+committed|read\s+uncommitted|repeatable\s+read|serializable|snapshot))$/i;

/**
 * A batch made only of session-option SET statements, like the one tedious sends right after login.
 * The stand-in can answer it without booting the engine (which treats SET as a no-op anyway).
 */
export function isSessionOptionsBatch(text: string): boolean {
  const statements = splitStatements(text);
  return statements.length > 0 && statements.every((statement) => SESSION_OPTION.test(statement));
}

export function languageOf(text: string): string | undefined {
  for (const statement of splitStatements(text)) {
    const match = /^set\s+language\s+\[?(\w+)\]?$/i.exec(statement);
    if (match) return match[1];
  }
  return undefined;
}

export type UserStatement =
  | { kind: "create-user"; name: string; objectId?: string }
  | { kind: "drop-user"; name: string; ifExists: boolean }
  | { kind: "add-role-member"; role: string; name: string }
  | { kind: "set-default-schema"; name: string; schema: string };

const NAME = String.raw`(?:\[((?:[^\]]|\]\])+)\]|"([^"]+)"|([\w@.\-]+))`;
const CREATE_USER = new RegExp(
  String.raw`^create\s+user\s+${NAME}\s+from\s+external\s+provider(?:\s+with\s+object_id\s*=\s*'([0-9a-fA-F-]{36})')?$`,
  "i",
);
const DROP_USER = new RegExp(String.raw`^drop\s+user\s+(if\s+exists\s+)?${NAME}$`, "i");
const ADD_MEMBER = new RegExp(String.raw`^alter\s+role\s+${NAME}\s+add\s+member\s+${NAME}$`, "i");
const DEFAULT_SCHEMA = new RegExp(
  String.raw`^alter\s+user\s+${NAME}\s+with\s+default_schema\s*=\s*${NAME}$`,
  "i",
);

function nameOf(match: RegExpExecArray, first: number): string {
  return (match[first] ?? match[first + 1] ?? match[first + 2] ?? "").replace(/\]\]/g, "]");
}

/**
 * `CREATE USER [x] FROM EXTERNAL PROVIDER`, `DROP USER [x]`, `ALTER ROLE r ADD MEMBER [x]` and
 * `ALTER USER [x] WITH DEFAULT_SCHEMA = [s]`:
 * Azure resolves these against the directory, which is the stand-in's job, not the engine's.
 * Returns undefined unless EVERY statement of the batch is one of them.
 */
export function parseUserStatements(text: string): UserStatement[] | undefined {
  const statements = splitStatements(text);
  if (statements.length === 0) return undefined;
  const parsed: UserStatement[] = [];
  for (const statement of statements) {
    let match = CREATE_USER.exec(statement);
    if (match) {
      parsed.push({ kind: "create-user", name: nameOf(match, 1), objectId: match[4] });
      continue;
    }
    match = DROP_USER.exec(statement);
    if (match) {
      parsed.push({ kind: "drop-user", name: nameOf(match, 2), ifExists: match[1] !== undefined });
      continue;
    }
    match = ADD_MEMBER.exec(statement);
    if (match) {
      parsed.push({ kind: "add-role-member", role: nameOf(match, 1), name: nameOf(match, 4) });
      continue;
    }
    match = DEFAULT_SCHEMA.exec(statement);
    if (match) {
      parsed.push({ kind: "set-default-schema", name: nameOf(match, 1), schema: nameOf(match, 4) });
      continue;
    }
    return undefined;
  }
  return parsed;
}

/** Which ENVCHANGE ends a transaction that SQL text closed: rollback if the text rolled back. */
export function mentionsRollback(text: string): boolean {
  return /\brollback\b/i.test(text);
}
