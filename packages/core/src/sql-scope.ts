import { InvalidOptionError, UnknownSqlHostError } from "./errors.js";
import { printable } from "./redact.js";
import { DEFAULT_SQL_SCOPE, SQL_SCOPE_OF_CLOUD } from "./sql-audiences.js";

// Which token scope a SQL server host name needs. Used by the inline mode
// (`azure-active-directory-access-token`), where the token is fetched before the socket opens and
// no server has announced its SPN yet. A host that is not a known Azure SQL endpoint is an error
// naming the host: guessing the public cloud for it would send a token to an unknown server.

const { public: PUBLIC, usGovernment: US_GOVERNMENT, china: CHINA } = SQL_SCOPE_OF_CLOUD;

export interface SqlHostSuffix {
  /** Matched against the end of the host name, e.g. `.database.windows.net`. */
  readonly suffix: string;
  /** The `.default` scope a token for such a host needs. */
  readonly scope: string;
  /** What lives there, for messages and docs. */
  readonly service: string;
}

/**
 * Known SQL endpoint suffixes and their scopes (the audiences: sql-audiences.ts).
 *
 * Host suffixes: dotnet/SqlClient `AdapterUtil.cs` (src/Microsoft.Data.SqlClient/src/Microsoft/Data/
 * Common), which lists `.database.windows.net`, `.database.usgovcloudapi.net`,
 * `.database.chinacloudapi.cn`, `.database.fabric.microsoft.com` as Azure SQL endpoints and
 * `datawarehouse.fabric.microsoft.com`, `.pbidedicated.windows.net`, `-ondemand.sql.azuresynapse.`
 * as Synapse / Fabric Data Warehouse endpoints; Synapse workspace endpoints `<ws>.sql.azuresynapse.net`
 * (dedicated) and `<ws>-ondemand.sql.azuresynapse.net` (serverless): Microsoft Learn "Connect to
 * Synapse SQL" (azure/synapse-analytics/sql/connect-overview).
 *
 * The suffix rule covers managed instances (`<mi>.<dns-zone>.database.windows.net`, also the public
 * endpoint `<mi>.public.<dns-zone>...`) and private link names (`<server>.privatelink.database.windows.net`,
 * `<ws>.privatelink.sql.azuresynapse.net`).
 *
 * Not listed, because no source gives their audience: Synapse in US Government / China
 * (`sql.azuresynapse.usgovcloudapi.net`, ...) and Microsoft's internal `msit-*` Fabric hosts. Pass
 * `scope` explicitly for those, and for custom DNS aliases of any server.
 */
export const SQL_HOST_SUFFIXES: readonly SqlHostSuffix[] = Object.freeze([
  { suffix: ".database.windows.net", scope: PUBLIC, service: "Azure SQL Database / Managed Instance" },
  { suffix: ".database.usgovcloudapi.net", scope: US_GOVERNMENT, service: "Azure SQL (US Government)" },
  { suffix: ".database.chinacloudapi.cn", scope: CHINA, service: "Azure SQL (China)" },
  {
    suffix: ".sql.azuresynapse.net",
    scope: PUBLIC,
    service: "Azure Synapse SQL pool (dedicated or serverless)",
  },
  {
    suffix: ".datawarehouse.fabric.microsoft.com",
    scope: PUBLIC,
    service: "Microsoft Fabric Warehouse / SQL analytics endpoint",
  },
  { suffix: ".database.fabric.microsoft.com", scope: PUBLIC, service: "Microsoft Fabric SQL database" },
  {
    suffix: ".datawarehouse.pbidedicated.windows.net",
    scope: PUBLIC,
    service: "Microsoft Fabric Warehouse (earlier host name)",
  },
]);

/**
 * The host part of a server string as drivers accept it: trims blanks, drops an ADO-style `tcp:`
 * prefix, a `,1433` (ADO) or `:1433` port suffix, a `\instance` name and a trailing dot (DNS root),
 * and lowercases.
 * @example serverHost("tcp:MyServer.database.windows.net.,1433") === "myserver.database.windows.net"
 */
export function serverHost(server: string): string {
  let host = server.trim();
  if (/^tcp:/i.test(host)) host = host.slice(4);
  host = host.replace(/[,:]\s*\d+\s*$/, "");
  const backslash = host.indexOf("\\");
  if (backslash >= 0) host = host.slice(0, backslash);
  return host.trim().replace(/\.$/, "").toLowerCase();
}

/**
 * The token scope for a SQL server host name, from its suffix ({@link SQL_HOST_SUFFIXES}).
 * Throws {@link UnknownSqlHostError} for any other host (pass `scope` explicitly then).
 * @example scopeForServer("myserver.database.windows.net") === "https://database.windows.net/.default"
 */
export function scopeForServer(host: string): string {
  if (typeof host !== "string" || host.trim() === "") {
    throw new InvalidOptionError(
      "server",
      printable(host),
      'a SQL server host name, e.g. "myserver.database.windows.net"',
    );
  }
  const name = serverHost(host);
  // A label must precede the suffix: "database.windows.net" itself is no server.
  const entry = SQL_HOST_SUFFIXES.find((e) => name.endsWith(e.suffix) && name.length > e.suffix.length);
  if (!entry) throw new UnknownSqlHostError(host.trim());
  return entry.scope;
}

/**
 * The scope to request for a connection: `scope` when given, else derived from `server`.
 * @example resolveScope({ server: "x.database.usgovcloudapi.net" }) // "https://database.usgovcloudapi.net/.default"
 * @example resolveScope({ server: "sql.contoso.internal", scope: "https://database.windows.net/.default" })
 */
export function resolveScope(options: { server?: string | undefined; scope?: string | undefined }): string {
  const { server, scope } = options ?? {};
  if (scope !== undefined) {
    if (typeof scope !== "string" || scope.trim() === "") {
      throw new InvalidOptionError("scope", printable(scope), `a token scope, e.g. "${DEFAULT_SQL_SCOPE}"`);
    }
    return scope;
  }
  if (server === undefined) {
    throw new InvalidOptionError(
      "server",
      "undefined",
      'a SQL server host name (e.g. "myserver.database.windows.net") or an explicit "scope"',
    );
  }
  return scopeForServer(server);
}
