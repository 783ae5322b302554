import { aadsts } from "./entra-errors.js";

// Which resources (token audiences) the local Entra ID issues tokens for. Entra refuses a token for
// a resource it has no service principal for (AADSTS500011); being as strict here catches a client
// asking for the wrong audience (a typo in a cloud's SQL scope) in tests, not in production.

/** Resources Entra knows in every tenant that matter to this project. */
export const DEFAULT_RESOURCES: readonly string[] = [
  "https://database.windows.net/",
  "https://database.usgovcloudapi.net/",
  "https://database.chinacloudapi.cn/",
  "https://database.fabric.microsoft.com/",
  "https://management.azure.com/",
  "https://management.core.windows.net/",
  "https://graph.microsoft.com/",
  "https://vault.azure.net/",
  "https://storage.azure.com/",
  "https://ossrdbms-aad.database.windows.net/",
];

/** OIDC scopes that may ride along with a resource scope and name no resource. */
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

export class ResourceRegistry {
  readonly #known = new Set<string>();

  constructor(extra: readonly string[] = []) {
    for (const resource of [...DEFAULT_RESOURCES, ...extra]) this.add(resource);
  }

  /** Registers a resource (application ID URI). Matching ignores case and trailing slashes. */
  add(resource: string): void {
    this.#known.add(normalize(resource));
  }

  isKnown(resource: string): boolean {
    return this.#known.has(normalize(resource));
  }
}

function normalize(resource: string): string {
  return resource.trim().replace(/\/+$/, "").toLowerCase();
}

/**
 * The resource a client-credentials scope names: exactly one `<resource>/.default` (plus optional
 * OIDC scopes). The trailing slash of the resource is kept as given, so the SQL scope
 * `https://database.windows.net//.default` yields the audience `https://database.windows.net/`.
 */
export function resourceFromScope(scope: string): string {
  const scopes = scope.split(/\s+/).filter((s) => s.length > 0 && !OIDC_SCOPES.has(s.toLowerCase()));
  if (scopes.length > 1) throw aadsts.scopeMultipleResources();
  const only = scopes[0];
  if (only === undefined || !only.endsWith("/.default") || only.length === "/.default".length) {
    throw aadsts.scopeMissingDefault(scope);
  }
  return only.slice(0, -"/.default".length);
}
