import type { Directory, ManagedIdentityRecord, ManagedIdentitySelector } from "./directory.js";
import { aadsts, type EntraError } from "./entra-errors.js";
import { constantTimeEquals, newGuid } from "./ids.js";
import type { HandlerResult, Identity, RequestContext, Route } from "./request-pipeline.js";
import type { ResourceRegistry } from "./resources.js";
import type { LocalEntraSettings } from "./settings.js";
import { mintAccessToken, type SigningKeySet, tokenSubject } from "./token-minter.js";

// The two managed-identity protocols msal-node speaks that matter for us, over plain http on
// loopback as in Azure:
// - App Service / Functions (IDENTITY_ENDPOINT + IDENTITY_HEADER): GET ?api-version=2019-08-01
//   &resource=..[&client_id|&mi_res_id|&object_id|&principal_id], header `x-identity-header`.
//   Errors are `{ statusCode, message, correlationId }`.
// - IMDS (VMs; AZURE_POD_IDENTITY_AUTHORITY_HOST points msal-node here): GET
//   /metadata/identity/oauth2/token?api-version=2018-02-01&resource=..[&client_id|&msi_res_id
//   |&object_id], header `Metadata: true`. Errors are `{ error, error_description }`.
// Both answer `expires_on` as epoch seconds in a string; msal-node ignores `expires_in`.

export interface ManagedIdentityDeps {
  directory: Directory;
  keys: SigningKeySet;
  settings: LocalEntraSettings;
  resources: ResourceRegistry;
  identityHeader: string;
}

type Protocol = "appService" | "imds";

/** Query parameters naming a user-assigned identity, per protocol. */
const SELECTOR_PARAMS: Record<Protocol, Record<string, keyof ManagedIdentitySelector>> = {
  appService: {
    client_id: "clientId",
    mi_res_id: "resourceId",
    object_id: "objectId",
    principal_id: "objectId",
  },
  imds: { client_id: "clientId", msi_res_id: "resourceId", object_id: "objectId" },
};

export function appServiceRoute(deps: ManagedIdentityDeps): Route {
  return {
    endpoint: "appService",
    identify: (ctx) => identify(ctx, "appService", deps),
    handle: (ctx) => {
      const header = ctx.headers["x-identity-header"];
      // approx. text: App Service rejects a missing or wrong header before anything else.
      if (typeof header !== "string" || !constantTimeEquals(header, deps.identityHeader)) {
        return appServiceError(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or invalid.");
      }
      const apiVersion = ctx.url.searchParams.get("api-version");
      if (apiVersion !== "2019-08-01") {
        return appServiceError(
          400,
          `The api-version '${apiVersion ?? ""}' is not supported; use 2019-08-01.`,
        );
      }
      return issue(ctx, "appService", deps);
    },
  };
}

export function imdsRoute(deps: ManagedIdentityDeps): Route {
  return {
    endpoint: "imds",
    identify: (ctx) => identify(ctx, "imds", deps),
    handle: (ctx) => {
      const metadata = ctx.headers.metadata;
      if (typeof metadata !== "string" || metadata.toLowerCase() !== "true") {
        return imdsError(400, "invalid_request", "Required metadata header not specified");
      }
      if (!ctx.url.searchParams.get("api-version")) {
        return imdsError(400, "invalid_request", "Required query variable 'api-version' is missing");
      }
      return issue(ctx, "imds", deps);
    },
  };
}

function selectorOf(ctx: RequestContext, protocol: Protocol): ManagedIdentitySelector | "ambiguous" {
  const selector: ManagedIdentitySelector = {};
  let count = 0;
  for (const [param, field] of Object.entries(SELECTOR_PARAMS[protocol])) {
    const value = ctx.url.searchParams.get(param);
    if (value) {
      selector[field] = value;
      count += 1;
    }
  }
  return count > 1 ? "ambiguous" : selector;
}

function identify(ctx: RequestContext, protocol: Protocol, deps: ManagedIdentityDeps): Identity {
  const selector = selectorOf(ctx, protocol);
  if (selector === "ambiguous") return {};
  const identity = deps.directory.selectManagedIdentity(selector, protocol);
  const clientId = identity?.clientId ?? selector.clientId;
  return clientId ? { clientId } : {};
}

function issue(ctx: RequestContext, protocol: Protocol, deps: ManagedIdentityDeps): HandlerResult {
  const resource = ctx.url.searchParams.get("resource");
  // Log the requested resource for failures too.
  return { ...(resource ? { resource } : {}), ...select(ctx, protocol, deps) };
}

function select(ctx: RequestContext, protocol: Protocol, deps: ManagedIdentityDeps): HandlerResult {
  const fail = (status: number, error: string, message: string): HandlerResult =>
    protocol === "appService" ? appServiceError(status, message) : imdsError(status, error, message);
  const failEntra = (e: EntraError): HandlerResult =>
    fail(e.status === 401 ? 400 : e.status, e.error, e.message);

  const resource = ctx.url.searchParams.get("resource");
  if (!resource) return fail(400, "invalid_request", "Required query variable 'resource' is missing");
  const selector = selectorOf(ctx, protocol);
  if (selector === "ambiguous") {
    return fail(400, "invalid_request", "Only one of client_id, object_id or a resource id may be given.");
  }
  const identity = deps.directory.selectManagedIdentity(selector, protocol);
  if (!identity) {
    return protocol === "appService"
      ? appServiceError(400, "Unable to load the proper Managed Identity.")
      : imdsError(400, "invalid_request", "Identity not found");
  }
  if (!identity.enabled) return failEntra(aadsts.appDisabled(identity.clientId, identity.displayName));
  if (!deps.resources.isKnown(resource))
    return failEntra(aadsts.resourceNotFound(resource, identity.tenantId));
  return success(ctx, protocol, identity, resource, deps);
}

function success(
  ctx: RequestContext,
  protocol: Protocol,
  identity: ManagedIdentityRecord,
  resource: string,
  deps: ManagedIdentityDeps,
): HandlerResult {
  const lifetime = deps.settings.managedIdentityTokenLifetimeSeconds ?? deps.settings.tokenLifetimeSeconds;
  const minted = mintAccessToken({
    subject: tokenSubject(identity),
    resource,
    nowMs: ctx.nowMs,
    lifetimeSeconds: lifetime,
    signingKey: deps.keys.current,
  });
  const expiresOn = String(minted.claims.exp);
  const json =
    protocol === "appService"
      ? {
          access_token: minted.token,
          expires_on: expiresOn,
          expires_in: lifetime,
          resource,
          token_type: "Bearer",
          client_id: identity.clientId,
        }
      : {
          access_token: minted.token,
          client_id: identity.clientId,
          expires_in: String(lifetime),
          expires_on: expiresOn,
          ext_expires_in: String(lifetime),
          not_before: String(minted.claims.nbf),
          resource,
          token_type: "Bearer",
        };
  return {
    status: 200,
    json,
    identity: { clientId: identity.clientId },
    resource,
    issued: {
      kind: "managedIdentity",
      objectId: identity.objectId,
      clientId: identity.clientId,
      resource,
      expiresOn: minted.expiresOnTimestamp,
    },
  };
}

function appServiceError(status: number, message: string): HandlerResult {
  return { status, json: { statusCode: status, message, correlationId: newGuid() }, error: `http_${status}` };
}

function imdsError(status: number, error: string, description: string): HandlerResult {
  return { status, json: { error, error_description: description }, error };
}
