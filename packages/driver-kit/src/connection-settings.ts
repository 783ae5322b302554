import { resolveScope } from "@entra-sql/core";
import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import type { ResolvedConnectionOptions } from "./connection-options.js";
import { refuseAuthenticationSettings } from "./driver-settings.js";

// What every adapter checks in a user's connection settings when it is created, so that a mistake
// fails there, naming the setting, rather than at the first login: a server to log in to, no
// competing authentication, and in inline mode a host whose token scope is known.

/**
 * Checks the connection settings at `path` (e.g. "config"): no authentication setting
 * (`refuseAuthenticationSettings`), and a server: the first of `serverKeys` that is set (as with `??`),
 * which it gives back.
 * @example const server = checkConnectionSettings(config, "config", "@entra-sql/mssql");
 */
export function checkConnectionSettings(
  settings: Record<string, unknown>,
  path: string,
  packageName: string,
  serverKeys: readonly string[] = ["server"],
): string {
  refuseAuthenticationSettings(settings, path, packageName);
  const server = serverKeys.reduce<unknown>((found, key) => found ?? settings[key], undefined);
  if (typeof server === "string" && server.trim() !== "") return server;
  throw invalidOptionFor(packageName)(
    `${path}.server`,
    describeOptionValue(server),
    'the SQL server host name, e.g. "myserver.database.windows.net"',
  );
}

/**
 * In inline mode the token scope comes from the server's host name, so a host with no known cloud suffix
 * needs the `scope` option: throws core's UnknownSqlHostError now, not at the first login.
 */
export function requireKnownScope(
  options: Pick<ResolvedConnectionOptions<never>, "tokenMode" | "scope">,
  server: string,
): void {
  if (options.tokenMode === "inline") resolveScope({ server, scope: options.scope });
}
