import { InvalidOptionError, ScopeNotAllowedError } from "./errors.js";
import { printable } from "./redact.js";
import { DEFAULT_SQL_SCOPE, SQL_SCOPES } from "./sql-audiences.js";

// The scope guard: which token scopes may be requested at all. In tedious' `token-credential` mode
// the SERVER names the scope: it announces an SPN in FEDAUTHINFO and tedious asks the credential
// for `new URL('/.default', spn)` (tedious 19 `Connection.performSentLogin7WithFedAuth`).
// Without a guard, a rogue or spoofed server announcing `https://graph.microsoft.com/` or
// `https://management.azure.com/` would receive a token for Graph or ARM. The guard admits only
// the SQL audiences (sql-audiences.ts, or the caller's own list) and refuses everything else.

export interface ScopeGuard {
  /** The allowed scopes, canonical (`https://host/.default`), without duplicates. */
  readonly allowedScopes: readonly string[];
  /** Whether a token may be requested for `scope` (any spelling that denotes an allowed audience). */
  isAllowed(scope: string): boolean;
  /** Throws {@link ScopeNotAllowedError} unless {@link ScopeGuard.isAllowed}. */
  assertAllowed(scope: string): void;
}

const DEFAULT_SUFFIX = ".default";

// One DNS label: letters, digits, inner hyphens. Punycode (xn--) passes; `%`, `@`, `:` and a
// trailing dot do not, which keeps userinfo, ports and look-alike encodings out by construction.
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOST = new RegExp(`^(?:${LABEL}\\.)+${LABEL}$`);
// Path segments of a scope: plain URL-safe characters, no percent-encoding, no dot segments.
const PATH = /^\/(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*\/)*\/?\.default$/;

/**
 * The canonical form of a scope, or `undefined` when `scope` is not a well-formed `.default` scope.
 *
 * Accepted spellings: `https://<host>[/<path>]/.default` and the same with a doubled slash before
 * `.default` (`https://database.windows.net//.default`, which clients produce by appending
 * `/.default` to the resource ID `https://database.windows.net/`). Scheme and host compare
 * case-insensitively; the path is case-sensitive. Refused: other schemes, userinfo, ports, query,
 * fragment, percent-encoding, backslashes, dot segments, a trailing dot on the host, more than one
 * extra slash. The canonical form has a single slash: `https://database.windows.net/.default`.
 */
export function canonicalScope(scope: string): string | undefined {
  if (typeof scope !== "string" || scope.length > 2048) return undefined;
  const match = /^https:\/\/([^/]*)(\/.*)$/i.exec(scope);
  if (!match) return undefined;
  const host = (match[1] ?? "").toLowerCase();
  const path = match[2] ?? "";
  if (!HOST.test(host) || !PATH.test(path)) return undefined;
  // "/a/b//.default" -> "/a/b/.default"; PATH admits at most one extra slash before `.default`.
  const base = path.slice(0, -DEFAULT_SUFFIX.length).replace(/\/\/$/, "/");
  return `https://${host}${base}${DEFAULT_SUFFIX}`;
}

/**
 * Builds the guard. `allowedScopes` replaces the default list (`SQL_SCOPES`); every entry must
 * be an absolute https URL ending in `/.default`, else {@link InvalidOptionError}.
 * @example createScopeGuard([...SQL_SCOPES, "https://my-sql-proxy.contoso.com/.default"])
 */
export function createScopeGuard(allowedScopes: readonly string[] = SQL_SCOPES): ScopeGuard {
  const allowed = Object.freeze(validateAllowedScopes(allowedScopes));
  const allowedSet = new Set(allowed);
  const isAllowed = (scope: string): boolean => {
    const canonical = canonicalScope(scope);
    return canonical !== undefined && allowedSet.has(canonical);
  };
  return Object.freeze({
    allowedScopes: allowed,
    isAllowed,
    assertAllowed(scope: string): void {
      if (!isAllowed(scope)) throw new ScopeNotAllowedError(scope, allowed);
    },
  });
}

function validateAllowedScopes(allowedScopes: unknown): string[] {
  const expected = `a non-empty list of absolute https URLs ending in "/.default", e.g. ["${DEFAULT_SQL_SCOPE}"]`;
  if (!Array.isArray(allowedScopes) || allowedScopes.length === 0) {
    const shown = Array.isArray(allowedScopes) ? "an empty list" : printable(allowedScopes);
    throw new InvalidOptionError("allowedScopes", shown, expected);
  }
  const result: string[] = [];
  allowedScopes.forEach((entry: unknown, index) => {
    const canonical = typeof entry === "string" ? canonicalScope(entry) : undefined;
    if (canonical === undefined) {
      throw new InvalidOptionError(
        `allowedScopes[${index}]`,
        printable(entry),
        `an absolute https URL ending in "/.default", e.g. "${DEFAULT_SQL_SCOPE}"`,
      );
    }
    if (!result.includes(canonical)) result.push(canonical);
  });
  return result;
}
