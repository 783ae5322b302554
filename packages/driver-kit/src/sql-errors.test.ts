import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  isAccessTokenExpiredOnSession,
  isLoginTokenRejected,
  isTransientLoginError,
  TRANSIENT_LOGIN_ERROR_NUMBERS,
} from "./sql-errors.js";

// Real error objects, built by the installed drivers' own code. The kit imports no driver, so
// tedious 19.2.2, mssql 12.7.14 and typeorm 1.1.1 are resolved from the test workspace package
// (test/package.json), which pins the versions the project tests against. The handlers below are
// the ones tedious runs when a server's ERROR token arrives (lib/token/handler.js); if a tedious
// upgrade changes how it builds errors, these tests see it.
const requireDriver = createRequire(join(__dirname, "../../../test/package.json"));

interface ServerError {
  number: number;
  state: number;
  class: number;
  message: string;
}
type ErrorMessageToken = ServerError & { serverName: string; procName: string; lineNumber: number };
type TokenHandler = { onErrorMessage(token: ErrorMessageToken): void };
type Ctor<T> = new (...args: never[]) => T;

const { Login7TokenHandler, RequestTokenHandler } = requireDriver("tedious/lib/token/handler") as {
  Login7TokenHandler: new (connection: object) => TokenHandler;
  RequestTokenHandler: new (connection: object, request: object) => TokenHandler;
};
const { ErrorMessageToken } = requireDriver("tedious/lib/token/token") as {
  ErrorMessageToken: new (fields: ErrorMessageToken) => ErrorMessageToken;
};
const { TransientErrorLookup } = requireDriver("tedious/lib/transient-error-lookup") as {
  TransientErrorLookup: Ctor<object>;
};
const TediousRequest = requireDriver("tedious/lib/request") as new (
  sql: string,
  callback: () => void,
) => {
  error?: Error;
};
const tediousErrors = requireDriver("tedious/lib/errors") as {
  ConnectionError: new (message: string, code?: string) => Error & { code?: string };
};
const mssqlErrors = requireDriver("mssql/lib/error") as {
  ConnectionError: new (error: Error | string, code?: string) => Error & { originalError?: Error };
  RequestError: new (error: Error | string, code?: string) => Error & { precedingErrors?: Error[] };
};
const { QueryFailedError } = requireDriver("typeorm/error/QueryFailedError") as {
  QueryFailedError: new (query: string, parameters: unknown[], driverError: Error) => Error;
};

// Texts as Azure SQL sends them (the same texts the SQL stand-in answers with, test/support/tds/azure-errors.ts).
const TOKEN_LOGIN_FAILED = "Login failed for user '<token-identified principal>'.";
const EXPIRED_ON_SESSION =
  "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.";
const serverError = (number: number, message: string, cls = 16): ServerError => ({
  number,
  state: 1,
  class: cls,
  message,
});
const tokenLoginFailed = (expired: boolean) =>
  serverError(18456, expired ? `${TOKEN_LOGIN_FAILED} Token is expired.` : TOKEN_LOGIN_FAILED, 14);
const expiredOnSession = serverError(37396, EXPIRED_ON_SESSION);
const statementTerminated = serverError(3621, "The statement has been terminated.", 0);
const TRANSIENT: Record<number, string> = {
  40613:
    "Database 'appdb' on server 'myserver' is not currently available. Please retry the connection later. If the problem persists, contact customer support, and provide them the session tracing ID of '00000000-0000-0000-0000-000000000000'.",
  40197: "The service has encountered an error processing your request. Please try again. Error code 4815.",
  40501:
    "The service is currently busy. Retry the request after 10 seconds. Incident ID: 00000000-0000-0000-0000-000000000000. Code: 0.",
  49918:
    "Cannot process request. Not enough resources to process request. The service is currently busy. Please retry the request later.",
  49919:
    'Cannot process create or update request. Too many create or update operations in progress for subscription "42".',
  49920: 'Cannot process request. Too many operations in progress for subscription "42".',
  4221: "Login to read-secondary failed due to long wait on 'HADR_DATABASE_WAIT_FOR_TRANSITION_TO_VERSIONING'. The replica is not available for login because row versions are missing for transactions that were in-flight when the replica was recycled.",
  4060: 'Cannot open database "appdb" requested by the login. The login failed.',
  10928:
    "Resource ID : 1. The request limit for the database is 30 and has been reached. See 'http://go.microsoft.com/fwlink/?LinkId=267637' for assistance.",
  10929:
    "Resource ID : 1. The request minimum guarantee is 0, maximum limit is 30, and the current usage for the database is 30. However, the server is currently too busy to support requests greater than 30 for this database.",
  926: "Database 'replicatedmaster' cannot be opened. It has been marked SUSPECT by recovery. See the SQL Server errorlog for more information.",
  615: "Could not find database ID 5, name 'appdb'. The database may be offline. Wait a few minutes and try again.",
};

/** A stand-in for the tedious Connection the handlers talk to; records the ERROR tokens they emit. */
function fakeConnection(retriesLeft: boolean) {
  const emitted: ErrorMessageToken[] = [];
  const connection = Object.assign(new EventEmitter(), {
    transientErrorLookup: new TransientErrorLookup(),
    curTransientRetryCount: retriesLeft ? 0 : 3,
    config: { options: { maxRetriesOnTransientErrors: 3 } },
    loginError: undefined as Error | undefined,
  });
  connection.on("errorMessage", (token: ErrorMessageToken) => emitted.push(token));
  return { connection, emitted };
}

const token = (error: ServerError) =>
  new ErrorMessageToken({ ...error, serverName: "myserver", procName: "", lineNumber: 1 });

/** The error `connection.connect()` rejects with after the server's LOGIN7 reply carried `error`. */
function tediousLoginError(error: ServerError, { retriesLeft = false } = {}) {
  const { connection } = fakeConnection(retriesLeft);
  new Login7TokenHandler(connection).onErrorMessage(token(error));
  if (!connection.loginError) throw new Error("tedious did not set loginError");
  return connection.loginError as Error & { code?: string; isTransient?: boolean };
}

/** The error a tedious Request completes with after the server sent `errors` (one ERROR token each). */
function tediousRequestError(...errors: ServerError[]) {
  const { connection, emitted } = fakeConnection(false);
  const request = new TediousRequest("SELECT 1", () => {});
  const handler = new RequestTokenHandler(connection, request);
  for (const error of errors) handler.onErrorMessage(token(error));
  if (!request.error) throw new Error("tedious did not set request.error");
  return { error: request.error, emitted };
}

/** mssql 12 lib/tedious/connection-pool.js `_poolCreate`: `err = new ConnectionError(err)`. */
const mssqlConnectError = (tediousError: Error) => new mssqlErrors.ConnectionError(tediousError);

/**
 * mssql 12 lib/tedious/request.js: each 'errorMessage' token becomes
 * `new RequestError(Object.assign(new Error(info.message), { info }), 'EREQUEST')`; the last one is
 * returned with the earlier ones in `precedingErrors`.
 */
function mssqlRequestError(...errors: ServerError[]) {
  const { emitted } = tediousRequestError(...errors);
  const wrapped = emitted.map((info) => {
    const err = Object.assign(new Error(info.message), { info });
    return new mssqlErrors.RequestError(err, "EREQUEST");
  });
  const last = wrapped.pop();
  if (!last) throw new Error("no errors");
  last.precedingErrors = wrapped;
  return last;
}

/** Knex 3 query-executioner.js: `err.message = sql + ' - ' + err.message`. */
function knexQueryError(error: Error, sql = "select * from [users] where [id] = @p0") {
  error.message = `${sql} - ${error.message}`;
  return error;
}

describe("the driver error shapes these tests rely on", () => {
  it("tedious login errors carry the text and code ELOGIN but no number", () => {
    const error = tediousLoginError(tokenLoginFailed(true));
    expect(error).toBeInstanceOf(tediousErrors.ConnectionError);
    expect(error).toMatchObject({ code: "ELOGIN", message: `${TOKEN_LOGIN_FAILED} Token is expired.` });
    expect(error).not.toHaveProperty("number");
  });

  it("tedious flags transient login errors only while retries remain", () => {
    expect(
      tediousLoginError(serverError(40613, TRANSIENT[40613] ?? ""), { retriesLeft: true }).isTransient,
    ).toBe(true);
    expect(tediousLoginError(serverError(40613, TRANSIENT[40613] ?? "")).isTransient).toBeUndefined();
  });

  it("tedious request errors carry the number; several become an AggregateError", () => {
    expect(tediousRequestError(expiredOnSession).error).toMatchObject({ number: 37396, code: "EREQUEST" });
    expect(tediousRequestError(expiredOnSession, statementTerminated).error).toBeInstanceOf(AggregateError);
  });

  it("mssql keeps the driver error in originalError and the earlier ones in precedingErrors", () => {
    const connect = mssqlConnectError(tediousLoginError(tokenLoginFailed(false)));
    expect(connect).toMatchObject({ name: "ConnectionError", code: "ELOGIN" });
    expect(connect.originalError).toBeInstanceOf(tediousErrors.ConnectionError);
    const request = mssqlRequestError(expiredOnSession, statementTerminated);
    expect(request).toMatchObject({ name: "RequestError", number: 3621 });
    expect(request.precedingErrors?.[0]).toMatchObject({ number: 37396 });
  });
});

describe("isAccessTokenExpiredOnSession()", () => {
  it.each([
    ["a tedious RequestError", () => tediousRequestError(expiredOnSession).error],
    [
      "a tedious AggregateError (37396 + 3621)",
      () => tediousRequestError(expiredOnSession, statementTerminated).error,
    ],
    ["an mssql RequestError", () => mssqlRequestError(expiredOnSession)],
    [
      "an mssql RequestError with 37396 in precedingErrors",
      () => mssqlRequestError(expiredOnSession, statementTerminated),
    ],
    [
      "an mssql RequestError wrapping a tedious AggregateError (number is a code string)",
      () => {
        const aggregate = tediousRequestError(statementTerminated, expiredOnSession).error;
        return new mssqlErrors.RequestError(aggregate, "EREQUEST");
      },
    ],
    [
      "a Knex error (SQL prefixed to the message)",
      () => knexQueryError(tediousRequestError(expiredOnSession).error),
    ],
    [
      "a TypeORM QueryFailedError",
      () => new QueryFailedError("SELECT 1", [], mssqlRequestError(expiredOnSession)),
    ],
    ["only the text, no number", () => new Error(`RequestError: ${EXPIRED_ON_SESSION}`)],
    [
      "a wrapper with cause",
      () => new Error("query failed", { cause: tediousRequestError(expiredOnSession).error }),
    ],
  ])("recognises %s", (_, make) => {
    expect(isAccessTokenExpiredOnSession(make())).toBe(true);
  });

  it.each([
    ["a login failure", () => tediousLoginError(tokenLoginFailed(true))],
    [
      "another request error",
      () => tediousRequestError(serverError(208, "Invalid object name 'users'.")).error,
    ],
    ["an mssql error of another number", () => mssqlRequestError(statementTerminated)],
    ["undefined", () => undefined],
    ["null", () => null],
    ["a string", () => EXPIRED_ON_SESSION],
    ["a number", () => 37396],
  ])("ignores %s", (_, make) => {
    expect(isAccessTokenExpiredOnSession(make())).toBe(false);
  });
});

describe("isLoginTokenRejected()", () => {
  it.each([
    ["tedious, token expired", () => tediousLoginError(tokenLoginFailed(true)), "expired"],
    ["tedious, token refused", () => tediousLoginError(tokenLoginFailed(false)), "rejected"],
    ["mssql, token expired", () => mssqlConnectError(tediousLoginError(tokenLoginFailed(true))), "expired"],
    ["mssql, token refused", () => mssqlConnectError(tediousLoginError(tokenLoginFailed(false))), "rejected"],
    [
      "a number-carrying shape, expired",
      () => Object.assign(new Error(tokenLoginFailed(true).message), { number: 18456 }),
      "expired",
    ],
    ["an ERROR token as tedious emits it", () => token(tokenLoginFailed(false)), "rejected"],
    [
      "a wrapper with cause",
      () => new Error("connect failed", { cause: tediousLoginError(tokenLoginFailed(true)) }),
      "expired",
    ],
  ])("%s -> %s", (_, make, verdict) => {
    expect(isLoginTokenRejected(make())).toBe(verdict);
  });

  it.each([
    [
      "a SQL-authentication login failure",
      () => tediousLoginError(serverError(18456, "Login failed for user 'sa'.", 14)),
    ],
    ["a transient login error", () => tediousLoginError(serverError(40613, TRANSIENT[40613] ?? ""))],
    ["a 37396 request error", () => tediousRequestError(expiredOnSession).error],
    [
      "tedious token-credential failure (EFEDAUTH: the credential failed, not the server)",
      () =>
        new AggregateError([
          new tediousErrors.ConnectionError(
            "Security token could not be authenticated or authorized.",
            "EFEDAUTH",
          ),
          new Error("AzureCliCredential: Please run 'az login'"),
        ]),
    ],
    ["undefined", () => undefined],
  ])("%s -> false", (_, make) => {
    expect(isLoginTokenRejected(make())).toBe(false);
  });
});

describe("isTransientLoginError()", () => {
  it("covers the documented transient numbers", () => {
    expect([...TRANSIENT_LOGIN_ERROR_NUMBERS].sort((a, b) => a - b)).toEqual(
      Object.keys(TRANSIENT)
        .map(Number)
        .sort((a, b) => a - b),
    );
  });

  it.each(Object.entries(TRANSIENT).map(([n, text]) => [Number(n), text] as const))(
    "recognises %i from its text alone (a tedious login error after the last retry)",
    (number, text) => {
      const error = tediousLoginError(serverError(number, text, 17));
      expect(error.isTransient).toBeUndefined();
      expect(isTransientLoginError(error)).toBe(true);
      expect(isTransientLoginError(mssqlConnectError(error))).toBe(true);
    },
  );

  it.each([40613, 40197, 40501, 49918, 4221])("recognises %i by number with any text", (number) => {
    expect(isTransientLoginError(Object.assign(new Error("localised text"), { number }))).toBe(true);
  });

  it("trusts tedious' own isTransient flag", () => {
    const error = tediousLoginError(serverError(40613, TRANSIENT[40613] ?? ""), { retriesLeft: true });
    expect(error.isTransient).toBe(true);
    expect(isTransientLoginError(error)).toBe(true);
  });

  it.each([
    ["a token login failure", () => tediousLoginError(tokenLoginFailed(false))],
    ["an expired token", () => tediousLoginError(tokenLoginFailed(true))],
    ["a 37396 request error", () => tediousRequestError(expiredOnSession).error],
    ["a plain error", () => new Error("ECONNREFUSED 127.0.0.1:1433")],
    ["isTransient: false", () => Object.assign(new Error("x"), { isTransient: false })],
    ["null", () => null],
  ])("ignores %s", (_, make) => {
    expect(isTransientLoginError(make())).toBe(false);
  });
});

describe("walking the error graph", () => {
  it("survives cycles and throwing getters", () => {
    const a = new Error("a") as Error & { cause?: unknown; originalError?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    Object.defineProperty(a, "originalError", {
      get() {
        throw new Error("getter");
      },
    });
    expect(isAccessTokenExpiredOnSession(a)).toBe(false);
    expect(isLoginTokenRejected(a)).toBe(false);
    expect(isTransientLoginError(a)).toBe(false);
  });

  it("stops after a bounded number of errors", () => {
    const many = Array.from({ length: 500 }, () => new Error("x"));
    many.push(tediousRequestError(expiredOnSession).error);
    expect(isAccessTokenExpiredOnSession(new AggregateError(many))).toBe(false);
  });
});
