import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { isEntraSqlError } from "./errors.js";
import {
  ConnectionFailedError,
  isConnectionFailedError,
  isTokenLoginRejectedError,
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
