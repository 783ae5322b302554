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
