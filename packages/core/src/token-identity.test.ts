import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { EntraSqlError, isInvalidOptionError } from "./errors.js";
import {
  createUserStatement,
  describeToken,
  isMalformedAccessTokenError,
  MalformedAccessTokenError,
  quoteName,
  type TokenIdentity,
} from "./token-identity.js";

// Unsigned JWT-shaped strings in the Entra v1 shapes Azure SQL receives (the local IdP mints the same
// claims: test/support/entra/token-minter.ts). The signature part is junk: describeToken never verifies.
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const USER_OID = "11111111-2222-3333-4444-555555555555";
const APP_OID = "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb";
const APP_ID = "cccccccc-3333-4444-5555-dddddddddddd";
const MI_OID = "eeeeeeee-6666-7777-8888-ffffffffffff";
const MI_CLIENT_ID = "99999999-8888-7777-6666-555555555555";
const MI_RESOURCE =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-app/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders-api";
const EXP = 1_767_270_000; // 2026-01-01T12:20:00Z
const SIGNATURE = "c2lnbmF0dXJlLW5vdC1jaGVja2Vk";

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = (claims: Record<string, unknown>) =>
  `${b64url({ typ: "JWT", alg: "RS256", kid: "k1" })}.${b64url(claims)}.${SIGNATURE}`;

const common = {
  aud: "https://database.windows.net/",
  iss: `https://sts.windows.net/${TENANT}/`,
  iat: EXP - 3600,
  nbf: EXP - 3600,
  exp: EXP,
  tid: TENANT,
  ver: "1.0",
  aio: "E2RgYJg...",
  uti: "abc",
  rh: "0.AAAA.",
};
const userClaims = {
  ...common,
  idtyp: "user",
  oid: USER_OID,
  sub: "pairwise-subject",
  appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  appidacr: "0",
  scp: "user_impersonation",
  upn: "bob@contoso.com",
  unique_name: "bob@contoso.com",
  name: "Bob Example",
  amr: ["pwd"],
};
const appClaims = {
  ...common,
  idtyp: "app",
  oid: APP_OID,
  sub: APP_OID,
  appid: APP_ID,
  appidacr: "1",
  idp: common.iss,
};
const miClaims = {
  ...common,
  idtyp: "app",
  oid: MI_OID,
  sub: MI_OID,
  appid: MI_CLIENT_ID,
  appidacr: "2",
  idp: common.iss,
  xms_mirid: MI_RESOURCE,
};

describe("describeToken()", () => {
  it("describes a user token", () => {
    expect(describeToken(jwt(userClaims))).toEqual({
      kind: "user",
      objectId: USER_OID,
      tenantId: TENANT,
      userPrincipalName: "bob@contoso.com",
      appId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
      displayName: "Bob Example",
      audience: "https://database.windows.net/",
      issuer: `https://sts.windows.net/${TENANT}/`,
      expiresOn: new Date(EXP * 1000),
      issuedAt: new Date((EXP - 3600) * 1000),
      notBefore: new Date((EXP - 3600) * 1000),
    });
  });

  it("describes a service-principal token", () => {
    expect(describeToken(jwt(appClaims))).toEqual({
      kind: "service-principal",
      objectId: APP_OID,
      tenantId: TENANT,
      appId: APP_ID,
      audience: "https://database.windows.net/",
      issuer: `https://sts.windows.net/${TENANT}/`,
      expiresOn: new Date(EXP * 1000),
      issuedAt: new Date((EXP - 3600) * 1000),
      notBefore: new Date((EXP - 3600) * 1000),
    });
  });

  it("describes a managed-identity token", () => {
    const identity = describeToken(jwt(miClaims));
    expect(identity.kind).toBe("managed-identity");
    expect(identity.objectId).toBe(MI_OID);
    expect(identity.appId).toBe(MI_CLIENT_ID);
    expect(identity.managedIdentityResourceId).toBe(MI_RESOURCE);
    expect(identity.userPrincipalName).toBeUndefined();
  });

  it("reads iat and nbf when present, and leaves them out otherwise", () => {
    const { iat: _i, nbf: _n, ...undated } = appClaims;
    const identity = describeToken(jwt(undated));
    expect(identity.issuedAt).toBeUndefined();
    expect(identity.notBefore).toBeUndefined();
    expect("issuedAt" in identity).toBe(false);
    expect(describeToken(jwt({ ...appClaims, iat: "soon" })).issuedAt).toBeUndefined();
  });

  it("tells users from apps without idtyp (an optional claim)", () => {
    const { idtyp: _u, ...user } = userClaims;
    const { idtyp: _a, ...app } = appClaims;
    const { idtyp: _m, ...mi } = miClaims;
    expect(describeToken(jwt(user)).kind).toBe("user");
    expect(describeToken(jwt(app)).kind).toBe("service-principal");
    expect(describeToken(jwt(mi)).kind).toBe("managed-identity");
  });

  it("takes unique_name as the UPN only when it is one (not a guest's live.com#...)", () => {
    const { upn: _, ...noUpn } = userClaims;
    expect(describeToken(jwt(noUpn)).userPrincipalName).toBe("bob@contoso.com");
    const guest = { ...noUpn, unique_name: "live.com#bob@outlook.com" };
    expect(describeToken(jwt(guest)).userPrincipalName).toBeUndefined();
  });

  it("reads app_displayname for apps, never for users", () => {
    expect(describeToken(jwt({ ...appClaims, app_displayname: "orders-api" })).displayName).toBe(
      "orders-api",
    );
    const { name: _, ...nameless } = userClaims;
    expect(
      describeToken(jwt({ ...nameless, app_displayname: "Microsoft Azure CLI" })).displayName,
    ).toBeUndefined();
  });

  it("reads v2 azp and an audience list", () => {
    const { appid: _, ...v2 } = appClaims;
    const identity = describeToken(
      jwt({ ...v2, ver: "2.0", azp: APP_ID, aud: ["https://database.windows.net"] }),
    );
    expect(identity.appId).toBe(APP_ID);
    expect(identity.audience).toBe("https://database.windows.net");
  });

  it("accepts an unsigned token (empty signature)", () => {
    const unsigned = `${b64url({ alg: "none" })}.${b64url(appClaims)}.`;
    expect(describeToken(unsigned).objectId).toBe(APP_OID);
  });

  it("returns a frozen object with no trace of the token", () => {
    const token = jwt(userClaims);
    const identity = describeToken(token);
    expect(Object.isFrozen(identity)).toBe(true);
    const shown = `${inspect(identity, { depth: 5 })}${JSON.stringify(identity)}`;
    for (const part of token.split(".")) expect(shown).not.toContain(part);
    expect(shown).not.toContain("user_impersonation");
  });

  const payloadOf = (claims: unknown) => b64url(claims);
  it.each([
    ["an empty string", ""],
    ["not a string", 42],
    ["two parts", `${payloadOf({})}.${payloadOf(appClaims)}`],
    ["an encrypted token (5 parts)", "a.b.c.d.e"],
    ["a non-base64url payload", `x.${payloadOf(appClaims)}+/=.y`],
    ["a non-JSON payload", `x.${Buffer.from("{not json secret-ish").toString("base64url")}.y`],
    ["a JSON array payload", `x.${payloadOf(["oid"])}.y`],
    ["no oid", jwt({ ...appClaims, oid: undefined })],
    ["no tid", jwt({ ...appClaims, tid: undefined })],
    ["no iss", jwt({ ...appClaims, iss: undefined })],
    ["no aud", jwt({ ...appClaims, aud: undefined })],
    ["a string exp", jwt({ ...appClaims, exp: "tomorrow" })],
  ])("refuses %s with an EntraSqlError that quotes no token text", (_, token) => {
    let caught: unknown;
    try {
      describeToken(token as string);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedAccessTokenError);
    expect(caught).toBeInstanceOf(EntraSqlError);
    expect(isMalformedAccessTokenError(caught)).toBe(true);
    const error = caught as MalformedAccessTokenError;
    expect(error.message).toMatch(/^@entra-sql\/core: cannot read the access token: /);
    expect(error.cause).toBeUndefined();
    if (typeof token === "string") {
      for (const part of token.split(".").filter((p) => p.length > 3))
        expect(error.message).not.toContain(part);
    }
    expect(error.message).not.toContain("secret-ish");
  });
});

describe("createUserStatement()", () => {
  const user = describeToken(jwt(userClaims));
  const app = describeToken(jwt(appClaims));
  const namedApp = describeToken(jwt({ ...appClaims, app_displayname: "orders-api" }));
  const mi = describeToken(jwt(miClaims));

  it("creates a user by UPN, with the Django recipe's default schema and read/write roles", () => {
    expect(createUserStatement(user)).toBe(
      [
        "CREATE USER [bob@contoso.com] FROM EXTERNAL PROVIDER;",
        "ALTER USER [bob@contoso.com] WITH DEFAULT_SCHEMA=[dbo];",
        "ALTER ROLE [db_datareader] ADD MEMBER [bob@contoso.com];",
        "ALTER ROLE [db_datawriter] ADD MEMBER [bob@contoso.com];",
      ].join("\n"),
    );
  });

  it("creates an app by display name when the token carries it", () => {
    expect(createUserStatement(namedApp, { roles: ["db_owner"] })).toBe(
      [
        "CREATE USER [orders-api] FROM EXTERNAL PROVIDER;",
        "ALTER USER [orders-api] WITH DEFAULT_SCHEMA=[dbo];",
        "ALTER ROLE [db_owner] ADD MEMBER [orders-api];",
      ].join("\n"),
    );
  });

  it("creates an app without display name by the service principal's object ID (oid), not its client ID", () => {
    const sql = createUserStatement(app);
    expect(sql.split("\n")[0]).toBe(
      `CREATE USER [app-${APP_ID}] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${APP_OID}';`,
    );
    expect(sql).not.toContain(`OBJECT_ID = '${APP_ID}'`);
  });

  it("names a managed identity after its resource, suffixed with the object ID's first 5 characters", () => {
    expect(createUserStatement(mi, { roles: [] })).toBe(
      [
        `CREATE USER [id-orders-api-eeeee] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${MI_OID}';`,
        "ALTER USER [id-orders-api-eeeee] WITH DEFAULT_SCHEMA=[dbo];",
      ].join("\n"),
    );
  });

  it("uses WITH OBJECT_ID for a custom name, also for users", () => {
    expect(createUserStatement(user, { name: "bob", roles: [], defaultSchema: null })).toBe(
      `CREATE USER [bob] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${USER_OID}';`,
    );
  });

  it("lets the caller force either form", () => {
    expect(createUserStatement(user, { withObjectId: true, roles: [], defaultSchema: null })).toBe(
      `CREATE USER [bob@contoso.com] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${USER_OID}';`,
    );
    // Synapse and Fabric Warehouse do not support WITH OBJECT_ID.
    expect(
      createUserStatement(app, { name: "orders-api", withObjectId: false, roles: [], defaultSchema: null }),
    ).toBe("CREATE USER [orders-api] FROM EXTERNAL PROVIDER;");
  });

  it("aliases a guest without UPN by display name and object ID", () => {
    const { upn: _, ...noUpn } = userClaims;
    const guest = describeToken(jwt({ ...noUpn, unique_name: "live.com#bob@outlook.com" }));
    expect(createUserStatement(guest, { roles: [], defaultSchema: null })).toBe(
      `CREATE USER [Bob Example-11111] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${USER_OID}';`,
    );
  });

  it("escapes ] in every name and leaves [ alone", () => {
    const sql = createUserStatement(user, {
      name: "we]ird[name",
      roles: ["role]x"],
      defaultSchema: "sch]ema",
    });
    expect(sql).toBe(
      [
        `CREATE USER [we]]ird[name] FROM EXTERNAL PROVIDER WITH OBJECT_ID = '${USER_OID}';`,
        "ALTER USER [we]]ird[name] WITH DEFAULT_SCHEMA=[sch]]ema];",
        "ALTER ROLE [role]]x] ADD MEMBER [we]]ird[name];",
      ].join("\n"),
    );
    expect(quoteName("a]];DROP TABLE x;--")).toBe("[a]]]];DROP TABLE x;--]");
  });

  it("refuses an identity whose object ID is not a GUID when it would go into WITH OBJECT_ID", () => {
    const forged: TokenIdentity = { ...app, objectId: "x'; DROP USER dbo; --" };
    expect(() => createUserStatement(forged)).toThrow(
      expect.objectContaining({ option: "identity.objectId" }),
    );
  });

  it.each([
    ["an unknown option", { role: ["db_owner"] }, "role"],
    ["roles not a list", { roles: "db_owner" }, "roles"],
    ["an empty role", { roles: ["db_datareader", ""] }, "roles[1]"],
    ["an empty name", { name: "" }, "name"],
    ["a name over 128 characters", { name: "x".repeat(129) }, "name"],
    ["an empty default schema", { defaultSchema: "" }, "defaultSchema"],
    ["withObjectId not boolean", { withObjectId: "yes" }, "withObjectId"],
  ])("refuses %s with InvalidOptionError", (_, options, option) => {
    let caught: unknown;
    try {
      createUserStatement(user, options as never);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect(caught).toMatchObject({ option });
  });
});
