import { describe, expect, it } from "vitest";
import { isInvalidOptionError, isUnknownSqlHostError, type UnknownSqlHostError } from "./errors.js";
import { createScopeGuard } from "./scope-guard.js";
import { resolveScope, SQL_HOST_SUFFIXES, scopeForServer, serverHost } from "./sql-scope.js";

const PUBLIC = "https://database.windows.net/.default";
const US_GOV = "https://database.usgovcloudapi.net/.default";
const CHINA = "https://database.chinacloudapi.cn/.default";

describe("scopeForServer()", () => {
  it.each([
    // Azure SQL Database, per cloud
    ["myserver.database.windows.net", PUBLIC],
    ["myserver.database.usgovcloudapi.net", US_GOV],
    ["myserver.database.chinacloudapi.cn", CHINA],
    // Managed Instance: <mi>.<dns-zone>.database.windows.net, and its public endpoint
    ["mi-prod.1a2b3c4d5e6f.database.windows.net", PUBLIC],
    ["mi-prod.public.1a2b3c4d5e6f.database.windows.net", PUBLIC],
    ["mi-gov.1a2b3c4d5e6f.database.usgovcloudapi.net", US_GOV],
    // Private link
    ["myserver.privatelink.database.windows.net", PUBLIC],
    ["myserver.privatelink.database.chinacloudapi.cn", CHINA],
    // Synapse: dedicated, serverless, private link
    ["myworkspace.sql.azuresynapse.net", PUBLIC],
    ["myworkspace-ondemand.sql.azuresynapse.net", PUBLIC],
    ["myworkspace.privatelink.sql.azuresynapse.net", PUBLIC],
    // Microsoft Fabric: Warehouse / SQL analytics endpoint, SQL database, earlier DW host
    ["abc123-def456.datawarehouse.fabric.microsoft.com", PUBLIC],
    ["abc123-def456.database.fabric.microsoft.com", PUBLIC],
    ["abc123-def456.datawarehouse.pbidedicated.windows.net", PUBLIC],
    // Spellings drivers accept
    ["MyServer.Database.Windows.Net", PUBLIC],
    ["myserver.database.windows.net.", PUBLIC],
    ["tcp:myserver.database.windows.net", PUBLIC],
    ["TCP:myserver.database.windows.net,1433", PUBLIC],
    ["myserver.database.windows.net,1433", PUBLIC],
    ["myserver.database.windows.net, 1433", PUBLIC],
    ["myserver.database.windows.net:1433", PUBLIC],
    ["tcp:myserver.database.usgovcloudapi.net.,1433", US_GOV],
    ["  myserver.database.windows.net  ", PUBLIC],
    ["myserver.database.windows.net\\instance", PUBLIC],
  ])("%s -> %s", (host, scope) => {
    expect(scopeForServer(host)).toBe(scope);
  });

  it.each([
    ["an on-premises host", "sql01.contoso.local"],
    ["a look-alike suffix", "myserver.database.windows.net.evil.com"],
    ["a look-alike label", "myserver.evildatabase.windows.net"],
    ["the bare suffix", "database.windows.net"],
    ["the bare Synapse suffix", "sql.azuresynapse.net"],
    ["a custom DNS alias", "db.contoso.com"],
    ["Synapse in US Government (audience unsourced)", "ws.sql.azuresynapse.usgovcloudapi.net"],
    ["Azure Germany (retired)", "myserver.database.cloudapi.de"],
    ["localhost", "localhost"],
    ["an IP address", "10.0.0.4"],
  ])("refuses %s with UnknownSqlHostError naming the host and the fix", (_, host) => {
    let caught: unknown;
    try {
      scopeForServer(host);
    } catch (error) {
      caught = error;
    }
    expect(isUnknownSqlHostError(caught)).toBe(true);
    expect((caught as UnknownSqlHostError).host).toBe(host);
    expect((caught as Error).message).toContain(`"${host}"`);
    expect((caught as Error).message).toContain('option "scope"');
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["not a string", 42],
    ["undefined", undefined],
  ])("refuses %s input with InvalidOptionError", (_, host) => {
    expect(() => scopeForServer(host as string)).toThrow(
      expect.objectContaining({ name: "InvalidOptionError", option: "server" }),
    );
  });

  it("derives only scopes the default scope guard allows", () => {
    const guard = createScopeGuard();
    for (const { scope } of SQL_HOST_SUFFIXES) expect(guard.isAllowed(scope)).toBe(true);
  });
});

describe("serverHost()", () => {
  it.each([
    ["tcp:MyServer.database.windows.net.,1433", "myserver.database.windows.net"],
    ["myserver.database.windows.net:14333", "myserver.database.windows.net"],
    ["myserver\\SQLEXPRESS", "myserver"],
    ["myserver", "myserver"],
  ])("%s -> %s", (server, host) => {
    expect(serverHost(server)).toBe(host);
  });
});

describe("resolveScope()", () => {
  it("returns an explicit scope as given, whatever the server", () => {
    expect(
      resolveScope({ server: "sql01.contoso.local", scope: "https://database.windows.net//.default" }),
    ).toBe("https://database.windows.net//.default");
    expect(resolveScope({ scope: US_GOV })).toBe(US_GOV);
  });

  it("derives the scope from the server otherwise", () => {
    expect(resolveScope({ server: "x.database.chinacloudapi.cn" })).toBe(CHINA);
    expect(resolveScope({ server: "x.database.windows.net", scope: undefined })).toBe(PUBLIC);
  });

  it("fails for an unknown host without a scope", () => {
    expect(() => resolveScope({ server: "db.contoso.com" })).toThrow(
      expect.objectContaining({ name: "UnknownSqlHostError" }),
    );
  });

  it("fails with InvalidOptionError when neither is usable", () => {
    const attempts = [{}, { scope: "" }, { scope: "  " }, { server: "" }];
    for (const options of attempts) {
      let caught: unknown;
      try {
        resolveScope(options);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidOptionError(caught)).toBe(true);
    }
  });
});
