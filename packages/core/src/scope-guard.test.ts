import { describe, expect, it } from "vitest";
import { isInvalidOptionError, isScopeNotAllowedError, ScopeNotAllowedError } from "./errors.js";
import { canonicalScope, createScopeGuard } from "./scope-guard.js";
import { SQL_SCOPES } from "./sql-audiences.js";

// tedious (token-credential mode) asks for `new URL('/.default', spn).toString()`, where the SERVER
// chooses `spn` (FEDAUTHINFO). Reproduce that derivation so the tests feed the guard what tedious would.
const tediousScope = (spn: string) => new URL("/.default", spn).toString();

describe("SQL_SCOPES", () => {
  it("holds the Azure SQL audience of each live cloud, canonical", () => {
    expect(SQL_SCOPES).toEqual([
      "https://database.windows.net/.default",
      "https://database.usgovcloudapi.net/.default",
      "https://database.chinacloudapi.cn/.default",
    ]);
    expect(Object.isFrozen(SQL_SCOPES)).toBe(true);
    for (const scope of SQL_SCOPES) expect(canonicalScope(scope)).toBe(scope);
  });
});

describe("createScopeGuard() with the default SQL audiences", () => {
  const guard = createScopeGuard();

  it.each([
    ["canonical", "https://database.windows.net/.default"],
    ["doubled slash (resource ID + '/.default')", "https://database.windows.net//.default"],
    ["host in capitals", "https://DATABASE.Windows.NET/.default"],
    ["scheme in capitals", "HTTPS://database.windows.net/.default"],
    ["US Government", "https://database.usgovcloudapi.net/.default"],
    ["US Government, doubled slash", "https://database.usgovcloudapi.net//.default"],
    ["China", "https://database.chinacloudapi.cn/.default"],
  ])("allows %s: %s", (_, scope) => {
    expect(guard.isAllowed(scope)).toBe(true);
    expect(() => guard.assertAllowed(scope)).not.toThrow();
  });

  it.each([
    ["SPN with trailing slash", "https://database.windows.net/"],
    ["SPN without trailing slash", "https://database.windows.net"],
    ["SPN with a path", "https://database.windows.net/some/path"],
    ["SPN with a port 443", "https://database.windows.net:443/"],
    ["US Government SPN", "https://database.usgovcloudapi.net/"],
  ])("allows what tedious derives from a genuine %s", (_, spn) => {
    expect(guard.isAllowed(tediousScope(spn))).toBe(true);
  });

  it.each([
    ["Microsoft Graph", "https://graph.microsoft.com/"],
    ["Azure Resource Manager", "https://management.azure.com/"],
    ["a look-alike host", "https://database.windows.net.evil.com/"],
    ["a look-alike prefix", "https://evildatabase.windows.net/"],
    ["a subdomain of the audience", "https://x.database.windows.net/"],
    ["the audience in a query string", "https://evil.com/?x=https://database.windows.net/"],
    ["the audience as userinfo", "https://database.windows.net@evil.com/"],
    ["Key Vault", "https://vault.azure.net/"],
    ["Storage", "https://storage.azure.com/"],
    ["Azure Germany (retired)", "https://database.cloudapi.de/"],
  ])("refuses what tedious derives from a rogue SPN: %s", (_, spn) => {
    const scope = tediousScope(spn);
    expect(guard.isAllowed(scope)).toBe(false);
    expect(() => guard.assertAllowed(scope)).toThrow(ScopeNotAllowedError);
  });

  it.each([
    ["http", "http://database.windows.net/.default"],
    ["no .default", "https://database.windows.net/"],
    ["resource without scheme", "database.windows.net/.default"],
    ["a delegated scope", "https://database.windows.net/user_impersonation"],
    ["a port", "https://database.windows.net:1433/.default"],
    ["explicit port 443", "https://database.windows.net:443/.default"],
    ["userinfo", "https://user@database.windows.net/.default"],
    ["query", "https://database.windows.net/.default?x=1"],
    ["fragment", "https://database.windows.net/.default#x"],
    ["three slashes", "https://database.windows.net///.default"],
    ["percent-encoding", "https://database.windows.net/%2e.default"],
    ["encoded host", "https://database%2ewindows.net/.default"],
    ["backslash", "https:\\\\database.windows.net\\.default"],
    ["trailing dot on host", "https://database.windows.net./.default"],
    ["dot segment", "https://database.windows.net/../.default"],
    ["a path before .default", "https://database.windows.net/x/.default"],
    ["uppercase .DEFAULT", "https://database.windows.net/.DEFAULT"],
    ["whitespace", " https://database.windows.net/.default"],
    ["empty", ""],
    ["Graph .default", "https://graph.microsoft.com/.default"],
    ["ARM doubled slash", "https://management.azure.com//.default"],
  ])("refuses a malformed or foreign scope: %s", (_, scope) => {
    expect(guard.isAllowed(scope)).toBe(false);
  });

  it("refuses non-strings without throwing from isAllowed", () => {
    for (const value of [undefined, null, 42, {}, ["https://database.windows.net/.default"]]) {
      expect(guard.isAllowed(value as unknown as string)).toBe(false);
    }
  });

  it("names the refused scope and the allowed audiences in the error", () => {
    let caught: unknown;
    try {
      guard.assertAllowed("https://graph.microsoft.com/.default");
    } catch (error) {
      caught = error;
    }
    expect(isScopeNotAllowedError(caught)).toBe(true);
    const error = caught as ScopeNotAllowedError;
    expect(error.scope).toBe("https://graph.microsoft.com/.default");
    expect(error.allowedScopes).toEqual(SQL_SCOPES);
    expect(error.message).toContain('"https://graph.microsoft.com/.default"');
    expect(error.message).toContain("https://database.windows.net/.default");
  });

  it("keeps a hostile scope's control characters and length out of the error message", () => {
    const hostile = `https://evil.com/\n${"x".repeat(5000)}/.default`;
    let message = "";
    try {
      guard.assertAllowed(hostile);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain("\n");
    expect(message.length).toBeLessThan(600);
  });

  it("is frozen", () => {
    expect(Object.isFrozen(guard)).toBe(true);
    expect(Object.isFrozen(guard.allowedScopes)).toBe(true);
  });
});

describe("createScopeGuard(allowedScopes)", () => {
  it("replaces the default list, canonicalised and de-duplicated", () => {
    const guard = createScopeGuard([
      "https://DB.Contoso.com//.default",
      "https://db.contoso.com/.default",
      "https://analysis.windows.net/powerbi/api/.default",
    ]);
    expect(guard.allowedScopes).toEqual([
      "https://db.contoso.com/.default",
      "https://analysis.windows.net/powerbi/api/.default",
    ]);
    expect(guard.isAllowed("https://db.contoso.com/.default")).toBe(true);
    expect(guard.isAllowed("https://analysis.windows.net/powerbi/api/.default")).toBe(true);
    expect(guard.isAllowed("https://analysis.windows.net/powerbi/api//.default")).toBe(true);
    // The default SQL audiences are not implied.
    expect(guard.isAllowed("https://database.windows.net/.default")).toBe(false);
    // A path is part of the audience: a different path is a different resource.
    expect(guard.isAllowed("https://analysis.windows.net/.default")).toBe(false);
    expect(guard.isAllowed("https://analysis.windows.net/PowerBI/api/.default")).toBe(false);
  });

  it("can extend the defaults", () => {
    const guard = createScopeGuard([...SQL_SCOPES, "https://sql-proxy.contoso.com/.default"]);
    expect(guard.isAllowed("https://database.windows.net//.default")).toBe(true);
    expect(guard.isAllowed("https://sql-proxy.contoso.com/.default")).toBe(true);
  });

  it.each([
    ["an empty list", [], "allowedScopes", "an empty list"],
    [
      "a string instead of a list",
      "https://database.windows.net/.default",
      "allowedScopes",
      '"https://database.windows.net/.default"',
    ],
    ["null", null, "allowedScopes", "null"],
    ["an empty entry", ["https://database.windows.net/.default", ""], "allowedScopes[1]", '""'],
    [
      "an entry without .default",
      ["https://database.windows.net/"],
      "allowedScopes[0]",
      '"https://database.windows.net/"',
    ],
    [
      "an http entry",
      ["http://database.windows.net/.default"],
      "allowedScopes[0]",
      '"http://database.windows.net/.default"',
    ],
    [
      "a relative entry",
      ["database.windows.net/.default"],
      "allowedScopes[0]",
      '"database.windows.net/.default"',
    ],
    ["a non-string entry", [42], "allowedScopes[0]", "42"],
  ])("refuses %s with InvalidOptionError naming option and value", (_, value, option, printed) => {
    let caught: unknown;
    try {
      createScopeGuard(value as unknown as string[]);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect(caught).toMatchObject({ option, value: printed });
    expect((caught as Error).message).toContain("/.default");
  });
});

describe("canonicalScope()", () => {
  it.each([
    ["https://database.windows.net/.default", "https://database.windows.net/.default"],
    ["https://database.windows.net//.default", "https://database.windows.net/.default"],
    ["HTTPS://Database.Windows.Net//.default", "https://database.windows.net/.default"],
    [
      "https://analysis.windows.net/powerbi/api//.default",
      "https://analysis.windows.net/powerbi/api/.default",
    ],
    ["https://xn--bcher-kva.example/.default", "https://xn--bcher-kva.example/.default"],
    ["https://database.windows.net/", undefined],
    ["https://database.windows.net:443/.default", undefined],
    ["https://localhost/.default", undefined],
  ])("%s -> %s", (scope, expected) => {
    expect(canonicalScope(scope)).toBe(expected);
  });
});
