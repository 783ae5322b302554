import type { TokenCredentialOptions } from "@azure/identity";

// What a credential's HTTP requests saw, for the failure description. msal-common (16.17) drops the
// reason why it could not resolve an authority's endpoints: AuthorityFactory.createDiscoveredInstance
// catches whatever resolveEndpointsAsync threw and throws a new `endpoints_resolution_error` without
// a cause, and @azure/identity turns that into a CredentialUnavailableError with the same text. An
// untrusted TLS certificate on the authority and a failed instance discovery (a non-Microsoft
// authority without `disableInstanceDiscovery`) therefore look identical in the error. The requests
// themselves do differ: each credential core builds gets this observer as a pipeline policy, which
// keeps the failed requests of the current getToken call (method, origin, path, status or error code
// and Node's message; never a body, header or query string).

type AdditionalPolicy = NonNullable<TokenCredentialOptions["additionalPolicies"]>[number];
type Policy = AdditionalPolicy["policy"];
type Request = Parameters<Policy["sendRequest"]>[0];
type Next = Parameters<Policy["sendRequest"]>[1];

/** Which identity endpoint a request went to. */
export type ObservedEndpoint = "instance-discovery" | "openid-configuration" | "token" | "other";

/** One request that failed: an error before a response, or an HTTP status >= 400. */
export interface ObservedFailure {
  method: string;
  /** `https://host:port` of the request. */
  origin: string;
  endpoint: ObservedEndpoint;
  /** For instance discovery: the origin of the authority msal asked about (`authorization_endpoint`). */
  authority?: string;
  /** The HTTP status, when the server answered. */
  status?: number;
  /** Node's (or the pipeline's) error code, when no response came, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  code?: string;
  /** Node's error message, e.g. "unable to verify the first certificate". */
  message?: string;
}

/** Most failed requests kept per call; the first ones are the telling ones. */
const MAX_KEPT = 8;

export class TransportObserver {
  #failures: ObservedFailure[] = [];

  /** The policy to add to a credential's `additionalPolicies` (position perCall: it sees the outcome after retries). */
  readonly policy: AdditionalPolicy = {
    position: "perCall",
    policy: {
      name: "entraSqlTransportObserver",
      sendRequest: async (request: Request, next: Next) => {
        try {
          const response = await next(request);
          if (response.status >= 400) this.#keep(describeRequest(request, { status: response.status }));
          return response;
        } catch (error) {
          this.#keep(describeRequest(request, errorFields(error)));
          throw error;
        }
      },
    },
  };

  /** Forgets what earlier calls saw (the chain calls it before each getToken of the source). */
  reset(): void {
    this.#failures = [];
  }

  /** The failed requests since the last reset, oldest first. */
  failures(): readonly ObservedFailure[] {
    return this.#failures;
  }

  #keep(failure: ObservedFailure): void {
    if (this.#failures.length < MAX_KEPT) this.#failures.push(failure);
  }
}

/** `options` with the observer's policy added after the caller's own additional policies. */
export function withObserver<T extends TokenCredentialOptions>(options: T, observer: TransportObserver): T {
  return { ...options, additionalPolicies: [...(options.additionalPolicies ?? []), observer.policy] };
}

function describeRequest(request: Request, outcome: Pick<ObservedFailure, "status" | "code" | "message">) {
  let url: URL | undefined;
  try {
    url = new URL(request.url);
  } catch {
    url = undefined;
  }
  const endpoint = endpointOf(url?.pathname ?? "");
  const failure: ObservedFailure = {
    method: request.method,
    origin: url?.origin ?? "(unparsable URL)",
    endpoint,
    ...definedOnly(outcome),
  };
  if (endpoint === "instance-discovery" && url) {
    const asked = url.searchParams.get("authorization_endpoint");
    const authority = asked ? originOf(asked) : undefined;
    if (authority) failure.authority = authority;
  }
  return failure;
}

function endpointOf(pathname: string): ObservedEndpoint {
  if (/\/discovery\/instance\/?$/.test(pathname)) return "instance-discovery";
  if (/\/\.well-known\/openid-configuration\/?$/.test(pathname)) return "openid-configuration";
  if (/\/oauth2\/(v2\.0\/)?token\/?$/.test(pathname)) return "token";
  return "other";
}

function originOf(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

function errorFields(error: unknown): Pick<ObservedFailure, "code" | "message"> {
  if (typeof error !== "object" || error === null) return { message: String(error).slice(0, 200) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return definedOnly({
    code: typeof code === "string" ? code : undefined,
    message: typeof message === "string" ? message.slice(0, 200) : undefined,
  });
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
