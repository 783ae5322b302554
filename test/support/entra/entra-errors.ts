import { newGuid } from "./ids.js";

// Errors in the exact JSON shape Entra ID's token endpoint returns, so MSAL and @azure/identity map
// them the way they map real ones (`AuthenticationRequiredError` carrying `invalid_client`, etc.).
//
// Codes and texts follow real responses quoted in public issue threads (MSAL, azure-workload-identity,
// azure/login). Where we found no public sample, the text is ours and the comment says "approx.".

/** The body Entra returns on a failed token request. */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** A protocol error the token endpoint turns into an HTTP response. */
export class EntraError extends Error {
  override readonly name = "EntraError";
  constructor(
    /** HTTP status: 400 or 401. */
    readonly status: 400 | 401,
    /** OAuth2 error code (`invalid_client`, ...). */
    readonly error: string,
    /** The AADSTS number. */
    readonly code: number,
    /** The description without the `AADSTSnnn: ` prefix and without the trace suffix. */
    readonly description: string,
  ) {
    super(`AADSTS${code}: ${description}`);
  }
}

/** "2025-07-07 10:30:48Z", the format of Entra's `timestamp` and description suffix. */
export function entraTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export function entraErrorBody(
  err: EntraError,
  context: { nowMs: number; correlationId: string | undefined; authorityHost: string },
): EntraErrorBody {
  const timestamp = entraTimestamp(context.nowMs);
  const traceId = newGuid();
  const correlationId = context.correlationId ?? newGuid();
  return {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${context.authorityHost}/error?code=${err.code}`,
  };
}

/** The catalogue of errors the local IdP produces. */
export const aadsts = {
  missingParameter: (name: string) =>
    new EntraError(
      400,
      "invalid_request",
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    ),
  unsupportedGrantType: (grantType: string) =>
    new EntraError(
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grantType}'. (The local Entra ID supports client_credentials only.)`,
    ),
  tenantNotFound: (tenant: string) =>
    new EntraError(
      400,
      "invalid_request",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  appNotFound: (clientId: string, tenant: string) =>
    new EntraError(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  appDisabled: (clientId: string, displayName: string) =>
    new EntraError(
      400,
      "unauthorized_client",
      7000112,
      `Application '${clientId}'(${displayName}) is disabled.`,
    ),
  userDisabled: () => new EntraError(400, "invalid_grant", 50057, "The user account is disabled."),
  userNotFound: (upn: string, tenant: string) =>
    new EntraError(
      400,
      "invalid_grant",
      50034,
      `The user account ${upn} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.`,
    ),
  noCredential: () =>
    new EntraError(
      401,
      "invalid_client",
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    ),
  // approx.: Entra rejects a request that carries both; we found no public sample of the text.
  bothCredentials: () =>
    new EntraError(
      400,
      "invalid_request",
      90023,
      "Only one of 'client_secret' and 'client_assertion' may be presented with a client_credentials request.",
    ),
  // approx.
  badAssertionType: (type: string) =>
    new EntraError(
      400,
      "invalid_request",
      90014,
      `The client_assertion_type '${type}' is not supported; expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`,
    ),
  invalidClientSecret: (clientId: string) =>
    new EntraError(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  malformedAssertion: () =>
    new EntraError(401, "invalid_client", 50027, "JWT token is invalid or malformed."),
  certificateNotRegistered: (thumbprint: string, clientId: string) =>
    new EntraError(
      401,
      "invalid_client",
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    ),
  assertionSignatureInvalid: () =>
    new EntraError(401, "invalid_client", 700027, "Client assertion failed signature validation."),
  assertionTimeRange: (nowS: number, nbfS: number | undefined, expS: number | undefined) =>
    new EntraError(
      401,
      "invalid_client",
      700024,
      `Client assertion is not within its valid time range. Current time: ${iso(nowS)}, assertion valid from ${iso(nbfS)}, expiry time of assertion ${iso(expS)}.`,
    ),
  assertionAudience: () =>
    new EntraError(
      401,
      "invalid_client",
      50012,
      "Client assertion audience claim does not match Realm issuer.",
    ),
  // approx.: the certificate flow requires iss = sub = client_id.
  assertionSubject: () =>
    new EntraError(
      401,
      "invalid_client",
      700021,
      "Client assertion application identifier doesn't match 'client_id' parameter.",
    ),
  federatedIssuer: (issuer: string) =>
    new EntraError(
      401,
      "invalid_client",
      700211,
      `No matching federated identity record found for presented assertion issuer '${issuer}'. Please, check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    ),
  federatedAudience: (audience: string) =>
    new EntraError(
      401,
      "invalid_client",
      700212,
      `No matching federated identity record found for presented assertion audience '${audience}'. Please, check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    ),
  federatedSubject: (subject: string) =>
    new EntraError(
      401,
      "invalid_client",
      700213,
      `No matching federated identity record found for presented assertion subject '${subject}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    ),
  scopeMissingDefault: (scope: string) =>
    new EntraError(
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  scopeMultipleResources: () =>
    new EntraError(
      400,
      "invalid_scope",
      28000,
      "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope is not valid.",
    ),
  resourceNotFound: (resource: string, tenant: string) =>
    new EntraError(
      400,
      "invalid_resource",
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
  // Fault injection: a request that would have been fine is answered like a bad secret.
  injectedInvalidClient: (clientId: string) =>
    new EntraError(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'. [local Entra: injected fault]`,
    ),
};

function iso(epochSeconds: number | undefined): string {
  return epochSeconds === undefined ? "(none)" : new Date(epochSeconds * 1000).toISOString();
}
