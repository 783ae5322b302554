import { inspect } from "node:util";
import { isEntraSqlError, ScopeNotAllowedError } from "@entra-sql/core";
import { describe, expect, it } from "vitest";
import {
  ConnectionFailedError,
  isConnectionFailedError,
  isLoginRefusedError,
  isTokenLoginRejectedError,
  LoginRefusedError,
  mostTellingMessage,
  readableConnectError,
  TokenLoginRejectedError,
} from "./login-errors.js";

// The connect-time errors the adapters share: the principal and the fix named, never the token.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const APP_TOKEN = `${b64url({ typ: "JWT", alg: "RS256" })}.${b64url({
  aud: "https://database.windows.net/",
  iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
  tid: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  oid: "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb",
  appid: "cccccccc-3333-4444-5555-dddddddddddd",
  app_displayname: "orders-api",
  idtyp: "app",
  exp: 1_767_270_000,
})}.c2lnbmF0dXJl`;

describe("TokenLoginRejectedError", () => {
  it("names the principal, the server, the server's words and the CREATE USER fix, under the adapter's name", () => {
    const cause = new Error("Login failed for user '<token-identified principal>'.");
    const error = new TokenLoginRejectedError(
      { token: APP_TOKEN, server: "db.example", database: "app", packageName: "@entra-sql/knex" },
      { cause },
    );
    expect(isTokenLoginRejectedError(error) && isEntraSqlError(error)).toBe(true);
    expect(error.message).toMatch(
      /^@entra-sql\/knex: "db\.example", database "app" refused the login of service principal "orders-api"/,
    );
    expect(error.message).toContain("aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb");
    expect(error.message).toContain("Login failed for user '<token-identified principal>'.");
    expect(error.createUserStatement).toContain("CREATE USER [orders-api] FROM EXTERNAL PROVIDER");
    expect(error.message).toContain(error.createUserStatement);
    expect(error.cause).toBe(cause);
    for (const part of APP_TOKEN.split(".").slice(1)) {
      expect(`${error.message}${error.stack}${inspect(error)}${JSON.stringify(error)}`).not.toContain(part);
    }
  });

  it("still gives the fix when no readable token was sent", () => {
    const error = new TokenLoginRejectedError(
      { token: "not-a-jwt", server: "db", database: undefined },
      { cause: new Error("x") },
    );
    expect(error.principal).toBeUndefined();
    expect(error.message).toMatch(/^@entra-sql\/core: "db" refused the login of the token's principal/);
    expect(error.message).toContain("CREATE USER [<identity name>] FROM EXTERNAL PROVIDER;");
  });
});

describe("readableConnectError", () => {
  it("keeps an error with a message, and replaces an empty AggregateError by the telling message inside", () => {
    const plain = new Error("ESOCKET");
    expect(readableConnectError(plain, { server: "db" })).toBe(plain);
    const inner = new ConnectionFailedError(
      { server: "x", detail: "scope refused", code: undefined },
      { cause: 1 },
    );
    const aggregate = Object.assign(new AggregateError([new Error("first"), inner], ""), {
      code: "EFEDAUTH",
    });
    const readable = readableConnectError(aggregate, { server: "db", packageName: "@entra-sql/knex" });
    expect(isConnectionFailedError(readable)).toBe(true);
    expect(readable).toMatchObject({ code: "EFEDAUTH", cause: aggregate });
    expect(String(readable)).toContain('@entra-sql/knex: could not connect to "db": @entra-sql/core');
    expect(mostTellingMessage(new AggregateError([], ""))).toBeUndefined();
  });
});

describe("TokenLoginRejectedError, more", () => {
  it("is recognised by name, also from another copy of the package", () => {
    expect(
      isTokenLoginRejectedError(Object.assign(new Error("x"), { name: "TokenLoginRejectedError" })),
    ).toBe(true);
    expect(isTokenLoginRejectedError(new Error("x"))).toBe(false);
    expect(isTokenLoginRejectedError(undefined)).toBe(false);
  });

  it("names no principal and no CREATE USER of its own when no token was sent", () => {
    const error = new TokenLoginRejectedError(
      { token: undefined, server: "db", database: "app", packageName: "@entra-sql/mssql" },
      { cause: new Error("Login failed for user '<token-identified principal>'.") },
    );
    expect(error).toMatchObject({ principal: undefined, createUserStatement: undefined });
    expect(error.message).toMatch(
      /^@entra-sql\/mssql: "db", database "app" refused the login of the token's/,
    );
    expect(error.message).toContain("Server said: Login failed for user '<token-identified principal>'.");
    expect(error.message).toContain("CREATE USER [<identity name>] FROM EXTERNAL PROVIDER;");
  });
});

describe("LoginRefusedError", () => {
  const cause = Object.assign(new Error("Login failed for user '<token-identified principal>'."), {
    code: "ELOGIN",
  });

  it("names the server's first message, its number and the fix, under the adapter's name", () => {
    const text = 'Cannot open database "otherdb" requested by the login. The login failed.';
    const error = new LoginRefusedError(
      {
        server: "db.example",
        database: "otherdb",
        refusal: { number: 4060, message: text },
        packageName: "@entra-sql/knex",
      },
      { cause },
    );
    expect(isLoginRefusedError(error) && isEntraSqlError(error)).toBe(true);
    expect(error).toMatchObject({ name: "LoginRefusedError", number: 4060, serverMessage: text, cause });
    expect(error.message).toBe(
      `@entra-sql/knex: "db.example", database "otherdb" refused the login (error 4060): ${text}\n` +
        'Check the database name (the "database" setting): it does not exist on this server, or this identity has no user in it.',
    );
  });

  it.each([
    [40615, "firewall"],
    [40532, '"server" setting'],
    [47073, "private endpoint"],
    [40914, "virtual network"],
    [18470, "ALTER LOGIN"],
    [40613, "retry the connection"],
    [12345, "SQL Server error 12345"],
  ])("gives error %i its own advice (%s)", (number, advice) => {
    const error = new LoginRefusedError(
      { server: "db", database: undefined, refusal: { number, message: "refused" }, packageName: "p" },
      { cause },
    );
    expect(error.message).toMatch(new RegExp(`^p: "db" refused the login \\(error ${number}\\): refused\n`));
    expect(error.message).toContain(advice);
  });

  it("is recognised by name only", () => {
    expect(isLoginRefusedError(Object.assign(new Error("x"), { name: "LoginRefusedError" }))).toBe(true);
    expect(
      isLoginRefusedError(
        new TokenLoginRejectedError({ token: undefined, server: "s", database: undefined }, { cause }),
      ),
    ).toBe(false);
    expect(isLoginRefusedError(null)).toBe(false);
  });
});

describe("ConnectionFailedError and mostTellingMessage", () => {
  it("defaults to core's name and keeps the driver's code", () => {
    const error = new ConnectionFailedError(
      { server: "db", detail: "socket hang up", code: "ESOCKET" },
      { cause: "x" },
    );
    expect(error.message).toBe('@entra-sql/core: could not connect to "db": socket hang up');
    expect(error).toMatchObject({ name: "ConnectionFailedError", code: "ESOCKET", cause: "x" });
    expect(isConnectionFailedError(error) && isEntraSqlError(error)).toBe(true);
  });

  it("prefers an @entra-sql error's message anywhere in the graph, else the first non-empty one", () => {
    const refused = new ScopeNotAllowedError("https://graph.microsoft.com/.default", [
      "https://database.windows.net/.default",
    ]);
    const wrapped = Object.assign(new Error(""), {
      originalError: new AggregateError([new Error("outer"), refused], ""),
    });
    expect(mostTellingMessage(wrapped)).toBe(refused.message);
    expect(mostTellingMessage(new AggregateError([new Error(" "), new Error("second")], ""))).toBe("second");
    expect(mostTellingMessage("not an error")).toBeUndefined();
  });

  it("says when the driver gave no message at all", () => {
    const silent = Object.assign(new AggregateError([], ""), { code: "EFEDAUTH" });
    const readable = readableConnectError(silent, { server: "db" });
    expect(String(readable)).toBe(
      'ConnectionFailedError: @entra-sql/core: could not connect to "db": the driver gave no message (code EFEDAUTH)',
    );
    expect(readableConnectError("a string", { server: "db" })).toBe("a string");
  });
});
