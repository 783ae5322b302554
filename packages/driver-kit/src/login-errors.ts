import {
  createUserStatement,
  describeToken,
  EntraSqlError,
  isEntraSqlError,
  type TokenIdentity,
} from "@entra-sql/core";
import { errorGraph, read } from "@entra-sql/core/internal";
import { adviceFor, type ServerMessage } from "./login-refusals.js";

// The connect-time errors every adapter reports the same way. Each takes the adapter's package name for
// its message prefix, like InvalidOptionError. No message ever contains a token.

/**
 * The server refused the token login twice: once with the cached token and once with a fresh one.
 * The identity is not (or no longer) a database user, is disabled or revoked, or the token's tenant or
 * audience does not fit the server. The message names the principal and the `CREATE USER` fix.
 */
export class TokenLoginRejectedError extends EntraSqlError {
  override name = "TokenLoginRejectedError";
  /** Who the token spoke for; `undefined` when no token was sent or it could not be read. */
  readonly principal: TokenIdentity | undefined;
  /** The T-SQL an Entra admin of the server runs to let this identity in, when known. */
  readonly createUserStatement: string | undefined;
  constructor(
    details: {
      /** The token of the refused login (read for its principal, never kept or printed). */
      token: string | undefined;
      server: string;
      database: string | undefined;
      /** The adapter's package name, for the message prefix. Default core's. */
      packageName?: string;
    },
    options: { cause: unknown },
  ) {
    const principal = identityOf(details.token);
    const statement = statementFor(principal);
    super(
      rejectedMessage(
        details.packageName ?? "@entra-sql/core",
        principal,
        statement,
        details.server,
        details.database,
        options.cause,
      ),
      options,
    );
    this.principal = principal;
    this.createUserStatement = statement;
  }
}

export const isTokenLoginRejectedError = (error: unknown): error is TokenLoginRejectedError =>
  hasName(error, "TokenLoginRejectedError");

/**
 * The server refused the login for a reason a new token cannot cure: a wrong database name (4060), the
 * firewall (40615), an unknown server (40532), ... `number` and `serverMessage` are the server's FIRST
 * message (the one that says why; the login then ends with 18456), the message adds what fixes it.
 * Not retried with a fresh token. `cause` is the driver's error.
 */
export class LoginRefusedError extends EntraSqlError {
  override name = "LoginRefusedError";
  /** The SQL Server error number of the server's first message, e.g. 4060. */
  readonly number: number;
  /** That message as the server sent it. */
  readonly serverMessage: string;
  constructor(
    details: { server: string; database: string | undefined; refusal: ServerMessage; packageName: string },
    options: { cause: unknown },
  ) {
    const { server, database, refusal, packageName } = details;
    const where = `"${server}"${database === undefined ? "" : `, database "${database}"`}`;
    super(
      `${packageName}: ${where} refused the login (error ${refusal.number}): ${refusal.message}\n` +
        adviceFor(refusal.number),
      options,
    );
    this.number = refusal.number;
    this.serverMessage = refusal.message;
  }
}

export const isLoginRefusedError = (error: unknown): error is LoginRefusedError =>
  hasName(error, "LoginRefusedError");

/** A connect failure whose driver error had no message (tedious `AggregateError`s); `cause` holds it. */
export class ConnectionFailedError extends EntraSqlError {
  override name = "ConnectionFailedError";
  /** The driver's error code (e.g. `ELOGIN`, `EFEDAUTH`, `ESOCKET`), when it had one. */
  readonly code: string | undefined;
  constructor(
    details: { server: string; detail: string; code: string | undefined; packageName?: string },
    options: { cause: unknown },
  ) {
    super(
      `${details.packageName ?? "@entra-sql/core"}: could not connect to "${details.server}": ${details.detail}`,
      options,
    );
    this.code = details.code;
  }
}

export const isConnectionFailedError = (error: unknown): error is ConnectionFailedError =>
  hasName(error, "ConnectionFailedError");

/**
 * The driver's connect error as is when it has a message; otherwise (tedious reports a failed
 * `token-credential` call as an `AggregateError` with an empty message) a {@link ConnectionFailedError}
 * whose message is the most telling one inside it.
 */
export function readableConnectError(
  error: unknown,
  details: { server: string; packageName?: string },
): unknown {
  if (!(error instanceof Error) || error.message.trim() !== "") return error;
  const code = (error as { code?: unknown }).code;
  return new ConnectionFailedError(
    {
      server: details.server,
      detail:
        mostTellingMessage(error) ??
        `the driver gave no message${typeof code === "string" ? ` (code ${code})` : ""}`,
      code: typeof code === "string" ? code : undefined,
      ...(details.packageName === undefined ? {} : { packageName: details.packageName }),
    },
    { cause: error },
  );
}

/**
 * The most telling message in an error graph (mssql wraps tedious' error in `originalError`; tedious
 * puts a credential's error second in an `AggregateError`): an @entra-sql error's message if there is
 * one (a refused scope, a failed token fetch), else the first non-empty message.
 */
export function mostTellingMessage(error: unknown): string | undefined {
  let first: string | undefined;
  for (const item of errorGraph(error)) {
    const message = read(item, "message");
    if (typeof message !== "string" || message.trim() === "") continue;
    if (isEntraSqlError(item)) return message;
    first ??= message;
  }
  return first;
}

function identityOf(token: string | undefined): TokenIdentity | undefined {
  if (token === undefined) return undefined;
  try {
    return describeToken(token);
  } catch {
    return undefined;
  }
}

function statementFor(identity: TokenIdentity | undefined): string | undefined {
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
  packageName: string,
  identity: TokenIdentity | undefined,
  statement: string | undefined,
  server: string,
  database: string | undefined,
  cause: unknown,
): string {
  const where = `"${server}"${database === undefined ? "" : `, database "${database}"`}`;
  return [
    `${packageName}: ${where} refused the login of ${principalText(identity)} twice, the second time with a ` +
      `freshly fetched token. Server said: ${mostTellingMessage(cause) ?? "(no message)"}`,
    "Is this identity a user of that database? A Microsoft Entra admin of the server runs, in that database:",
    statement ?? "  CREATE USER [<identity name>] FROM EXTERNAL PROVIDER;",
    "If it is a user, check that it is not disabled or revoked, and that the token's tenant is the server's.",
  ].join("\n");
}

const hasName = (error: unknown, name: string): boolean =>
  typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;
