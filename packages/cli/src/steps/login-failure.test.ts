import { describe, expect, it } from "vitest";
import { loginFailure } from "./login-failure.js";

// What a refused login means: the server's first message that is not 18456 names the reason.

const context = {
  server: "myserver.database.windows.net",
  database: "app",
  roles: ["db_datareader"],
  identity: {
    kind: "user" as const,
    objectId: "11111111-2222-3333-4444-555555555555",
    tenantId: "t",
    userPrincipalName: "bob@contoso.com",
    audience: "https://database.windows.net/",
    issuer: "https://sts.windows.net/t/",
    expiresOn: new Date(0),
  },
};
const LOGIN_FAILED = { number: 18456, message: "Login failed for user '<token-identified principal>'." };
const elogin = Object.assign(new Error(LOGIN_FAILED.message), { code: "ELOGIN" });

describe("loginFailure", () => {
  it("4060 then 18456: wrong database", () => {
    const outcome = loginFailure(
      [
        { number: 4060, message: 'Cannot open database "app" requested by the login. The login failed.' },
        LOGIN_FAILED,
      ],
      elogin,
      context,
    );
    expect(outcome).toMatchObject({ verdict: "fail", exitReason: "wrongDatabase" });
    expect(outcome.fix).toContain('--database "app"');
  });

  it("40615: firewall, with the client IP from the text", () => {
    const outcome = loginFailure(
      [
        {
          number: 40615,
          message:
            "Cannot open server 'myserver' requested by the login. Client with IP address '198.51.100.4' is not allowed to access the server.",
        },
      ],
      elogin,
      context,
    );
    expect(outcome).toMatchObject({ exitReason: "firewall", data: { clientAddress: "198.51.100.4" } });
    expect(outcome.summary).toContain("198.51.100.4");
  });

  it("18456 alone: the CREATE USER statement for this identity; 'Token is expired' gets the clock fix", () => {
    const outcome = loginFailure([LOGIN_FAILED], elogin, context);
    expect(outcome.exitReason).toBe("notDatabaseUser");
    expect(outcome.details).toContain("  CREATE USER [bob@contoso.com] FROM EXTERNAL PROVIDER;");
    expect(outcome.details).toContain("  ALTER ROLE [db_datareader] ADD MEMBER [bob@contoso.com];");
    const expired = loginFailure(
      [{ number: 18456, message: `${LOGIN_FAILED.message} Token is expired.` }],
      elogin,
      context,
    );
    expect(expired).toMatchObject({ exitReason: "notDatabaseUser", data: { expired: true } });
    expect(expired.fix).toContain("clock");
  });

  it("another number: the server's text and driver-kit's advice", () => {
    const outcome = loginFailure(
      [
        { number: 40532, message: 'Cannot open server "x" requested by the login. The login failed.' },
        LOGIN_FAILED,
      ],
      elogin,
      context,
    );
    expect(outcome.exitReason).toBe("loginFailed");
    expect(outcome.summary).toContain("40532");
    expect(outcome.fix).toContain("Check the server name");
  });

  it("no server message: socket and certificate failures of the driver", () => {
    expect(
      loginFailure([], Object.assign(new Error("Connection lost"), { code: "ESOCKET" }), context).exitReason,
    ).toBe("tcp");
    expect(
      loginFailure(
        [],
        Object.assign(new Error("self-signed certificate in certificate chain"), { code: "ESOCKET" }),
        context,
      ).exitReason,
    ).toBe("tlsUntrusted");
    expect(loginFailure([], new Error("something else"), context).exitReason).toBe("loginFailed");
  });
});
