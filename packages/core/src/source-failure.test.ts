import { inspect } from "node:util";
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from "@azure/identity";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  containsSecret,
  describeFailure,
  failureKind,
  isTransientFailure,
  redactSecrets,
  secretFreeError,
} from "./source-failure.js";
import type { ObservedFailure } from "./transport-observer.js";

// Classification, fixes and redaction, with the messages the real credentials produce (copied from
// @azure/identity 4.14 and the local Entra ID's fake CLIs).

const JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2RhdGFiYXNlIn0.c2lnbmF0dXJl";
const SECRET = "Ab12Q~fakeSecretValueForTests0123456789x";

afterEach(() => {
  vi.unstubAllEnvs();
});

const entraError = (description: string, error = "invalid_client") =>
  new AuthenticationError(401, { error, error_description: description });

// msal's errors as they reach @azure/identity 4.14.1's callers, seen with real credentials against the
// local Entra ID (msal-node 7.2.3, msal-common 16.17.0). msal-node is not a dependency of core, so its
// classes are imitated: msal's AuthError subclasses carry `name`, `errorCode`, `errorMessage`,
// `subError` and, for ServerError, `status`.
const msalError = (name: string, errorCode: string, message: string, status?: number) =>
  Object.assign(new Error(`${errorCode}: ${message}`), {
    name,
    errorCode,
    errorMessage: message,
    subError: "",
    ...(status === undefined ? {} : { status }),
  });
const SCOPES = ["https://database.windows.net//.default"];
const OUTAGE_TEXT =
  "Error(s): 50000 - Timestamp: 2026-12-03 17:32:44Z - Description: AADSTS50000: The service is temporarily unavailable. Trace ID: c9f8c2c5";
/** ClientSecretCredential, token endpoint answering 503 (after the pipeline's retries). */
const tokenEndpoint503 = () =>
  new AuthenticationRequiredError({
    scopes: SCOPES,
    message: `temporarily_unavailable: ${OUTAGE_TEXT}`,
    cause: msalError("ServerError", "temporarily_unavailable", OUTAGE_TEXT, 503),
  });
/** The same credential within 60 s: msal-common ThrottlingUtils.preProcess replays the 503, no request. */
const throttledReplay = () =>
  new AuthenticationRequiredError({
    scopes: SCOPES,
    message: "50000: AADSTS50000: The service is temporarily unavailable.",
    cause: msalError("ServerError", "50000", "AADSTS50000: The service is temporarily unavailable."),
  });
/** Token endpoint refusing connections (discovery already cached): msal's network_error, no socket error. */
const tokenEndpointRefused = () =>
  new AuthenticationRequiredError({
    scopes: SCOPES,
    message: "network_error: See https://aka.ms/msal.js.errors#network_error for details",
    cause: msalError(
      "ClientAuthError",
      "network_error",
      "See https://aka.ms/msal.js.errors#network_error for details",
    ),
  });
/** A new credential while Entra ID is unreachable: discovery fails first. */
const discoveryUnreachable = () =>
  new CredentialUnavailableError(
    "endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details",
  );
/** Refused credentials through the same path: msal's ServerError with the 401's OAuth error. */
const refusedByMsal = () =>
  new AuthenticationRequiredError({
    scopes: SCOPES,
    message: "invalid_client: AADSTS7000215: Invalid client secret provided.",
    cause: msalError("ServerError", "invalid_client", "AADSTS7000215: Invalid client secret provided.", 401),
  });

describe("failureKind", () => {
  it.each<[string, unknown, "unavailable" | "authentication"]>([
    ["CredentialUnavailableError", new CredentialUnavailableError("Please run 'az login'"), "unavailable"],
    [
      "a look-alike by name",
      Object.assign(new Error("x"), { name: "CredentialUnavailableError" }),
      "unavailable",
    ],
    [
      "CredentialUnavailableError carrying AADSTS",
      new CredentialUnavailableError("ERROR: AADSTS50057: The user account is disabled."),
      "authentication",
    ],
    ["AuthenticationError", entraError("AADSTS7000215: Invalid client secret provided."), "authentication"],
    [
      "AuthenticationRequiredError",
      new AuthenticationRequiredError({ scopes: ["s"], message: "invalid_client" }),
      "authentication",
    ],
    ["a TypeError", new TypeError("x is undefined"), "authentication"],
    ["a string", "boom", "authentication"],
    [
      "an aggregate of unavailable errors",
      new AggregateAuthenticationError([new CredentialUnavailableError("a")], "chain failed"),
      "unavailable",
    ],
    [
      "an aggregate with a refusal",
      new AggregateAuthenticationError(
        [new CredentialUnavailableError("a"), entraError("AADSTS700016")],
        "x",
      ),
      "authentication",
    ],
  ])("%s", (_label, error, kind) => {
    expect(failureKind(error)).toBe(kind);
  });
});

describe("failureKind: an identity provider outage is transient, not a refused credential", () => {
  it.each<[string, unknown, "unavailable" | "authentication" | "transient"]>([
    ["token endpoint 503 (ClientSecretCredential)", tokenEndpoint503(), "transient"],
    ["msal's throttled replay of that 503", throttledReplay(), "transient"],
    ["token endpoint refusing connections (msal network_error)", tokenEndpointRefused(), "transient"],
    ["discovery unreachable (endpoints_resolution_error)", discoveryUnreachable(), "transient"],
    [
      "managed identity endpoint 503",
      new CredentialUnavailableError(
        "ManagedIdentityCredential: Authentication failed. Message : Error(s): Not Available - Description: The service is temporarily unavailable.",
        { cause: msalError("ServerError", "", "Error(s): Not Available", 503) },
      ),
      "transient",
    ],
    [
      "managed identity with no endpoint (off Azure) stays unavailable",
      new CredentialUnavailableError(
        "ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error for details",
        { cause: msalError("ClientAuthError", "network_error", "See https://aka.ms/msal.js.errors") },
      ),
      "unavailable",
    ],
    [
      "managed identity refused (400) stays unavailable",
      new CredentialUnavailableError(
        "ManagedIdentityCredential: Authentication failed. Message Identity not found",
        {
          cause: msalError("ServerError", "", "Identity not found", 400),
        },
      ),
      "unavailable",
    ],
    [
      "AuthenticationError 503",
      new AuthenticationError(503, "<html>Service Unavailable</html>"),
      "transient",
    ],
    [
      "AuthenticationError 429",
      new AuthenticationError(429, { error: "temporarily_unavailable", error_description: "AADSTS90055" }),
      "transient",
    ],
    ["refused credentials through msal stay authentication", refusedByMsal(), "authentication"],
    [
      "ECONNREFUSED by code",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" }),
      "transient",
    ],
    [
      "ETIMEDOUT in a cause",
      new Error("request failed", { cause: Object.assign(new Error("x"), { code: "ETIMEDOUT" }) }),
      "transient",
    ],
    ["ENOTFOUND by text", new Error("getaddrinfo ENOTFOUND login.microsoftonline.com"), "transient"],
    ["socket hang up", new Error("socket hang up"), "transient"],
    ["a TimeoutError", Object.assign(new Error("timed out"), { name: "TimeoutError" }), "transient"],
    [
      "a nested chain whose only configured source had an outage",
      new AggregateAuthenticationError([new CredentialUnavailableError("a"), tokenEndpoint503()], "x"),
      "transient",
    ],
  ])("%s", (_label, error, kind) => {
    expect(failureKind(error)).toBe(kind);
    expect(isTransientFailure(error)).toBe(kind === "transient");
  });

  it("describes a 503 as the identity provider failing, with the 60 s msal throttle in the fix", () => {
    const failure = describeFailure(
      { name: "ClientSecretCredential", type: "ClientSecretCredential" },
      tokenEndpoint503(),
    );
    expect(failure.kind).toBe("transient");
    expect(failure.fix).toMatch(
      /^The identity provider failed this request \(HTTP 503\); nothing needs changing if it passes/,
    );
    expect(failure.fix).toMatch(/60 s after a 5xx/);
    const replay = describeFailure(
      { name: "ClientSecretCredential", type: "ClientSecretCredential" },
      throttledReplay(),
    );
    expect(replay.fix).toMatch(/^The identity provider failed this request; /);
  });

  it("describes an unreachable provider with the network fix", () => {
    const refusedDiscovery: ObservedFailure = {
      method: "GET",
      origin: "https://127.0.0.1:41234",
      endpoint: "openid-configuration",
      code: "ECONNREFUSED",
      message: "connect ECONNREFUSED 127.0.0.1:41234",
    };
    for (const [error, observed] of [
      [tokenEndpointRefused(), undefined],
      [discoveryUnreachable(), [refusedDiscovery]],
    ] as const) {
      const failure = describeFailure(
        { name: "ClientSecretCredential", type: "ClientSecretCredential", ...(observed ? { observed } : {}) },
        error,
      );
      expect(failure.kind).toBe("transient");
      expect(failure.fix).toMatch(/could not be reached: check the network, proxy and the authorityHost/);
    }
  });

  it("an unresolved authority with nothing observed (a credential core did not build) lists each cause's fix", () => {
    const failure = describeFailure({ name: "custom[0]", type: "custom" }, discoveryUnreachable());
    expect(failure.kind).toBe("transient");
    expect(failure.fix).toMatch(/^msal could not resolve the authority's endpoints, and it does not say why/);
    expect(failure.fix).toContain("check the network, proxy and authorityHost");
    expect(failure.fix).toContain("pass identityOptions.tlsOptions.ca (or NODE_EXTRA_CA_CERTS)");
    expect(failure.fix).toContain("set disableInstanceDiscovery: true");
  });

  it("leaves the fix out, rather than undefined, when there is none", () => {
    const failure = describeFailure({ name: "custom[0]", type: "custom" }, new Error("something odd"));
    expect("fix" in failure).toBe(false);
    expect(inspect(failure)).not.toContain("undefined");
  });
});

describe("describeFailure: the fix a person would try next", () => {
  const fixOf = (type: string, error: unknown) => describeFailure({ name: type, type }, error).fix;

  it.each<[string, string, unknown, RegExp]>([
    [
      "az not installed",
      "AzureCliCredential",
      new CredentialUnavailableError(
        "Azure CLI could not be found. Please visit https://aka.ms/azure-cli for installation instructions and then, once installed, authenticate to your Azure account using 'az login'.",
      ),
      /^Install the Azure CLI .* and run `az login`/,
    ],
    [
      "az logged out",
      "AzureCliCredential",
      new CredentialUnavailableError(
        "Please run 'az login' from a command prompt to authenticate before using this credential.",
      ),
      /^Run `az login` \(and `az account set --subscription/,
    ],
    [
      "az needs a scoped login",
      "AzureCliCredential",
      new CredentialUnavailableError(
        "ERROR: AADSTS70043: The refresh token has expired.\nInteractive authentication is needed. Please run:\naz login --scope https://database.windows.net//.default",
      ),
      /az login --scope https:\/\/database\.windows\.net\/\/\.default/,
    ],
    [
      "az printed nothing (timeout)",
      "AzureCliCredential",
      new CredentialUnavailableError("Unexpected end of JSON input"),
      /may have timed out/,
    ],
    [
      "azd logged out",
      "AzureDeveloperCliCredential",
      new CredentialUnavailableError("Please run 'azd auth login' from a command prompt"),
      /^Run `azd auth login`/,
    ],
    [
      "azd not installed",
      "AzureDeveloperCliCredential",
      new CredentialUnavailableError("Azure Developer CLI couldn't be found."),
      /Install the Azure Developer CLI/,
    ],
    [
      "no managed identity here",
      "ManagedIdentityCredential",
      new CredentialUnavailableError("Attempted to use the IMDS endpoint, but it is not available."),
      /^Not running on Azure with a managed identity; for a user-assigned identity set AZURE_CLIENT_ID \(or the managedIdentityClientId option\)/,
    ],
    [
      "wrong user-assigned id (App Service)",
      "ManagedIdentityCredential",
      new CredentialUnavailableError(
        "ManagedIdentityCredential: Authentication failed. Message Unable to load the proper Managed Identity.",
      ),
      /assign the user-assigned one/,
    ],
    [
      "environment not configured",
      "EnvironmentCredential",
      new CredentialUnavailableError(
        "EnvironmentCredential is unavailable. No underlying credential could be used.",
      ),
      /Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/,
    ],
    [
      "workload identity not configured",
      "WorkloadIdentityCredential",
      new CredentialUnavailableError(
        "WorkloadIdentityCredential: is unavailable. clientId is a required parameter.",
      ),
      /AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID/,
    ],
    [
      "wrong secret (AADSTS7000215)",
      "ClientSecretCredential",
      entraError("AADSTS7000215: Invalid client secret provided."),
      /^The client secret is wrong or expired: create a new one/,
    ],
    [
      "wrong secret through EnvironmentCredential",
      "EnvironmentCredential",
      new AuthenticationError(400, {
        error: "EnvironmentCredential authentication failed.",
        error_description: "invalid_client AADSTS7000215: Invalid client secret provided.",
      }),
      /^The client secret is wrong or expired/,
    ],
    [
      "unknown app (AADSTS700016)",
      "ClientSecretCredential",
      entraError(
        "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.",
        "unauthorized_client",
      ),
      /^The application \(client id\) was not found in the tenant/,
    ],
    [
      "federated subject mismatch",
      "WorkloadIdentityCredential",
      entraError("AADSTS700213: No matching federated identity record found for presented assertion subject"),
      /federated credential/,
    ],
    [
      "unregistered certificate",
      "ClientCertificateCredential",
      entraError(
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered",
      ),
      /certificate is not registered/,
    ],
    [
      "missing certificate file",
      "ClientCertificateCredential",
      new Error("ENOENT: no such file or directory, open '/etc/sp.pem'"),
      /certificatePath/,
    ],
    [
      "unreachable authority",
      "ClientSecretCredential",
      new Error("endpoints_resolution_error: Error: could not resolve endpoints."),
      /could not be reached/,
    ],
  ])("%s", (_label, type, error, fix) => {
    expect(fixOf(type, error)).toMatch(fix);
  });

  it("no fix is invented for an unknown error of a custom credential", () => {
    expect(fixOf("custom", new Error("something odd"))).toBeUndefined();
  });

  it("keeps the source name, kind and a one-line message", () => {
    const failure = describeFailure(
      { name: "custom[1]", type: "ClientSecretCredential" },
      entraError("AADSTS7000215: Invalid client secret provided.\nTrace ID: 1"),
    );
    expect(failure).toEqual({
      source: "custom[1]",
      kind: "authentication",
      message:
        "invalid_client Status code: 401 More details: AADSTS7000215: Invalid client secret provided. Trace ID: 1,",
      fix: expect.stringMatching(/client secret is wrong/),
    });
  });
});

describe("redactSecrets", () => {
  it.each<[string, string, string]>([
    ["a JWT", `token ${JWT} here`, "token [redacted token] here"],
    [
      "a cut-off JWT in a JSON error",
      `Unexpected token in JSON at "${JWT.slice(0, 25)}`,
      `Unexpected token in JSON at "[redacted token]`,
    ],
    ["an Entra client secret", `secret ${SECRET} end`, "secret [redacted] end"],
    [
      "form fields",
      `client_secret=abc123456&client_assertion=${JWT}`,
      "client_secret=[redacted]&client_assertion=[redacted]",
    ],
    ["JSON fields", `{"access_token":"opaque-value-123"}`, `{"access_token":"[redacted]"}`],
    ["a bearer token", "Authorization: Bearer opaque.token.value", "Authorization: Bearer [redacted]"],
    [
      "a PEM",
      "key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end",
      "key [redacted PEM] end",
    ],
  ])("%s", (_label, input, output) => {
    expect(redactSecrets(input)).toBe(output);
    expect(containsSecret(input)).toBe(true);
    expect(containsSecret(output)).toBe(false);
  });

  it("exact secrets given, and the secret environment variables' values", () => {
    vi.stubEnv("AZURE_CLIENT_SECRET", "plain-env-secret-1");
    expect(redactSecrets("a my-own-secret b plain-env-secret-1 c", ["my-own-secret"])).toBe(
      "a [redacted] b [redacted] c",
    );
  });

  it("caps the length", () => {
    expect(redactSecrets("x".repeat(5000)).length).toBeLessThanOrEqual(600);
  });
});

describe("secretFreeError", () => {
  it("returns the error itself when it holds nothing secret", () => {
    const error = entraError("AADSTS7000215: Invalid client secret provided.");
    expect(secretFreeError(error)).toBe(error);
  });

  it("otherwise a copy of the same class with the redacted message only (no cause, no stack frames)", () => {
    const error = new CredentialUnavailableError(`bad output ${JWT}`, { cause: new Error(JWT) });
    const copy = secretFreeError(error) as Error;
    expect(copy).not.toBe(error);
    expect(copy).toBeInstanceOf(CredentialUnavailableError);
    expect(copy.name).toBe("CredentialUnavailableError");
    expect(copy.message).toBe("bad output [redacted token]");
    expect(inspect(copy, { depth: 5 })).not.toContain(JWT.slice(0, 12));
  });

  it("also when only a nested cause holds the secret", () => {
    const error = new Error("outer", { cause: new Error(`inner ${SECRET}`) });
    expect(inspect(secretFreeError(error), { depth: 5 })).not.toContain(SECRET);
  });
});

// msal reports an untrusted certificate and a failed instance discovery alike (endpoints_resolution_error,
// no cause); what the credential's requests saw (its TransportObserver) tells them apart. The
// observations below are the ones seen with a real ClientSecretCredential against the local Entra ID
// (test/integration/core/idp-setup-errors.test.ts runs them for real).
describe("describeFailure: setups that cannot work, told apart by what the requests saw", () => {
  const source = (observed: ObservedFailure[]) => ({
    name: "ClientSecretCredential",
    type: "ClientSecretCredential",
    secrets: [SECRET],
    observed,
  });
  const untrusted: ObservedFailure = {
    method: "GET",
    origin: "https://127.0.0.1:41234",
    endpoint: "openid-configuration",
    code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    message: "unable to verify the first certificate",
  };
  const discoveryOffline: ObservedFailure = {
    method: "GET",
    origin: "https://login.microsoftonline.com",
    endpoint: "instance-discovery",
    authority: "https://127.0.0.1:41234",
    code: "ENOTFOUND",
    message: "getaddrinfo ENOTFOUND login.microsoftonline.com",
  };

  it("an untrusted certificate: the CA fix, kind unavailable (retrying does not help)", () => {
    const failure = describeFailure(source([untrusted]), discoveryUnreachable());
    expect(failure.kind).toBe("unavailable");
    expect(failure.fix).toBe(
      "The identity endpoint's TLS certificate is not trusted: pass identityOptions.tlsOptions.ca (or NODE_EXTRA_CA_CERTS) " +
        "with the PEM of the CA that issued it (NODE_EXTRA_CA_CERTS names a file and is read when Node starts). " +
        "Node said for https://127.0.0.1:41234: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE).",
    );
    expect(failure.fix).not.toContain("disableInstanceDiscovery");
  });

  it.each<[string, ObservedFailure, RegExp]>([
    [
      "offline: the discovery request failed",
      discoveryOffline,
      /the request failed \(ENOTFOUND: getaddrinfo ENOTFOUND login\.microsoftonline\.com\)\.$/,
    ],
    [
      "online: Entra ID refused the unknown authority (invalid_instance, HTTP 400)",
      {
        method: "GET",
        origin: "https://login.microsoftonline.com",
        endpoint: "instance-discovery",
        authority: "https://127.0.0.1:41234",
        status: 400,
      },
      /the request was answered with HTTP 400\.$/,
    ],
  ])("instance discovery, %s: set disableInstanceDiscovery", (_label, observed, outcome) => {
    const failure = describeFailure(source([observed]), discoveryUnreachable());
    expect(failure.kind).toBe("unavailable");
    expect(failure.fix).toMatch(
      /^Instance discovery failed for a non-public authority: set disableInstanceDiscovery: true \(in identityOptions\) when https:\/\/127\.0\.0\.1:41234 is not Microsoft Entra ID's own authority/,
    );
    expect(failure.fix).toContain(
      "msal asked https://login.microsoftonline.com whether it is a known Entra ID instance",
    );
    expect(failure.fix).toMatch(outcome);
    expect(failure.fix).not.toContain("tlsOptions");
  });

  it("discovery comes first: with both wrong, msal stops at discovery, so that is the fix named", () => {
    expect(describeFailure(source([discoveryOffline, untrusted]), discoveryUnreachable()).fix).toMatch(
      /^Instance discovery failed/,
    );
  });

  it("an error graph that kept Node's TLS error (a custom credential) gets the CA fix too", () => {
    const error = new CredentialUnavailableError("could not get a token", {
      cause: Object.assign(new Error("self-signed certificate in certificate chain"), {
        code: "SELF_SIGNED_CERT_IN_CHAIN",
      }),
    });
    const failure = describeFailure({ name: "custom[0]", type: "custom" }, error);
    expect(failure.kind).toBe("unavailable");
    expect(failure.fix).toMatch(
      /^The identity endpoint's TLS certificate is not trusted: pass identityOptions\.tlsOptions\.ca/,
    );
    expect(failure.fix).toContain(
      "Node said for the identity endpoint: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN).",
    );
  });

  it.each<[string, ObservedFailure, RegExp]>([
    [
      "an expired certificate",
      { ...untrusted, code: "CERT_HAS_EXPIRED", message: "certificate has expired" },
      /has expired or is not valid yet/,
    ],
    [
      "a certificate for another host",
      {
        ...untrusted,
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
        message: "Hostname/IP does not match certificate's altnames",
      },
      /does not name the host it was reached at: use the host name on the certificate in authorityHost/,
    ],
  ])("%s", (_label, observed, fix) => {
    expect(describeFailure(source([observed]), discoveryUnreachable()).fix).toMatch(fix);
  });

  it("a secret inside an observed message is not repeated in the fix", () => {
    const failure = describeFailure(
      source([{ ...untrusted, message: `unable to verify the first certificate ${SECRET}` }]),
      discoveryUnreachable(),
    );
    expect(failure.fix).not.toContain(SECRET);
    expect(failure.fix).toContain("[redacted]");
  });

  it("nothing is diagnosed from requests that failed for other reasons", () => {
    const refusal: ObservedFailure = {
      method: "POST",
      origin: "https://127.0.0.1:41234",
      endpoint: "token",
      status: 401,
    };
    const failure = describeFailure(source([refusal]), refusedByMsal());
    expect(failure.kind).toBe("authentication");
    expect(failure.fix).toMatch(/client secret is wrong/);
  });
});

// @azure/identity 4.13 (what npm installs for Node 20 users, and what the workspace runs) throws the same
// failures without msal's error as `cause`: only the text is left, and the status is in what the
// credential's requests saw.
describe("describeFailure: @azure/identity 4.13's errors (no cause)", () => {
  const outage413 = () =>
    new AuthenticationRequiredError({ scopes: SCOPES, message: `temporarily_unavailable: ${OUTAGE_TEXT}` });
  const replay413 = () =>
    new AuthenticationRequiredError({
      scopes: SCOPES,
      message: "50000: AADSTS50000: The service is temporarily unavailable. Trace ID: 1",
    });
  const refusal413 = () =>
    new AuthenticationRequiredError({
      scopes: SCOPES,
      message: "invalid_client: AADSTS7000215: Invalid client secret provided.",
    });
  const token503: ObservedFailure = {
    method: "POST",
    origin: "https://127.0.0.1:41234",
    endpoint: "token",
    status: 503,
  };
  const sp = { name: "ClientSecretCredential", type: "ClientSecretCredential" };

  it("the token endpoint's 503: transient, with the status the request got", () => {
    const failure = describeFailure({ ...sp, observed: [token503] }, outage413());
    expect(failure.kind).toBe("transient");
    expect(failure.fix).toMatch(/^The identity provider failed this request \(HTTP 503\); /);
  });

  it("msal's throttled replay (no request sent): transient, the provider failing", () => {
    const failure = describeFailure({ ...sp, observed: [] }, replay413());
    expect(failure.kind).toBe("transient");
    expect(failure.fix).toMatch(/^The identity provider failed this request; /);
  });

  it("a refused secret stays a refusal", () => {
    const failure = describeFailure({ ...sp, observed: [{ ...token503, status: 401 }] }, refusal413());
    expect(failure.kind).toBe("authentication");
    expect(failure.fix).toMatch(/client secret is wrong/);
  });
});
