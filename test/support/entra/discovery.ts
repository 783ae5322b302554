import type { Directory } from "./directory.js";
import { aadsts, entraErrorBody } from "./entra-errors.js";
import type { HandlerResult, RequestContext, Route } from "./request-pipeline.js";
import type { JsonWebKeySet } from "./token-minter.js";

// OpenID Connect discovery documents and signing keys, shaped like Entra's:
// - v2.0 (`/{tenant}/v2.0/.well-known/openid-configuration`): what MSAL reads. Its `issuer` is
//   `{authorityHost}/{tid}/v2.0`: MSAL checks that the issuer has the authority's origin.
// - v1 (`/{tenant}/.well-known/openid-configuration`): issuer `https://sts.windows.net/{tid}/`,
//   the issuer of the v1 access tokens Azure SQL accepts (and the SQL stand-in verifies).
// For `common`/`organizations` the tenant is the `{tenantid}` placeholder, as Entra returns.

const MULTI_TENANT_SEGMENTS = new Set(["common", "organizations", "consumers"]);

export interface DiscoveryDeps {
  directory: Directory;
  authorityHost: string;
  jwks(): JsonWebKeySet;
}

export function openIdConfigurationV2(authorityHost: string, tenant: string): Record<string, unknown> {
  const base = `${authorityHost}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: claimsSupported(),
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: "EU",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

export function openIdConfigurationV1(authorityHost: string, tenant: string): Record<string, unknown> {
  const base = `${authorityHost}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${authorityHost}/common/discovery/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
    scopes_supported: ["openid"],
    issuer: `https://sts.windows.net/${tenant}/`,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${base}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/logout`,
    claims_supported: claimsSupported(),
    check_session_iframe: `${base}/oauth2/checksession`,
    userinfo_endpoint: `${base}/openid/userinfo`,
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: "EU",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  };
}

function claimsSupported(): string[] {
  return [
    "sub",
    "iss",
    "cloud_instance_name",
    "cloud_instance_host_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "nonce",
    "preferred_username",
    "name",
    "tid",
    "ver",
    "at_hash",
    "c_hash",
    "email",
  ];
}

/** `GET /{tenant}[/v2.0]/.well-known/openid-configuration`. */
export function openIdConfigurationRoute(tenantSegment: string, version: 1 | 2, deps: DiscoveryDeps): Route {
  return {
    endpoint: "discovery",
    handle: (ctx) => {
      const tenant = tenantOf(tenantSegment, deps.directory);
      if (tenant === undefined) return invalidTenant(tenantSegment, ctx, deps.authorityHost);
      const json =
        version === 2
          ? openIdConfigurationV2(deps.authorityHost, tenant)
          : openIdConfigurationV1(deps.authorityHost, tenant);
      return { status: 200, json };
    },
  };
}

/** `GET /{tenant}/discovery[/v2.0]/keys` and `/common/discovery/keys`: one key set for all tenants. */
export function jwksRoute(tenantSegment: string | undefined, deps: DiscoveryDeps): Route {
  return {
    endpoint: "jwks",
    handle: (ctx) => {
      if (tenantSegment !== undefined && tenantOf(tenantSegment, deps.directory) === undefined) {
        return invalidTenant(tenantSegment, ctx, deps.authorityHost);
      }
      return { status: 200, json: deps.jwks() };
    },
  };
}

/** A document served as-is on a discovery or JWKS endpoint (the federated issuer's). */
export function staticDocumentRoute(endpoint: "discovery" | "jwks", document: () => unknown): Route {
  return { endpoint, handle: () => ({ status: 200, json: document() }) };
}

function tenantOf(segment: string, directory: Directory): string | undefined {
  const lower = segment.toLowerCase();
  if (MULTI_TENANT_SEGMENTS.has(lower)) return "{tenantid}";
  return directory.hasTenant(lower) ? lower : undefined;
}

function invalidTenant(segment: string, ctx: RequestContext, authorityHost: string): HandlerResult {
  const body = entraErrorBody(aadsts.tenantNotFound(segment), {
    nowMs: ctx.nowMs,
    correlationId: ctx.correlationId,
    authorityHost,
  });
  return { status: 400, json: { ...body, error: "invalid_tenant" }, error: "invalid_tenant" };
}
