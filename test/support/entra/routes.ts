import type { DiscoveryDeps } from "./discovery.js";
import { jwksRoute, openIdConfigurationRoute, staticDocumentRoute } from "./discovery.js";
import type { FakeCli } from "./fake-cli.js";
import type { LocalFederatedIssuer } from "./federated-issuer.js";
import { appServiceRoute, imdsRoute, type ManagedIdentityDeps } from "./managed-identity-endpoints.js";
import type { HandlerResult, Route, Router } from "./request-pipeline.js";
import { type TokenEndpointDeps, tokenRoute } from "./token-endpoint.js";

// URL -> endpoint mapping for each listener. Paths follow Entra (authority), App Service
// (`/msi/token`), IMDS (`/metadata/identity/oauth2/token`) and the CLI bridge (`/cli/az|azd`).
// Answers produced here (404, 405, 403) are not counted: they are not requests to an endpoint.

export function authorityRouter(deps: {
  discoveryDeps: DiscoveryDeps;
  tokenDeps: TokenEndpointDeps;
  federatedIssuer: LocalFederatedIssuer;
}): Router {
  return (method, url) => {
    const pathname = url.pathname;
    const issuerPrefix = deps.federatedIssuer.pathPrefix;
    if (pathname.startsWith(issuerPrefix)) {
      if (method !== "GET") return methodNotAllowed();
      const rest = pathname.slice(issuerPrefix.length);
      if (rest === ".well-known/openid-configuration") {
        return staticDocumentRoute("discovery", () => deps.federatedIssuer.openIdConfiguration());
      }
      if (rest === "openid/v1/jwks") return staticDocumentRoute("jwks", () => deps.federatedIssuer.jwks());
      return notFound();
    }
    const s = pathname.split("/").filter((segment) => segment.length > 0);
    // `/{tenant}/<expected...>`, case-insensitive after the tenant.
    const is = (...expected: string[]) =>
      s.length === expected.length + 1 && expected.every((part, i) => s[i + 1]?.toLowerCase() === part);
    const tenant = s[0] ?? "";
    const get = (route: () => Route) => (method === "GET" ? route() : methodNotAllowed());
    if (is("v2.0", ".well-known", "openid-configuration")) {
      return get(() => openIdConfigurationRoute(tenant, 2, deps.discoveryDeps));
    }
    if (is(".well-known", "openid-configuration")) {
      return get(() => openIdConfigurationRoute(tenant, 1, deps.discoveryDeps));
    }
    if (is("discovery", "v2.0", "keys") || is("discovery", "keys")) {
      return get(() => jwksRoute(tenant, deps.discoveryDeps));
    }
    if (s.length === 2 && s[0] === "discovery" && s[1] === "keys") {
      return get(() => jwksRoute(undefined, deps.discoveryDeps));
    }
    if (is("oauth2", "v2.0", "token")) {
      return method === "POST" ? tokenRoute(tenant, deps.tokenDeps) : methodNotAllowed();
    }
    if (is("oauth2", "token") || is("oauth2", "v2.0", "authorize") || is("oauth2", "v2.0", "devicecode")) {
      return {
        status: 400,
        json: {
          error: "unsupported_grant_type",
          error_description: `The local Entra ID implements only the v2.0 client_credentials token endpoint, not ${pathname}.`,
        },
      };
    }
    return notFound();
  };
}

export function appServiceRouter(deps: ManagedIdentityDeps): Router {
  return (method, url) => {
    if (!/^\/msi\/token\/?$/i.test(url.pathname)) return notFound();
    return method === "GET" ? appServiceRoute(deps) : methodNotAllowed();
  };
}

export function imdsRouter(deps: ManagedIdentityDeps): Router {
  return (method, url) => {
    if (!/^\/metadata\/identity\/oauth2\/token\/?$/.test(url.pathname)) return notFound();
    return method === "GET" ? imdsRoute(deps) : methodNotAllowed();
  };
}

export function cliRouter(cli: FakeCli): Router {
  return (method, url, headers) => {
    const match = /^\/cli\/(az|azd)$/.exec(url.pathname);
    if (!match || method !== "POST") return notFound();
    // Only the scripts this instance wrote (they carry its key) are served and counted.
    if (!cli.acceptsKey(headers["x-local-entra-cli-key"])) {
      return { status: 403, text: "ERROR: this fake CLI belongs to another local Entra ID" };
    }
    return cli.route(match[1] === "az" ? "az" : "azd");
  };
}

function notFound(): HandlerResult {
  return {
    status: 404,
    json: { error: "not_found", error_description: "No such endpoint on the local Entra ID." },
  };
}

function methodNotAllowed(): HandlerResult {
  return { status: 405, json: { error: "invalid_request", error_description: "Method not allowed." } };
}
