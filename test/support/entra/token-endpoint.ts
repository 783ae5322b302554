import {
  isFederatedAssertion,
  JWT_BEARER_ASSERTION_TYPE,
  peekJwt,
  verifyCertificateAssertion,
  verifyFederatedAssertion,
} from "./client-assertion.js";
import { type AppRecord, type Directory, identityKey } from "./directory.js";
import { aadsts, EntraError } from "./entra-errors.js";
import type { FederatedIssuerRegistry } from "./federated-issuer.js";
import {
  type ClientAuthMethod,
  entraErrorResult,
  type HandlerResult,
  type RequestContext,
  type Route,
} from "./request-pipeline.js";
import { type ResourceRegistry, resourceFromScope } from "./resources.js";
import type { LocalEntraSettings } from "./settings.js";
import { mintAccessToken, type SigningKeySet, tokenSubject } from "./token-minter.js";

// POST /{tenant}/oauth2/v2.0/token, grant_type=client_credentials, authenticated by a client
// secret, a certificate-signed client assertion, or a federated (workload identity) assertion.
// Checks run in the order Entra's errors suggest: request shape, tenant, app, credential, scope.

export interface TokenEndpointDeps {
  directory: Directory;
  keys: SigningKeySet;
  settings: LocalEntraSettings;
  federation: FederatedIssuerRegistry;
  resources: ResourceRegistry;
  authorityHost: string;
}

/** Tenant path segments that name no tenant: fine for discovery, not for client credentials. */
const NON_TENANT_SEGMENTS = new Set(["common", "organizations", "consumers"]);

export function tokenRoute(tenantSegment: string, deps: TokenEndpointDeps): Route {
  return {
    endpoint: "token",
    identify: (ctx) => {
      const clientId = formOf(ctx).get("client_id");
      return clientId ? { clientId } : {};
    },
    handle: async (ctx) => {
      try {
        return await issue(tenantSegment, ctx, deps);
      } catch (error) {
        if (!(error instanceof EntraError)) throw error;
        const resource = requestedResource(formOf(ctx));
        return { ...entraErrorResult(error, ctx, deps.authorityHost), ...(resource ? { resource } : {}) };
      }
    },
  };
}

async function issue(
  tenantSegment: string,
  ctx: RequestContext,
  deps: TokenEndpointDeps,
): Promise<HandlerResult> {
  const form = formOf(ctx);
  const grantType = form.get("grant_type");
  if (!grantType) throw aadsts.missingParameter("grant_type");
  if (grantType !== "client_credentials") throw aadsts.unsupportedGrantType(grantType);
  const clientId = form.get("client_id");
  if (!clientId) throw aadsts.missingParameter("client_id");
  const scope = form.get("scope");
  if (!scope) throw aadsts.missingParameter("scope");

  const tenant = tenantSegment.toLowerCase();
  if (NON_TENANT_SEGMENTS.has(tenant) || !deps.directory.hasTenant(tenant))
    throw aadsts.tenantNotFound(tenantSegment);

  const app = deps.directory.appByClientId(clientId);
  if (!app || app.tenantId !== tenant) throw aadsts.appNotFound(clientId, tenant);
  if (!app.enabled) throw aadsts.appDisabled(app.clientId, app.displayName);

  const method = await authenticate(app, form, tenantSegment, ctx, deps);

  const resource = resourceFromScope(scope);
  if (!deps.resources.isKnown(resource)) throw aadsts.resourceNotFound(resource, tenant);

  const lifetime = deps.settings.tokenLifetimeSeconds;
  const minted = mintAccessToken({
    subject: tokenSubject(app),
    resource,
    nowMs: ctx.nowMs,
    lifetimeSeconds: lifetime,
    appidacr: method === "secret" ? "1" : "2",
    signingKey: deps.keys.current,
  });
  const refreshIn = deps.settings.refreshInSeconds;
  return {
    status: 200,
    json: {
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      ...(refreshIn !== undefined ? { refresh_in: refreshIn } : {}),
      access_token: minted.token,
    },
    headers: ctx.correlationId ? { "client-request-id": ctx.correlationId } : {},
    identity: { clientId: app.clientId },
    resource,
    issued: {
      kind: "app",
      objectId: app.objectId,
      clientId: identityKey(app),
      resource,
      expiresOn: minted.expiresOnTimestamp,
      clientAuth: method,
    },
  };
}

async function authenticate(
  app: AppRecord,
  form: URLSearchParams,
  tenantSegment: string,
  ctx: RequestContext,
  deps: TokenEndpointDeps,
): Promise<ClientAuthMethod> {
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null && assertion !== null) throw aadsts.bothCredentials();
  if (secret !== null) {
    if (!deps.directory.verifyClientSecret(app, secret)) throw aadsts.invalidClientSecret(app.clientId);
    return "secret";
  }
  if (assertion === null) throw aadsts.noCredential();
  const assertionType = form.get("client_assertion_type") ?? "";
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw aadsts.badAssertionType(assertionType);
  const peeked = peekJwt(assertion);
  const context = {
    nowMs: ctx.nowMs,
    toleranceSeconds: deps.settings.clockSkewToleranceSeconds,
    // The audience must be this token endpoint, with the tenant segment as the client addressed it.
    validAudiences: [
      `${deps.authorityHost}/${tenantSegment}/oauth2/v2.0/token`,
      `${deps.authorityHost}/${tenantSegment}/oauth2/token`,
    ],
  };
  if (isFederatedAssertion(peeked, app.clientId)) {
    return verifyFederatedAssertion(assertion, peeked, app, deps.federation, context);
  }
  return verifyCertificateAssertion(assertion, peeked, app, context);
}

/** The resource a request asked for, for the request log of a failed request. */
function requestedResource(form: URLSearchParams): string | undefined {
  try {
    return resourceFromScope(form.get("scope") ?? "");
  } catch {
    return undefined;
  }
}

function formOf(ctx: RequestContext): URLSearchParams {
  const contentType = String(ctx.headers["content-type"] ?? "");
  // Entra reads only form-encoded bodies; anything else looks like a request without parameters.
  return contentType.toLowerCase().startsWith("application/x-www-form-urlencoded")
    ? new URLSearchParams(ctx.body)
    : new URLSearchParams();
}
