// SQL Server errors that matter to token-based logins, recognised across the shapes drivers and ORMs
// give them, without importing any driver:
//
// - tedious 19/20 login failures: `ConnectionError` with `code: "ELOGIN"`, the server's message, and
//   NO error number (lib/token/handler.js `Login7TokenHandler.onErrorMessage` keeps only the text;
//   it sets `isTransient` when the number is in its retry list and retries remain).
// - tedious request failures: `RequestError` with `code: "EREQUEST"` and `number`, `state`, `class`;
//   several ERROR tokens in one request become an `AggregateError` whose `errors` are RequestErrors.
// - tedious `token-credential` failures: `AggregateError([ConnectionError EFEDAUTH, cause])`.
// - mssql 12: `ConnectionError`/`RequestError` (name set, `code` copied) with the driver's error in
//   the non-writable `originalError`; request errors are rebuilt from the ERROR token as
//   `new RequestError(Object.assign(new Error(msg), { info: token }))` (so `number` and
//   `originalError.info.number`), earlier errors of the batch in `precedingErrors`.
// - Knex prefixes the SQL text to `message` ("select 1 - <message>"); TypeORM's QueryFailedError
//   copies the driver error's fields and keeps it as `driverError`.
// So: walk the error graph (error-graph.ts) and match numbers where present and message texts anywhere
// in a message (login errors carry no number).

import { errorGraph, read } from "@entra-sql/core/internal";
import { LOGIN_FAILED } from "./login-refusals.js";

/** A statement on a session whose login token expired (after the server revalidated it). Not executed. */
export const ACCESS_TOKEN_EXPIRED_ON_SESSION = 37396;

const EXPIRED_ON_SESSION_TEXT = "Query cannot be executed, access token is expired";
// Azure SQL names a token-authenticated principal this way in 18456 messages, and appends
// " Token is expired." when the token's `exp` has passed.
const TOKEN_PRINCIPAL_TEXT = "Login failed for user '<token-identified principal>'";
const TOKEN_EXPIRED_TEXT = /\bToken is expired\b/i;
const LOGIN_FAILED_TEXT = /Login failed for user '[^']*'/i;

/**
 * Errors a client should retry at connect time, with a text pattern for each (tedious login errors
 * carry only the text). Sources: Microsoft Learn "Troubleshooting connectivity issues and other errors
 * with Azure SQL Database" ("List of transient fault error codes": 926, 4060, 40197, 40501, 40613,
 * 49918, 49919, 49920, 4221, 615), and the list tedious and SqlClient retry (tedious
 * `transient-error-lookup.js`: 4060, 10928, 10929, 40197, 40501, 40613). 4060 ("Cannot open database
 * ... requested by the login") is also what a wrong database name gives; both lists still call it
 * transient, so callers should bound their retries.
 */
const TRANSIENT_LOGIN_ERRORS: ReadonlyMap<number, RegExp> = new Map([
  [615, /Could not find database ID \d+, name '/i],
  [926, /Database '[^']*' cannot be opened\. It has been marked SUSPECT by recovery/i],
  [4060, /Cannot open database "[^"]*" requested by the login\. The login failed/i],
  [
    4221,
    /Login to read-secondary failed due to long wait on 'HADR_DATABASE_WAIT_FOR_TRANSITION_TO_VERSIONING'/i,
  ],
  [10928, /Resource ID ?: ?\d+\. The .* limit for the .* is \d+ and has been reached/i],
  [10929, /Resource ID ?: ?\d+\. The .* minimum guarantee is \d+, maximum limit is \d+/i],
  [40197, /The service has encountered an error processing your request\. Please try again/i],
  [40501, /The service is currently busy\. Retry the request after \d+ seconds/i],
  [
    40613,
    /Database '[^']*' on server '[^']*' is not currently available\. Please retry the connection later/i,
  ],
  [49918, /Cannot process request\. Not enough resources to process request/i],
  [49919, /Cannot process create or update request\. Too many create or update operations in progress/i],
  [49920, /Cannot process request\. Too many operations in progress for subscription/i],
]);

/** The transient error numbers recognised by {@link isTransientLoginError}. */
export const TRANSIENT_LOGIN_ERROR_NUMBERS: readonly number[] = Object.freeze([
  ...TRANSIENT_LOGIN_ERRORS.keys(),
]);

/**
 * True when the error (or any error it wraps) is 37396: "Query cannot be executed, access token is
 * expired. Please login with a new access token and execute query again." The statement was not
 * executed; the session cannot get a new token (dotnet/SqlClient#2792, #3245): destroy the
 * connection and, outside a transaction, retry the statement on a fresh one.
 */
export function isAccessTokenExpiredOnSession(error: unknown): boolean {
  return someServerError(
    error,
    (e) =>
      e.number === ACCESS_TOKEN_EXPIRED_ON_SESSION || (e.message?.includes(EXPIRED_ON_SESSION_TEXT) ?? false),
  );
}

/**
 * Whether the server refused a token login (18456):
 * - `"expired"`: `Login failed for user '<token-identified principal>'. Token is expired.` Get a new
 *   token (the cached one was stale or the clocks disagree) and connect again.
 * - `"rejected"`: `Login failed for user '<token-identified principal>'.` Azure SQL says no more: the
 *   principal has no user in this database, is disabled or revoked, or the token's tenant, audience or
 *   signature was refused. A new token for the same identity will not help.
 * - `false`: anything else, including logins that did not use a token.
 */
export function isLoginTokenRejected(error: unknown): false | "expired" | "rejected" {
  let verdict: false | "expired" | "rejected" = false;
  someServerError(error, (e) => {
    const message = e.message ?? "";
    const tokenLogin = message.includes(TOKEN_PRINCIPAL_TEXT);
    const loginFailed = e.number === LOGIN_FAILED || LOGIN_FAILED_TEXT.test(message);
    if (loginFailed && TOKEN_EXPIRED_TEXT.test(message)) {
      verdict = "expired";
      return true;
    }
    if (tokenLogin) verdict = "rejected";
    return false;
  });
  return verdict;
}

/**
 * True when a connect attempt failed with an error the server calls transient (reconfiguration,
 * failover, throttling: {@link TRANSIENT_LOGIN_ERROR_NUMBERS}); retry after a delay (Microsoft
 * recommends 5 s first, growing to 60 s). Also true when tedious itself flagged the error
 * `isTransient`.
 */
export function isTransientLoginError(error: unknown): boolean {
  return someServerError(error, (e) => {
    if (e.isTransient === true) return true;
    if (e.number !== undefined && TRANSIENT_LOGIN_ERRORS.has(e.number)) return true;
    const message = e.message;
    if (message === undefined) return false;
    for (const pattern of TRANSIENT_LOGIN_ERRORS.values()) if (pattern.test(message)) return true;
    return false;
  });
}

/** The fields this module reads from any error-like object. */
interface ServerErrorView {
  number: number | undefined;
  message: string | undefined;
  isTransient: boolean | undefined;
}

/** True when `test` holds for the error or anything it wraps. */
function someServerError(root: unknown, test: (view: ServerErrorView) => boolean): boolean {
  for (const item of errorGraph(root)) if (test(view(item))) return true;
  return false;
}

/** The number, message and transient flag of one error-like object (a tedious ERROR token is one too). */
export function view(item: object): ServerErrorView {
  const number = read(item, "number");
  const message = read(item, "message");
  const isTransient = read(item, "isTransient");
  return {
    // mssql sets `number` to a driver code string when the wrapped error has no number.
    number: typeof number === "number" && Number.isInteger(number) ? number : undefined,
    message: typeof message === "string" ? message : undefined,
    isTransient: typeof isTransient === "boolean" ? isTransient : undefined,
  };
}
