import {
  createUserStatement,
  describeToken,
  EntraSqlError,
  isEntraSqlError,
  type TokenIdentity,
} from "@entra-sql/core";

// Named errors with `cause`; `isXxxError` helpers compare `name` (duplicate installs).

/**
 * The server refused the token login twice: once with the cached token and once with a fresh one.
 * The identity is not (or no longer) a database user, is disabled or revoked, or the token's tenant
 * or audience does not fit the server.
 */
export class TokenLoginRejectedError extends EntraSqlError {
  override name = "TokenLoginRejectedError";
  constructor(
    /** Who the token spoke for; `undefined` when no token was sent or it could not be read. */
    readonly principal: TokenIdentity | undefined,
    /** The T-SQL an Entra admin of the server runs to let this identity in, when known. */
    readonly createUserStatement: string | undefined,
    readonly server: string,
    readonly database: string | undefined,
    options: { cause: unknown },
  ) {
    super(rejectedMessage(principal, createUserStatement, server, database, options.cause), options);
  }
}

export const isTokenLoginRejectedError = (error: unknown): error is TokenLoginRejectedError =>
  hasName(error, "TokenLoginRejectedError");

/** A connect failure whose driver error had no message (tedious `AggregateError`s); `cause` holds it. */
export class ConnectionFailedError extends EntraSqlError {
  override name = "ConnectionFailedError";
  /** The driver's error code (e.g. `ELOGIN`, `EFEDAUTH`, `ESOCKET`), when it had one. */
  readonly code: string | undefined;
  constructor(server: string, detail: string, code: string | undefined, options: { cause: unknown }) {
    super(`@entra-sql/mssql: could not connect to "${server}": ${detail}`, options);
    this.code = code;
  }
}

export const isConnectionFailedError = (error: unknown): error is ConnectionFailedError =>
  hasName(error, "ConnectionFailedError");

/**
 * A statement was refused with error 37396 ("access token is expired") and could not be run again for
 * you: it was on a connection held by a transaction or a prepared statement, or it was refused again
 * after its one retry, or a streamed request was refused after it had streamed results. The refused
 * statement did not run; its connection is destroyed (never returned to the pool's use). `during` says
 * which case, and the message what to do. `cause` is the driver's error.
 */
export class SessionTokenExpiredError extends EntraSqlError {
  override name = "SessionTokenExpiredError";
  /** Error 37396. */
  readonly number = 37396;
  constructor(
    /**
     * `"transaction"`: a statement or COMMIT inside a transaction; `"prepared-statement"`: an execute of
     * a prepared statement; `"retry"`: refused again on a freshly logged-in connection; `"stream"`: a
     * streamed request refused after it had streamed results, so not retried.
     */
    readonly during: "transaction" | "prepared-statement" | "retry" | "stream",
    options: { cause: unknown },
  ) {
    super(SESSION_TOKEN_EXPIRED_MESSAGES[during], options);
  }
}

const REFUSED =
  "@entra-sql/mssql: the server refused %s because the login token of its session expired (error 37396, " +
  "e.g. after the server revalidated open sessions).";
const refused = (what: string, rest: string) => `${REFUSED.replace("%s", what)} ${rest}`;

const SESSION_TOKEN_EXPIRED_MESSAGES: Record<SessionTokenExpiredError["during"], string> = {
  transaction: refused(
    "a statement inside a transaction",
    "The statement was not executed and the transaction was NOT committed: roll it back (it resolves; the " +
      "connection is destroyed, not reused) and run the whole transaction again; new connections log in " +
      "with a fresh token.",
  ),
  "prepared-statement": refused(
    "to execute a prepared statement",
    "The statement was not executed, and its prepared handle died with that session: call unprepare() (it " +
      "resolves; the connection is destroyed, not reused), then prepare() the statement again (this " +
      "PreparedStatement or a new one) and execute it; new connections log in with a fresh token. If it " +
      "was prepared inside a transaction, unprepare it, roll the transaction back and run it again.",
  ),
  retry: refused(
    "a statement",
    "It refused it again after one retry on a freshly logged-in connection. The statement was not " +
      "executed. Check the token source (clock skew, token lifetime) and the identity's access.",
  ),
  stream: refused(
    "a statement of a streamed request",
    "The request had already streamed results (from its earlier statements, which ran), so it was not " +
      "retried: a retry would stream them again. The refused statement was not executed. Run the request " +
      "again, minding what its earlier statements changed; new connections log in with a fresh token.",
  ),
};

export const isSessionTokenExpiredError = (error: unknown): error is SessionTokenExpiredError =>
  hasName(error, "SessionTokenExpiredError");

/** Describes a token's principal without failing: `undefined` for an unreadable token. */
export function identityOf(token: string | undefined): TokenIdentity | undefined {
  if (token === undefined) return undefined;
  try {
    return describeToken(token);
  } catch {
    return undefined;
  }
}

export function createUserStatementFor(identity: TokenIdentity | undefined): string | undefined {
  if (identity === undefined) return undefined;
  try {
    return createUserStatement(identity);
  } catch {
    return undefined;
  }
}

function principalText(identity: TokenIdentity | undefined): string {
  if (identity === undefined) return "the token's principal";
  const name =
    identity.kind === "user"
      ? (identity.userPrincipalName ?? identity.displayName)
      : (identity.displayName ?? (identity.appId === undefined ? undefined : `app ${identity.appId}`));
  const kind = identity.kind.replace("-", " ");
  return `${kind} ${name === undefined ? "" : `"${name}" `}(object ID ${identity.objectId}, tenant ${identity.tenantId})`;
}

function rejectedMessage(
  identity: TokenIdentity | undefined,
  statement: string | undefined,
  server: string,
  database: string | undefined,
  cause: unknown,
): string {
  const where = `"${server}"${database === undefined ? "" : `, database "${database}"`}`;
  const lines = [
    `@entra-sql/mssql: ${where} refused the login of ${principalText(identity)} twice, the second time with a ` +
      `freshly fetched token. Server said: ${firstMessage(cause) ?? "(no message)"}`,
    "Is this identity a user of that database? A Microsoft Entra admin of the server runs, in that database:",
    statement ?? "  CREATE USER [<identity name>] FROM EXTERNAL PROVIDER;",
    "If it is a user, check that it is not disabled or revoked, and that the token's tenant is the server's.",
  ];
  return lines.join("\n");
}

/**
 * The most telling message in an error graph (mssql wraps tedious' error in `originalError`; tedious
 * puts a credential's error second in an `AggregateError`): an @entra-sql error's message if there is
 * one (a refused scope, a failed token fetch), else the first non-empty message.
 */
export function firstMessage(error: unknown): string | undefined {
  const queue: unknown[] = [error];
  const seen = new Set<object>();
  let first: string | undefined;
  while (queue.length > 0 && seen.size < 32) {
    const item = queue.shift();
    if (typeof item !== "object" || item === null || seen.has(item)) continue;
    seen.add(item);
    const record = item as { message?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.message === "string" && record.message.trim() !== "") {
      if (isEntraSqlError(item)) return record.message;
      first ??= record.message;
    }
    queue.push(record.originalError, record.cause);
    if (Array.isArray(record.errors)) queue.push(...record.errors);
  }
  return first;
}

const hasName = (error: unknown, name: string): boolean =>
  typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;
