// Names for the IdP's endpoints and listeners, shared by faults, counters, the request log and events.

/** What a request is for. */
export type EndpointName = "discovery" | "jwks" | "token" | "appService" | "imds" | "cli";

export const ENDPOINT_NAMES: readonly EndpointName[] = [
  "discovery",
  "jwks",
  "token",
  "appService",
  "imds",
  "cli",
];

/**
 * The listening sockets. `authority` is the HTTPS server for discovery, JWKS, token and the
 * federated issuer's documents; the managed-identity protocols use plain http like the real ones;
 * `cli` is the loopback bridge the fake az/azd scripts call.
 */
export type ListenerName = "authority" | "appService" | "imds" | "cli";

export const LISTENER_OF: Readonly<Record<EndpointName, ListenerName>> = {
  discovery: "authority",
  jwks: "authority",
  token: "authority",
  appService: "appService",
  imds: "imds",
  cli: "cli",
};
