import { DEFAULT_SQL_SCOPE, isUnknownSqlHostError, resolveScope } from "@entra-sql/core";
import { UsageError } from "./usage-error.js";

// The token scope of a run: `--scope`, else derived from the server's host name (core's table of
// Azure SQL endpoints), else the public cloud's for commands that name no server.

export function scopeFor(command: string, scope: string | undefined, server?: string): string {
  if (server === undefined) return scope ?? DEFAULT_SQL_SCOPE;
  try {
    return resolveScope({ server, scope });
  } catch (error) {
    if (!isUnknownSqlHostError(error)) throw error;
    throw new UsageError(
      `entra-sql ${command}: cannot tell the token scope for --server "${error.host}": it is not a known Azure SQL host name.`,
      `add --scope ${DEFAULT_SQL_SCOPE} (or your cloud's SQL scope)`,
      "--scope",
    );
  }
}
