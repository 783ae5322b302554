import { inspect } from "node:util";
import { errorGraph, errorMessage, errorName, read } from "./error-graph.js";
import type { SourceFailure, SourceFailureKind } from "./errors.js";
import { looksSecret, REDACTED, redactTokensIn } from "./redact.js";
import type { ObservedFailure } from "./transport-observer.js";

// Why one credential source failed: its kind ("unavailable": not configured here; "authentication":
// it tried and Entra ID, or the tool, refused; "transient": the identity provider could not be
// reached or failed right now), a secret-free message, and the fix a person would try next. Used by
// the credential chain for TokenAcquisitionError and source-failed events.

/** What the chain knows about a source when describing its failure. */
export interface FailedSource {
  /** Display name, e.g. "AzureCliCredential" or "custom[2]". */
  name: string;
  /** The credential's class name (what fixes are keyed by), e.g. "ManagedIdentityCredential". */
  type: string;
  /** Exact strings that must never appear in a message (client secrets the source was given). */
  secrets?: readonly string[];
  /**
   * The requests of this call that failed, as the source's TransportObserver saw them (sources built
   * from presets): the evidence msal drops (see {@link diagnoseSetup}).
   */
  observed?: readonly ObservedFailure[];
}

/** Longest message kept per source; the rest is cut (Entra's trace/correlation ids are noise). */
const MAX_MESSAGE_LENGTH = 600;

/** Entra ID refused the request: an AADSTS code or an OAuth2 error code in the text. */
const ENTRA_REFUSAL = /AADSTS\d{5,}|\binvalid_client\b|\binvalid_grant\b|\bunauthorized_client\b/;

/**
 * "transient" when the identity provider could not be reached or failed ({@link isTransientFailure});
 * else "unavailable" for CredentialUnavailableError unless its text carries an Entra refusal (AADSTS
 * code, invalid_client, invalid_grant): the Azure CLI and managed identity wrap refusals such as a
 * disabled account in CredentialUnavailableError, yet they tried and were refused. Everything else
 * is "authentication". An AggregateAuthenticationError (a nested chain) is "unavailable" when all its
 * errors are, "authentication" when one of them is, else "transient".
 */
export function failureKind(error: unknown): SourceFailureKind {
  if (errorName(error) === "AggregateAuthenticationError") {
    const errors = read(error as object, "errors");
    if (Array.isArray(errors) && errors.length > 0) {
      const kinds = errors.map(failureKind);
      if (kinds.every((kind) => kind === "unavailable")) return "unavailable";
      return kinds.includes("authentication") ? "authentication" : "transient";
    }
  }
  if (isTransientFailure(error)) return "transient";
  if (errorName(error) === "CredentialUnavailableError") {
    return ENTRA_REFUSAL.test(errorMessage(error)) ? "authentication" : "unavailable";
  }
  return "authentication";
}

/**
 * The SourceFailure for `error` thrown by `source`: kind, secret-free message, and a fix when one is
 * known. A setup that cannot work here ({@link diagnoseSetup}: the identity endpoint's certificate is
 * not trusted, or instance discovery fails for an authority that is not Microsoft's) is "unavailable"
 * with its own fix, never "transient": retrying does not help, changing a setting does.
 */
export function describeFailure(source: FailedSource, error: unknown): SourceFailure {
  const setup = diagnoseSetup(error, source.observed ?? [], source.secrets);
  const kind = setup === undefined ? failureKind(error) : "unavailable";
  const message = redactSecrets(errorMessage(error), source.secrets);
  const fix =
    setup ??
    (kind === "transient" ? transientFix(error, source.observed) : fixFor(source.type, kind, message));
  return { source: source.name, kind, message, ...(fix === undefined ? {} : { fix }) };
}

// ---- setups that cannot work: untrusted TLS, instance discovery ---------------------------------------

/** Node's (OpenSSL's) codes for a certificate chain it could not verify up to a trusted CA. */
const TLS_UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
]);
/** The same, as text (a custom credential may only have the message). */
const TLS_UNTRUSTED_TEXT =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate not trusted/i;
const TLS_EXPIRED_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const TLS_NAME_CODES = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);

/** A TLS problem seen on a request or in the error graph: where, Node's code and message. */
interface TlsProblem {
  kind: "untrusted" | "expired" | "name";
  origin?: string;
  code?: string;
  message: string;
}

/**
 * The fix for a setup that cannot work, when the evidence says which, else undefined. msal-common 16
 * reports both of these as the same `endpoints_resolution_error` without a cause (its
 * AuthorityFactory drops the reason), so the evidence is what the credential's requests saw
 * (`observed`), with the error graph as a second source (a credential that keeps Node's error):
 * - a failed request to an instance discovery endpoint (`.../common/discovery/instance`): msal only
 *   asks login.microsoftonline.com about an authority it does not know, i.e. one that is not
 *   Microsoft Entra ID's. That request fails offline (DNS) and is refused online (`invalid_instance`).
 *   The fix is `disableInstanceDiscovery: true`;
 * - a request, or an error in the graph, whose TLS certificate Node could not verify
 *   (UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN, ...): the fix is the CA
 *   (`identityOptions.tlsOptions.ca` or NODE_EXTRA_CA_CERTS). An expired certificate or one for
 *   another host name get their own fix.
 */
export function diagnoseSetup(
  error: unknown,
  observed: readonly ObservedFailure[],
  secrets: readonly string[] = [],
): string | undefined {
  const discovery = observed.find((failure) => failure.endpoint === "instance-discovery");
  if (discovery) {
    const authority = discovery.authority ?? "the authorityHost";
    const outcome =
      discovery.status !== undefined
        ? `was answered with HTTP ${discovery.status}`
        : `failed (${[discovery.code, discovery.message && redactSecrets(discovery.message, secrets)].filter(Boolean).join(": ")})`;
    return (
      "Instance discovery failed for a non-public authority: set disableInstanceDiscovery: true " +
      `(in identityOptions) when ${authority} is not Microsoft Entra ID's own authority (a local or private identity provider). ` +
      `msal asked ${discovery.origin} whether it is a known Entra ID instance, and the request ${outcome}.`
    );
  }
  const tls = tlsProblem(error, observed, secrets);
  if (!tls) return undefined;
  const where = tls.origin ?? "the identity endpoint";
  const said = `Node said for ${where}: ${tls.message}${tls.code && !tls.message.includes(tls.code) ? ` (${tls.code})` : ""}.`;
  switch (tls.kind) {
    case "untrusted":
      return (
        "The identity endpoint's TLS certificate is not trusted: pass identityOptions.tlsOptions.ca " +
        "(or NODE_EXTRA_CA_CERTS) with the PEM of the CA that issued it (NODE_EXTRA_CA_CERTS names a " +
        `file and is read when Node starts). ${said}`
      );
    case "expired":
      return `The identity endpoint's TLS certificate has expired or is not valid yet: renew it, or check this machine's clock. ${said}`;
    case "name":
      return `The identity endpoint's TLS certificate does not name the host it was reached at: use the host name on the certificate in authorityHost. ${said}`;
  }
}

function tlsProblem(
  error: unknown,
  observed: readonly ObservedFailure[],
  secrets: readonly string[],
): TlsProblem | undefined {
  const candidates: Array<{ origin?: string; code?: unknown; message?: unknown }> = [
    ...observed,
    ...[...errorGraph(error)].map((node) => ({ code: read(node, "code"), message: read(node, "message") })),
  ];
  for (const { origin, code, message } of candidates) {
    const text = typeof message === "string" ? redactSecrets(message, secrets) : "";
    const codeText = typeof code === "string" ? code : undefined;
    const kind =
      codeText !== undefined && TLS_UNTRUSTED_CODES.has(codeText)
        ? "untrusted"
        : codeText !== undefined && TLS_EXPIRED_CODES.has(codeText)
          ? "expired"
          : codeText !== undefined && TLS_NAME_CODES.has(codeText)
            ? "name"
            : TLS_UNTRUSTED_TEXT.test(text)
              ? "untrusted"
              : undefined;
    if (kind === undefined) continue;
    return {
      kind,
      ...(origin === undefined ? {} : { origin }),
      ...(codeText === undefined ? {} : { code: codeText }),
      message: text || (codeText ?? "TLS error"),
    };
  }
  return undefined;
}

// ---- transient failures -------------------------------------------------------------------------------

/** OAuth 2.0 error codes (RFC 6749 5.2 and 4.1.2.1) that mean "the server failed, try again later". */
const TRANSIENT_OAUTH_ERRORS = new Set(["temporarily_unavailable", "server_error"]);

/** msal error codes for a token endpoint (or its discovery) that could not be reached or answered garbage. */
const MSAL_UNREACHABLE = new Set(["network_error", "endpoints_resolution_error", "no_network_connectivity"]);

/** Node (libuv, undici) and @azure/core-rest-pipeline codes of a failed or timed-out connection. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "REQUEST_SEND_ERROR",
]);

/** The same, as text inside a message (a custom credential may only have the text). */
const NETWORK_TEXT =
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH)\b|socket hang up|\b(network_error|endpoints_resolution_error|no_network_connectivity)\b/i;

/** @azure/identity's IdentityClient.parseResponseBody describes a non-JSON error body this way. */
const HTTP_STATUS_TEXT = /\bHttp status code: (5\d\d|429)\b/;

/**
 * @azure/identity 4.13 (what npm gives Node 20 users) keeps no `cause`: only the text says what msal's
 * ServerError said. "temporarily_unavailable: ..." / "server_error: ..." is the token endpoint's 5xx;
 * "50000: AADSTS50000: ..." (numeric error_codes as msal's errorCode) is msal-common's throttled
 * replay of it (no request sent).
 */
const TRANSIENT_SERVER_TEXT = /^(temporarily_unavailable|server_error)\b|^\d[\d ]*: AADSTS\d+/;

const isTransientStatus = (value: unknown): value is number =>
  typeof value === "number" && (value === 408 || value === 429 || (value >= 500 && value <= 599));

/**
 * Whether `error` says that the identity provider (Entra ID's token endpoint, or a managed identity
 * endpoint) could not be reached or failed right now: nothing was refused, and the same request may
 * work later. The shapes, as @azure/identity 4.14 over msal-node 7.2 / msal-common 16.17 throw them:
 * - the token endpoint answered 5xx or 429 (after the pipeline's own retries, ~5 s):
 *   AuthenticationRequiredError whose `cause` is msal's ServerError with `status` 503 and `errorCode`
 *   the body's OAuth error (`temporarily_unavailable`, `server_error`);
 * - the same credential again within 60 s: msal-common's ThrottlingUtils.preProcess replays that
 *   failure without a request, as a ServerError without `status` whose `errorCode` is the body's
 *   numeric `error_codes` (or empty);
 * - the token endpoint refused or reset the connection, or answered garbage: AuthenticationRequiredError
 *   whose `cause` is msal's ClientAuthError `network_error` (msal drops the socket error);
 * - Entra ID's discovery document could not be fetched: CredentialUnavailableError
 *   "endpoints_resolution_error: ..." without a cause. Only confidential clients (a tenant and client
 *   id were given) get that far, so for them it means unreachable, not unconfigured;
 * - a managed identity endpoint answered 5xx: CredentialUnavailableError whose `cause` is a
 *   ServerError with `status`; an AuthenticationError with `statusCode` 5xx;
 * - Node and undici connection errors by `code`, "socket hang up", a TimeoutError.
 * A managed identity reporting "Network unreachable" (msal `network_error` under a
 * CredentialUnavailableError) stays "unavailable": off Azure there is no endpoint to reach.
 */
export function isTransientFailure(error: unknown): boolean {
  const saysUnavailable = errorName(error) === "CredentialUnavailableError";
  for (const node of errorGraph(error)) {
    if (isTransientStatus(read(node, "status")) || isTransientStatus(read(node, "statusCode"))) return true;
    const errorCode = read(node, "errorCode");
    if (read(node, "name") === "ServerError" && typeof errorCode === "string") {
      if (TRANSIENT_OAUTH_ERRORS.has(errorCode)) return true;
      if (read(node, "status") === undefined && /^[\d ]*$/.test(errorCode)) return true;
    }
    if (saysUnavailable) continue;
    if (typeof errorCode === "string" && MSAL_UNREACHABLE.has(errorCode)) return true;
    const code = read(node, "code");
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    if (read(node, "name") === "TimeoutError") return true;
    const message = read(node, "message");
    if (
      typeof message === "string" &&
      (NETWORK_TEXT.test(message) || HTTP_STATUS_TEXT.test(message) || TRANSIENT_SERVER_TEXT.test(message))
    ) {
      return true;
    }
  }
  return saysUnavailable && /^endpoints_resolution_error\b/.test(errorMessage(error));
}

/**
 * The HTTP status a transient failure carries: the first 5xx, 429 or 408 in its error graph, else in
 * the responses the source's requests got (`observed`; @azure/identity 4.13 keeps no status).
 */
export function transientStatusOf(
  error: unknown,
  observed: readonly ObservedFailure[] = [],
): number | undefined {
  for (const node of errorGraph(error)) {
    for (const key of ["status", "statusCode"]) {
      const value = read(node, key);
      if (isTransientStatus(value)) return value;
    }
  }
  return observed.find((failure) => isTransientStatus(failure.status))?.status;
}

const UNREACHABLE_FIX =
  "Microsoft Entra ID (or the managed identity endpoint) could not be reached: check the network, proxy and the authorityHost setting (AZURE_AUTHORITY_HOST). Nothing needs changing if it passes: the next request for a token tries again.";

/**
 * msal's `endpoints_resolution_error` when nothing says why (a credential core did not build, so no
 * observed requests): every cause msal folds into it, each with its fix.
 */
const ENDPOINTS_UNRESOLVED_FIX =
  "msal could not resolve the authority's endpoints, and it does not say why: if Microsoft Entra ID could not be reached, check the network, proxy and authorityHost (AZURE_AUTHORITY_HOST), and the next request tries again; " +
  "if the identity endpoint's TLS certificate is not trusted (self-signed or a private CA), pass identityOptions.tlsOptions.ca (or NODE_EXTRA_CA_CERTS); " +
  "if the authority is not Microsoft's own (a local or private identity provider), set disableInstanceDiscovery: true.";

function transientFix(error: unknown, observed?: readonly ObservedFailure[]): string {
  // Without evidence (no observed request failed), an unresolved authority can be any of three causes.
  if (/^endpoints_resolution_error\b/.test(errorMessage(error)) && !observed?.length) {
    return ENDPOINTS_UNRESOLVED_FIX;
  }
  const status = transientStatusOf(error, observed);
  const text = [...errorGraph(error)].map((node) => String(read(node, "message") ?? "")).join("\n");
  const answered =
    status !== undefined ||
    /temporarily_unavailable|server_error/.test(text) ||
    TRANSIENT_SERVER_TEXT.test(text) ||
    HTTP_STATUS_TEXT.test(text) ||
    [...errorGraph(error)].some((node) => read(node, "name") === "ServerError");
  if (!answered) return UNREACHABLE_FIX;
  return (
    `The identity provider failed this request${status === undefined ? "" : ` (HTTP ${status})`}; nothing needs changing if it passes: the next request for a token tries again. ` +
    "msal-node sends no request to a token endpoint for 60 s after a 5xx (or for Retry-After after a 429), so a new token can take up to a minute after the service is back. If it lasts, check https://azure.status.microsoft."
  );
}

/**
 * `text` made safe to show in a failure message: the exact `secrets` given and the secret-bearing
 * environment variables' current values are hidden, then everything redact.ts recognises (JWTs,
 * PEM blocks, Entra client secrets, `client_secret=`/`access_token` values, bearer tokens); then
 * whitespace is collapsed and the length capped.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets, ...environmentSecrets()]) {
    if (secret.length >= 6) out = out.split(secret).join(REDACTED);
  }
  out = redactTokensIn(out).replace(/\s+/g, " ").trim();
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : out;
}

/** Does `text` hold anything redactSecrets would remove? */
export function containsSecret(text: string, secrets: readonly string[] = []): boolean {
  if ([...secrets, ...environmentSecrets()].some((s) => s.length >= 6 && text.includes(s))) return true;
  return looksSecret(text);
}

/**
 * `error` itself when nothing in it (message, stack, properties, causes, as util.inspect shows them)
 * looks secret; otherwise a copy of the same class holding only the name and the redacted message,
 * so that `cause` chains and logs of our errors never carry a token (JSON.parse errors, for one,
 * quote the start of the text they failed on).
 */
export function secretFreeError(error: unknown, secrets: readonly string[] = []): unknown {
  const shown = typeof error === "object" && error !== null ? inspect(error, { depth: 6 }) : String(error);
  if (!containsSecret(shown, secrets)) return error;
  const message = redactSecrets(errorMessage(error), secrets);
  const prototype = error instanceof Error ? Object.getPrototypeOf(error) : Error.prototype;
  const copy = Object.create(prototype) as Error;
  Object.defineProperty(copy, "message", { value: message, writable: true, configurable: true });
  Object.defineProperty(copy, "name", {
    value: errorName(error) ?? "Error",
    writable: true,
    configurable: true,
  });
  Object.defineProperty(copy, "stack", {
    value: `${errorName(error) ?? "Error"}: ${message}\n    (stack removed: it held a secret)`,
    writable: true,
    configurable: true,
  });
  return copy;
}

function environmentSecrets(): string[] {
  const names = [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "IDENTITY_HEADER",
  ];
  return names.map((name) => process.env[name]).filter((v): v is string => typeof v === "string");
}

// ---- fixes ---------------------------------------------------------------------------------------

/** Fixes keyed by an Entra error code, whatever the source (a function when it depends on it). */
const AADSTS_FIXES: ReadonlyArray<[RegExp, string | ((type: string, message: string) => string)]> = [
  [
    /AADSTS7000215|AADSTS7000222/,
    "The client secret is wrong or expired: create a new one (Entra ID > App registrations > Certificates & secrets) and update AZURE_CLIENT_SECRET or the clientSecret setting.",
  ],
  [
    /AADSTS700016/,
    "The application (client id) was not found in the tenant: check AZURE_CLIENT_ID / clientId and AZURE_TENANT_ID / tenantId; the app must be registered in, or consented to, that tenant.",
  ],
  [
    /AADSTS90002|AADSTS900023/,
    "The tenant was not found: check AZURE_TENANT_ID / tenantId (a GUID or a domain like contoso.onmicrosoft.com).",
  ],
  [
    /AADSTS700027/,
    "The certificate is not registered on the app (or the key does not match it): upload the certificate's public part to the app registration (Certificates & secrets), or use the matching private key.",
  ],
  [
    /AADSTS700024/,
    "The client assertion is expired or not yet valid: check the machine's clock; for workload identity, check that the projected token file is being refreshed.",
  ],
  [
    /AADSTS70021|AADSTS700211|AADSTS700212|AADSTS700213/,
    "No federated credential on the app matches the token: its issuer, subject (e.g. system:serviceaccount:NAMESPACE:NAME) and audience (api://AzureADTokenExchange) must match the token in AZURE_FEDERATED_TOKEN_FILE.",
  ],
  [
    /AADSTS7000112/,
    "The application is disabled in the tenant: enable it (Entra ID > Enterprise applications > Properties).",
  ],
  [/AADSTS50057/, "The user account is disabled: sign in with another account (`az login`)."],
  [
    /AADSTS50034|AADSTS50020/,
    "The signed-in account does not exist in this tenant: sign in to the right tenant (`az login --tenant TENANT`) or set tenantId.",
  ],
  [
    /AADSTS500011/,
    "The resource (scope) is not known in the tenant: check the SQL scope, e.g. https://database.windows.net/.default.",
  ],
  [
    /AADSTS65001/,
    "The app has no consent for the scope: grant admin consent for Azure SQL Database in the tenant.",
  ],
  [
    /AADSTS50173|AADSTS50078|AADSTS50076|AADSTS50079|AADSTS70043|AADSTS700082|AADSTS50133|invalid_grant/,
    (type, message) => {
      const why = "The sign-in expired or needs interaction (MFA, password change): ";
      if (type === "AzureDeveloperCliCredential") return `${why}run \`azd auth login\`.`;
      const scoped = /az login --scope (\S+)/.exec(message);
      if (scoped) return `${why}run \`az login --scope ${scoped[1]}\`.`;
      return `${why}sign in again (\`az login\`).`;
    },
  ],
];

const NETWORK =
  /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|endpoints_resolution_error|network_error/i;

/**
 * The fix a person would try next for a failure of a source of type `type` (the credential class
 * name). Entra error codes first, then what each credential's messages mean.
 */
export function fixFor(type: string, kind: SourceFailureKind, message: string): string | undefined {
  for (const [pattern, fix] of AADSTS_FIXES) {
    if (pattern.test(message)) return typeof fix === "string" ? fix : fix(type, message);
  }
  const bySource = SOURCE_FIXES[type]?.(kind, message);
  if (bySource) return bySource;
  if (NETWORK.test(message)) {
    return "Microsoft Entra ID could not be reached: check the network, proxy and the authorityHost setting (AZURE_AUTHORITY_HOST).";
  }
  if (/invalid_client/.test(message)) {
    return "The client credentials were refused: check the tenant id, client id and the secret or certificate.";
  }
  return undefined;
}

type FixRule = (kind: SourceFailureKind, message: string) => string | undefined;

const SERVICE_PRINCIPAL_FIX: FixRule = (_kind, message) =>
  /ENOENT|no such file/i.test(message)
    ? "The certificate file does not exist or cannot be read: check certificatePath (AZURE_CLIENT_CERTIFICATE_PATH)."
    : /private key|PEM|certificate/i.test(message) && !NETWORK.test(message)
      ? "The certificate could not be used: give a PEM file holding both the certificate and its private key."
      : undefined;

const SOURCE_FIXES: Readonly<Record<string, FixRule>> = {
  AzureCliCredential: (_kind, message) => {
    if (/could(n't| not) be found|not installed|ENOENT/i.test(message)) {
      return "Install the Azure CLI (https://aka.ms/azure-cli) and run `az login`.";
    }
    const scoped = /az login --scope (\S+)/.exec(message);
    if (scoped) return `Run \`az login --scope ${scoped[1]}\` to sign in again for this resource.`;
    if (/az login/.test(message)) {
      return "Run `az login` (and `az account set --subscription SUBSCRIPTION` to pick the account).";
    }
    if (/JSON|Unexpected end/i.test(message)) {
      return "The Azure CLI printed no token (it may have timed out): run `az account get-access-token --resource https://database.windows.net/` to see why.";
    }
    return "Run `az account get-access-token --resource https://database.windows.net/` to see the Azure CLI's own error; `az login` to sign in again.";
  },
  AzureDeveloperCliCredential: (_kind, message) =>
    /could(n't| not) be found|not installed|ENOENT/i.test(message)
      ? "Install the Azure Developer CLI (https://aka.ms/azd) and run `azd auth login`."
      : "Run `azd auth login`.",
  AzurePowerShellCredential: (_kind, message) =>
    /Connect-AzAccount/.test(message) && !/not installed/.test(message)
      ? "Run `Connect-AzAccount` in PowerShell."
      : "Install PowerShell and the Az.Accounts module, then run `Connect-AzAccount`.",
  VisualStudioCodeCredential: () =>
    "Sign in with the Azure Resources extension in VS Code and install @azure/identity-vscode, or use the Azure CLI (`az login`).",
  ManagedIdentityCredential: (kind, message) => {
    if (/Unable to load the proper Managed Identity|Identity not found/i.test(message)) {
      return "This Azure resource has no managed identity (or none with that id): enable its system-assigned identity or assign the user-assigned one, or fix AZURE_CLIENT_ID (the managedIdentityClientId setting, or the managed-identity preset's clientId/resourceId).";
    }
    if (kind === "unavailable" || NETWORK.test(message) || /unreachable|not available/i.test(message)) {
      return "Not running on Azure with a managed identity; for a user-assigned identity set AZURE_CLIENT_ID (or the managedIdentityClientId option).";
    }
    return undefined;
  },
  EnvironmentCredential: (kind) =>
    kind === "unavailable"
      ? "Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for a service principal."
      : "Check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH): Entra ID refused them.",
  WorkloadIdentityCredential: (kind) =>
    kind === "unavailable"
      ? "Set AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID (on AKS: label the pod azure.workload.identity/use=true and annotate its service account with the client id)."
      : "Check the app's federated credential (issuer, subject, audience) against the token in AZURE_FEDERATED_TOKEN_FILE.",
  ClientSecretCredential: () => undefined,
  ClientCertificateCredential: SERVICE_PRINCIPAL_FIX,
};
